/**
 * The StarRocks sink against the loopback StarRocks test server (test/services/starrocks/), which
 * stands in for StarRocks: the numbers are the sink's and the HTTP path's cost, not StarRocks'.
 *
 *   starrocks-write      rows/s through a job (datagen -> exactly-once sink, parallelism 1, 1 s
 *                        checkpoints, 10k-row loads), against the same rows sent straight with fetch
 *                        as Stream Loads of 10k rows (the client the sink adds to). Marginal: the
 *                        time of a 1k-row run (job start, the wait for the final checkpoint: about
 *                        2.8 s at load 16) is subtracted, so the number is the sink's rate
 *   starrocks-freshness  event -> visible row at 1 s checkpoints, 2000 rows/s for 10 s: for every
 *                        row, the time it was first seen in the table minus the time the source
 *                        emitted it (polled every 20 ms); median (p99 printed)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MiniCluster } from 'weir';
import { StarRocksTestServer } from '../test/services/starrocks/process.ts';
import job, { benchRow, type StarRocksBenchParams } from './jobs/starrocks.ts';
import { median, perSecond, type Benchmark, type Measurement } from './harness.ts';

const ROWS = 200_000;
const BATCH = 10_000;
const SMALL = 1000;
const FRESHNESS_RATE = 2000;
const FRESHNESS_SECONDS = 10;
let tableNo = 0;

async function withServer<R>(f: (server: StarRocksTestServer, dir: string) => Promise<R>): Promise<R> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-starrocks-bench-'));
  const server = await StarRocksTestServer.start({ stateDir: path.join(dir, 'server') });
  try {
    return await f(server, dir);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function table(server: StarRocksTestServer): Promise<string> {
  const name = `rows_${++tableNo}`;
  await server.createTable({ db: 'bench', table: name, columns: [{ name: 'id', type: 'BIGINT' }, { name: 'name', type: 'VARCHAR' }, { name: 'price', type: 'DOUBLE' }, { name: 'createdAt', type: 'BIGINT' }], primaryKey: [] });
  return name;
}

function cluster(dir: string): MiniCluster {
  return new MiniCluster({ workers: 1, workDir: path.join(dir, 'work'), checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } } });
}

function params(server: StarRocksTestServer, t: string, extra: Partial<StarRocksBenchParams>): StarRocksBenchParams {
  return { count: ROWS, stamp: false, feUrl: server.feUrl, user: server.user, password: server.password, table: t, maxRows: BATCH, ...extra };
}

const write: Benchmark = {
  name: 'starrocks-write',
  metric: `rows/s into a StarRocks table (loopback test server) through the exactly-once sink, ${ROWS / 1000}k rows, ${BATCH / 1000}k-row loads, 1 s checkpoints, the time of a 1k-row run (job start, final checkpoint) subtracted`,
  unit: 'rows/s',
  runs: 2,
  run: () =>
    withServer(async (server, dir) => {
      const timed = async (count: number): Promise<number> => {
        const t = await table(server);
        const started = performance.now();
        await cluster(path.join(dir, t)).execute(job, { params: params(server, t, { count }), parallelism: 1 });
        const ms = performance.now() - started;
        const loaded = (await server.rows('bench', t)).length;
        if (loaded !== count) throw new Error(`expected ${count} rows, found ${loaded}`);
        return ms;
      };
      const fixed = await timed(SMALL);
      const full = await timed(ROWS);
      console.log(`starrocks-write: ${ROWS} rows in ${Math.round(full)} ms, ${SMALL} rows in ${Math.round(fixed)} ms`);
      return { value: perSecond(ROWS - SMALL, full - fixed) };
    }),
  baseline: () =>
    withServer(async (server) => {
      const t = await table(server);
      const auth = `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}`;
      const started = performance.now();
      for (let from = 0, n = 0; from < ROWS; from += BATCH, n++) {
        const rows: string[] = [];
        for (let i = from; i < Math.min(ROWS, from + BATCH); i++) rows.push(JSON.stringify(benchRow(i, false)));
        // straight to the BE: no redirect, no transaction, one request per batch
        const res = await fetch(`http://127.0.0.1:${server.bePort}/api/bench/${t}/_stream_load`, {
          method: 'PUT',
          headers: { authorization: auth, label: `${t}-${n}`, format: 'json', strip_outer_array: 'true' },
          body: `[${rows.join(',')}]`,
        });
        const answer = (await res.json()) as { Status: string };
        if (answer.Status !== 'Success') throw new Error(`Stream Load failed: ${JSON.stringify(answer)}`);
      }
      return { value: perSecond(ROWS, performance.now() - started) };
    }),
};

export const freshnessStats: { p99?: number; rows?: number } = {};

const freshness: Benchmark = {
  name: 'starrocks-freshness',
  metric: `ms from event to visible row in StarRocks (loopback test server), exactly-once sink, 1 s checkpoints, ${FRESHNESS_RATE} rows/s for ${FRESHNESS_SECONDS} s, median over rows`,
  unit: 'ms',
  lowerIsBetter: true,
  runs: 1,
  run: () =>
    withServer(async (server, dir): Promise<Measurement> => {
      const t = await table(server);
      const count = FRESHNESS_RATE * FRESHNESS_SECONDS;
      const handle = await cluster(dir).submit(job, { params: params(server, t, { count, ratePerSecond: FRESHNESS_RATE, stamp: true, maxRows: 1000 }), parallelism: 1 });
      let done = false;
      void handle.result().finally(() => (done = true));
      const ages: number[] = [];
      while (!done) {
        await new Promise((r) => setTimeout(r, 20));
        const fresh = await server.rowsFrom('bench', t, ages.length);
        const seenAt = Date.now();
        for (const r of fresh) ages.push(seenAt - (r.createdAt as number));
      }
      await handle.result();
      ages.sort((a, b) => a - b);
      freshnessStats.p99 = ages[Math.floor(ages.length * 0.99)] ?? 0;
      freshnessStats.rows = ages.length;
      console.log(`starrocks-freshness: ${ages.length} rows seen while running, median ${median(ages)} ms, p99 ${freshnessStats.p99} ms`);
      return { value: median(ages) };
    }),
};

export default [write, freshness];
