/**
 * The StarRocks sink against the loopback StarRocks test server (test/services/starrocks/), one
 * subtask driven through checkpoints, crashes and restores (harness-run.ts). Failures are injected at
 * every step of the protocol (begin, load, prepare, commit, get_load_state, rollback: failed answers,
 * 5xx, dropped connections, lost answers, a server crash right after a step, a server restart between
 * prepare and commit, a job crash between prepare and commit); each run's final table must equal the
 * failure-free run's, and no label may be begun twice (the server's label log).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from 'weir';
import { starrocksSink, StarRocksError, type StarRocksSinkOptions } from 'weir/starrocks';
import { StarRocksTestServer } from '../../services/starrocks/process.ts';
import type { Fault } from '../../services/starrocks/server.ts';
import { runWithCrashes, type Phase } from './harness-run.ts';
import { SinkHarness } from '../../harness/sink-harness.ts';

interface Event {
  id: number;
  name: string;
  seq: number;
}

const BATCHES = 6;
const PER_BATCH = 40;
const events: Event[][] = Array.from({ length: BATCHES }, (_, b) => Array.from({ length: PER_BATCH }, (_, i) => ({ id: b * PER_BATCH + i, name: `n${(b * 7 + i) % 13}`, seq: b })));
const expectedEvents = events.flat().sort((a, b) => a.id - b.id);

let server: StarRocksTestServer;
let tableNo = 0;

beforeAll(async () => {
  server = await StarRocksTestServer.start();
});
afterAll(async () => {
  await server?.stop();
});

/** A fresh Duplicate Key table: a row loaded twice shows twice, so exactly-once is visible in the table. */
async function appendTable(): Promise<string> {
  const table = `events_${++tableNo}`;
  await server.createTable({ db: 'weir', table, columns: [{ name: 'id', type: 'INT' }, { name: 'name', type: 'VARCHAR' }, { name: 'seq', type: 'INT' }], primaryKey: [] });
  return table;
}

function options<R extends object = Event>(table: string, extra: Partial<StarRocksSinkOptions<R>> = {}): StarRocksSinkOptions<R> {
  return {
    feUrl: server.feUrl,
    database: 'weir',
    table,
    user: server.user,
    password: server.password,
    labelPrefix: table,
    retry: { attempts: 4, backoffMs: 10, maxBackoffMs: 100 },
    commitRetry: { attempts: 4, backoffMs: 10, maxBackoffMs: 100 },
    buffer: { maxRows: 15, flushIntervalMs: 0 }, // several loads per transaction
    ...extra,
  };
}

async function sortedRows(table: string): Promise<Event[]> {
  return ((await server.rows('weir', table)) as unknown as Event[]).sort((a, b) => a.id - b.id);
}

/** Waits until no transaction of the table is COMMITTED but not yet VISIBLE (the server publishes every 50 ms). */
async function publishedAll(table: string): Promise<void> {
  const committed = async (): Promise<number> => (await server.transactions()).filter((t) => t.label.startsWith(table) && t.state === 'COMMITTED').length;
  while ((await committed()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Labels whose begin (or Stream Load) succeeded more than once. */
async function reusedLabels(prefix: string): Promise<string[]> {
  const seen = new Map<string, number>();
  for (const e of await server.labels()) {
    if (!e.label.startsWith(prefix) || e.result !== 'OK' || (e.event !== 'begin' && e.event !== 'stream_load')) continue;
    seen.set(e.label, (seen.get(e.label) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([l]) => l);
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Injects `fault` once, right before `phase` of checkpoint `at`. */
function injectAt(phase: Phase, at: number, ...faults: Fault[]): (p: Phase, id: number) => Promise<void> {
  let done = false;
  return async (p, id) => {
    if (done || p !== phase || id !== at) return;
    done = true;
    await server.inject(...faults);
  };
}

/** Restarts the server whenever an injected crash ends it (like a supervisor would). */
function superviseServer(): () => void {
  let stopped = false;
  const watch = (): void => {
    void server.waitForExit().then(async () => {
      if (stopped) return;
      await server.restart();
      watch();
    });
  };
  watch();
  return () => (stopped = true);
}

describe('StarRocks sink, exactly-once', () => {
  it('a failure-free run: rows become visible only when their checkpoint completes', async () => {
    const table = await appendTable();
    const h = await SinkHarness.open(starrocksSink<Event>(options(table)));
    await h.write(events[0]!);
    await h.checkpoint(1);
    expect(await server.rows('weir', table)).toEqual([]); // prepared, not committed
    const prepared = (await server.transactions()).filter((t) => t.label.startsWith(table));
    expect(prepared.map((t) => t.state)).toEqual(['PREPARED']);
    await h.complete(1);
    expect(await sortedRows(table)).toEqual(events[0]);
    await h.close();
    const log = (await server.labels()).filter((e) => e.label.startsWith(table));
    expect(log.map((e) => e.event)).toEqual(['begin', 'load', 'load', 'load', 'prepare', 'commit', 'publish']);
    expect(log[0]!.label).toBe(`${table}-${table}-0-1-1`);

    const again = await appendTable();
    const r = await runWithCrashes(starrocksSink<Event>(options(again)), events);
    expect(r.crashes).toEqual([]);
    expect(await sortedRows(again)).toEqual(expectedEvents);
    expect(await reusedLabels(again)).toEqual([]);
  });

  const faults: { name: string; phase: Phase; at: number; faults: Fault[]; crashes: number | 'some'; extra?: Partial<StarRocksSinkOptions<Event>> }[] = [
    { name: 'begin answers FAILED', phase: 'write', at: 2, faults: [{ op: 'begin', kind: 'fail' }], crashes: 1 },
    { name: 'begin answers 500 (retried)', phase: 'write', at: 2, faults: [{ op: 'begin', kind: 'http500' }], crashes: 0 },
    { name: 'begin answer lost (retried: label in use, a new epoch)', phase: 'write', at: 2, faults: [{ op: 'begin', kind: 'drop-after' }], crashes: 0 },
    { name: 'load answers FAILED', phase: 'write', at: 3, faults: [{ op: 'load', kind: 'fail' }], crashes: 1 },
    { name: 'load answers 500', phase: 'write', at: 3, faults: [{ op: 'load', kind: 'http500' }], crashes: 1 },
    { name: 'load answer lost after the rows went in', phase: 'write', at: 3, faults: [{ op: 'load', kind: 'drop-after' }], crashes: 1 },
    { name: 'prepare answers FAILED', phase: 'checkpoint', at: 2, faults: [{ op: 'prepare', kind: 'fail' }], crashes: 1 },
    { name: 'prepare answer lost (retried: already prepared)', phase: 'checkpoint', at: 2, faults: [{ op: 'prepare', kind: 'drop-after' }], crashes: 0 },
    { name: 'commit answers FAILED (retried)', phase: 'complete', at: 2, faults: [{ op: 'commit', kind: 'fail' }], crashes: 0 },
    { name: 'commit answer lost after it committed', phase: 'complete', at: 2, faults: [{ op: 'commit', kind: 'drop-after' }], crashes: 0 },
    { name: 'commit publish timeout', phase: 'complete', at: 2, faults: [{ op: 'commit', kind: 'publish-timeout' }], crashes: 0 },
    { name: 'commit answers after the client gave up (request timeout; retried)', phase: 'complete', at: 2, faults: [{ op: 'commit', kind: 'delay', ms: 1200 }], crashes: 'some', extra: { requestTimeoutMs: 400 } },
    { name: 'prepare answers after the client gave up (request timeout; retried)', phase: 'checkpoint', at: 3, faults: [{ op: 'prepare', kind: 'delay', ms: 1200 }], crashes: 'some', extra: { requestTimeoutMs: 400 } },
    { name: 'commit keeps failing: the job restarts and the restore commits', phase: 'complete', at: 4, faults: [{ op: 'commit', kind: 'fail', count: 4 }], crashes: 1 },
    { name: 'get_load_state fails during the restore probe', phase: 'write', at: 3, faults: [{ op: 'load', kind: 'fail' }, { op: 'get_load_state', kind: 'http500', count: 2 }], crashes: 1 },
    { name: 'rollback of the failed transaction fails', phase: 'write', at: 3, faults: [{ op: 'load', kind: 'fail' }, { op: 'rollback', kind: 'drop' }], crashes: 1 },
  ];
  for (const f of faults) {
    it(`${f.name}: the table equals the failure-free run, no label reused`, async () => {
      const table = await appendTable();
      const r = await runWithCrashes(starrocksSink<Event>(options(table, f.extra)), events, { before: injectAt(f.phase, f.at, ...f.faults) });
      if (f.crashes !== 'some') expect(r.crashes.length).toBe(f.crashes);
      // COMMITTED is done for the sink (as for StarRocks' own connector); a reader sees the rows once
      // the server published them, a moment later
      await publishedAll(table);
      expect(await sortedRows(table)).toEqual(expectedEvents);
      expect(await reusedLabels(table)).toEqual([]);
      await server.clearFaults();
    });
  }

  it('the server crashes right after each step (begin, load, prepare, commit): the table equals the failure-free run', async () => {
    const stop = superviseServer();
    try {
      for (const op of ['begin', 'load', 'prepare', 'commit'] as const) {
        const table = await appendTable();
        const phase: Phase = op === 'commit' ? 'complete' : op === 'prepare' ? 'checkpoint' : 'write';
        await runWithCrashes(starrocksSink<Event>(options(table)), events, { before: injectAt(phase, 3, { op, kind: 'crash-after' }) });
        expect(await sortedRows(table), `crash after ${op}`).toEqual(expectedEvents);
        expect(await reusedLabels(table)).toEqual([]);
      }
    } finally {
      stop();
    }
  });

  it('a server restart between prepare and commit: the prepared transaction survives and is committed', async () => {
    const table = await appendTable();
    const r = await runWithCrashes(starrocksSink<Event>(options(table)), events, {
      before: async (p, id) => {
        if (p === 'complete' && id === 3) await server.restart();
      },
    });
    expect(r.crashes).toEqual([]);
    expect(await sortedRows(table)).toEqual(expectedEvents);
  });

  it('a job crash between prepare and commit: the restore commits the completed checkpoint and rolls back the one after', async () => {
    const table = await appendTable();
    let crashedAt: number | undefined;
    const r = await runWithCrashes(starrocksSink<Event>(options(table)), events, {
      before: (p, id) => {
        if (crashedAt === undefined && p === 'complete' && id === 2) {
          crashedAt = id;
          throw new Error('crash after checkpoint 2 completed, before its commit');
        }
        if (p === 'prepared' && id === 4) throw new Error('crash after the barrier of 4, before it completed');
      },
    });
    expect(r.crashes.length).toBe(2);
    expect(await sortedRows(table)).toEqual(expectedEvents);
    expect(await reusedLabels(table)).toEqual([]);
    // the prepared transaction of checkpoint 4, which never completed, was rolled back on restore
    const txns = (await server.transactions()).filter((t) => t.label.startsWith(table));
    expect(txns.filter((t) => t.state === 'PREPARED' || t.state === 'PREPARE')).toEqual([]);
    expect(txns.some((t) => t.state === 'ABORTED' && t.reason === 'rolled back by the client')).toBe(true);
  });

  it('after a failed prepare the writer refuses further records: the runtime only declines the checkpoint, the rows must be replayed', async () => {
    const table = await appendTable();
    const h = await SinkHarness.open(starrocksSink<Event>(options(table)));
    await h.write(events[0]!);
    await server.inject({ op: 'prepare', kind: 'fail' });
    await expect(h.checkpoint(1)).rejects.toThrow(/transaction prepare/);
    // the task goes on after a declined checkpoint; the next record fails it (and the job restarts)
    await expect(Promise.resolve().then(() => h.write(events[1]!))).rejects.toThrow(/transaction prepare/);
    await expect(h.checkpoint(2)).rejects.toThrow(/transaction prepare/);
    expect(await server.rows('weir', table)).toEqual([]);
  });

  it('a crash before the first checkpoint completed, then a fresh start: the leftover is rolled back, its label not reused', async () => {
    const table = await appendTable();
    const sink = starrocksSink<Event>(options(table));
    const first = await SinkHarness.open(sink);
    await first.write(events[0]!);
    await first.checkpoint(1); // prepared; the job dies before checkpoint 1 completes
    const r = await runWithCrashes(sink, events);
    expect(r.crashes).toEqual([]);
    expect(await sortedRows(table)).toEqual(expectedEvents);
    expect(await reusedLabels(table)).toEqual([]);
    const leftover = (await server.transactions()).find((t) => t.label === `${table}-${table}-0-1-1`);
    expect(leftover?.state).toBe('ABORTED');
  });

  it('upserts, deletes and updates into a Primary Key table; CSV and JSON give the same table', async () => {
    interface Acc {
      id: number;
      owner: string;
      balance: number;
    }
    const changes: (Acc | Change<Acc>)[][] = [
      [{ id: 1, owner: 'a', balance: 10 }, { id: 2, owner: 'b', balance: 20 }, { kind: '+I', row: { id: 3, owner: 'c', balance: 30 } }],
      [{ kind: '-U', row: { id: 1, owner: 'a', balance: 10 } }, { kind: '+U', row: { id: 1, owner: 'a', balance: 15 } }, { kind: '-D', row: { id: 2, owner: 'b', balance: 20 } }],
      [{ kind: '+I', row: { id: 2, owner: 'b2', balance: 0 } }, { kind: '-D', row: { id: 3, owner: 'c', balance: 30 } }],
    ];
    const result: unknown[][] = [];
    for (const format of ['json', 'csv'] as const) {
      const table = `accounts_${format}`;
      await server.createTable({ db: 'weir', table, columns: [{ name: 'id', type: 'INT' }, { name: 'owner', type: 'VARCHAR' }, { name: 'balance', type: 'INT' }], primaryKey: ['id'] });
      await runWithCrashes(starrocksSink<Acc>(options<Acc>(table, { primaryKey: ['id'], format })), changes, { before: injectAt('write', 2, { op: 'load', kind: 'fail' }) });
      result.push(await server.rows('weir', table));
    }
    expect(result[0]).toEqual([
      { id: 1, owner: 'a', balance: 15 },
      { id: 2, owner: 'b2', balance: 0 },
    ]);
    expect(result[1]).toEqual(result[0]);
  });

  it('partial updates change only the given columns', async () => {
    const table = 'partial';
    await server.createTable({ db: 'weir', table, columns: [{ name: 'id', type: 'INT' }, { name: 'owner', type: 'VARCHAR' }, { name: 'balance', type: 'INT' }], primaryKey: ['id'] });
    await runWithCrashes(starrocksSink(options<{ id: number; owner: string; balance: number }>(table, { primaryKey: ['id'] })), [[{ id: 1, owner: 'a', balance: 1 }, { id: 2, owner: 'b', balance: 2 }]]);
    await runWithCrashes(starrocksSink(options<{ id: number; balance: number }>(table, { labelPrefix: 'partial2', primaryKey: ['id'], partialUpdate: true })), [[{ id: 2, balance: 20 }]]);
    expect(await server.rows('weir', table)).toEqual([
      { id: 1, owner: 'a', balance: 1 },
      { id: 2, owner: 'b', balance: 20 },
    ]);
  });
});

describe('StarRocks sink, timeouts and FE failover', () => {
  const timeouts: { name: string; extra: Partial<StarRocksSinkOptions<Event>>; advanceMs: number }[] = [
    { name: 'timeout (not prepared in time)', extra: { transactionTimeoutS: 60 }, advanceMs: 61_000 },
    { name: 'idle_transaction_timeout (no load for too long)', extra: { idleTransactionTimeoutS: 5 }, advanceMs: 6_000 },
  ];
  for (const t of timeouts) {
    it(`a transaction past its ${t.name} is rolled back by StarRocks: the checkpoint fails, the restore replays`, async () => {
      const table = await appendTable();
      let advanced = false;
      const r = await runWithCrashes(starrocksSink<Event>(options(table, t.extra)), events, {
        before: async (p, id) => {
          // checkpoint 2's transaction is open (its first loads went in); the next load or the prepare finds it aborted
          if (!advanced && p === 'checkpoint' && id === 2) {
            advanced = true;
            await server.advanceClock(t.advanceMs);
          }
        },
      });
      expect(advanced).toBe(true);
      expect(r.crashes.length).toBe(1);
      expect(String((r.crashes[0] as Error).message)).toMatch(/StarRocks transaction (load|prepare) of label '.*' failed: Status 'FAILED'/);
      expect(await sortedRows(table)).toEqual(expectedEvents);
      expect(await reusedLabels(table)).toEqual([]);
      const aborted = (await server.transactions()).filter((x) => x.label.startsWith(table) && x.state === 'ABORTED').map((x) => x.reason);
      expect(aborted.some((reason) => /timeout/.test(reason ?? ''))).toBe(true);
    });
  }

  it('a prepared transaction whose prepared_timeout passed before the commit fails the commit, naming the lost checkpoint', async () => {
    const table = await appendTable();
    const h = await SinkHarness.open(starrocksSink<Event>(options(table, { preparedTimeoutS: 30, commitRetry: { attempts: 2, backoffMs: 1, maxBackoffMs: 1 } })));
    await h.write(events[0]!);
    await h.checkpoint(1);
    await server.advanceClock(31_000);
    const e = await h.complete(1).then(() => undefined, (err: unknown) => err);
    expect((e as Error).message).toMatch(/label state 'ABORTED'.*checkpoint 1 \(40 rows\) is gone.*prepared_timeout/);
    expect(await server.rows('weir', table)).toEqual([]);
  });

  it('an FE that does not answer is skipped: requests go to the next one', async () => {
    const table = await appendTable();
    const dead = `http://127.0.0.1:${await closedPort()}`; // connection refused
    const r = await runWithCrashes(starrocksSink<Event>(options(table, { feUrl: [dead, server.feUrl] })), events);
    expect(r.crashes).toEqual([]);
    expect(await sortedRows(table)).toEqual(expectedEvents);
  });
});

describe('StarRocks sink, at-least-once', () => {
  it('Stream Loads with labels: a lost answer is sent again and deduplicated ("Label Already Exists", FINISHED)', async () => {
    const table = await appendTable();
    let injected = false;
    const r = await runWithCrashes(starrocksSink<Event>(options(table, { semantic: 'at-least-once' })), events, {
      before: async (p, id) => {
        if (!injected && p === 'write' && id === 2) {
          injected = true;
          await server.inject({ op: 'stream_load', kind: 'drop-after' }, { op: 'stream_load', kind: 'http500' });
        }
      },
    });
    expect(r.crashes).toEqual([]);
    expect(await sortedRows(table)).toEqual(expectedEvents); // no duplicate despite the resend
    const log = (await server.labels()).filter((e) => e.label.startsWith(table) && e.event === 'stream_load');
    expect(log.some((e) => e.result === 'LABEL_ALREADY_EXISTS')).toBe(true);
    expect(await reusedLabels(table)).toEqual([]);
  });
});

describe('StarRocks sink errors', () => {
  it('quote Status, Message and ErrorURL of the answer, and never the password', async () => {
    const table = await appendTable();
    const h = await SinkHarness.open(starrocksSink(options<{ id: string }>(table)));
    await h.write([{ id: 'not a number' }]);
    const e = await h.checkpoint(1).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(StarRocksError);
    const message = (e as Error).message;
    expect(message).toMatch(/Status 'FAILED'/);
    expect(message).toMatch(/Message 'too many filtered rows'/);
    expect(message).toMatch(/ErrorURL http:\/\/127\.0\.0\.1:\d+\/api\/_load_error_log/);
    const url = /ErrorURL (\S+)/.exec(message)![1]!;
    const rejected = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}` } }).then((r) => r.text());
    expect(rejected).toMatch(/column 'id' is not a INT/);
    expect(message).not.toContain(server.password);
  });

  it('a schema-change record fails with an error that names it (StarRocks DDL is not on the HTTP API)', async () => {
    const table = await appendTable();
    const h = await SinkHarness.open(starrocksSink<Event>(options(table)));
    await h.write(events[0]!);
    const e = await Promise.resolve(h.write([{ schemaChange: { kind: 'addColumn', column: 'extra', type: 'VARCHAR' } }])).then(() => undefined, (err: unknown) => err);
    expect((e as Error).message).toMatch(/schema change .*addColumn.*cannot change table '.*': StarRocks takes DDL over its MySQL protocol/);
    expect(await server.rows('weir', table)).toEqual([]);
  });

  it('a wrong password is an error that names the user, not the password', async () => {
    const table = await appendTable();
    const wrong = 'not-the-password-123';
    const e = await SinkHarness.open(starrocksSink<Event>({ ...options(table), password: wrong })).then(() => undefined, (err: unknown) => err);
    expect((e as Error).message).toMatch(/HTTP 401.*user 'root'/);
    expect((e as Error).message).not.toContain(wrong);
    expect(JSON.stringify(e)).not.toContain(wrong);
  });

  it('the BE refuses a load without the Authorization header: the sink keeps it across the 307', async () => {
    // what fetch does on its own: follows the redirect to the BE and drops the header there
    const res = await fetch(`${server.feUrl}/api/transaction/begin`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}`, label: 'plain-fetch', db: 'weir', table: 'events_1' },
    });
    expect(res.status).toBe(401);
    expect(res.url).toContain(`:${server.bePort}/`);
  });
});
