/**
 * The MySQL CDC source against a real MariaDB (test/services/mysql.sh): a parallel snapshot of a
 * table while another connection inserts, updates and deletes, the hand-off to the binlog, and
 * crashes (a checkpoint, more work that is lost, a restore from the checkpoint at another
 * parallelism) during the snapshot and during the binlog phase. The records that count are those
 * emitted up to each checkpoint plus those of the restored run; replaying them strictly (a
 * duplicate +I or a -U/-D of a row that is not there fails) must give the table's final content.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlCdcSource, type CdcRecord, type MySqlCdcOptions, type MySqlCdcSplit } from '../../../connectors/mysql/index.ts';
import type { EnumeratorState } from '../../../connectors/mysql/cdc/enumerator.ts';
import { comparePositions } from '../../../connectors/mysql/cdc/position.ts';
import { SourceHarness, type SourceSnapshot } from '../../harness/source-harness.ts';
import { connect, connOptions, freshDatabase, masterPosition, normalize, replay, startWriter } from './cdc-helpers.ts';

const ROWS = 100_000;
const CHUNK = 10_000;

let conn: mysql.Connection;
let writerConn: mysql.Connection;
const dbs: string[] = [];

beforeAll(async () => {
  conn = await connect();
  writerConn = await connect();
});
afterAll(async () => {
  for (const db of dbs) await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
  await writerConn.end();
});

type Harness = SourceHarness<CdcRecord, MySqlCdcSplit, EnumeratorState>;

let checkpointId = 0;

/**
 * Polls every reader until `until()` holds; when all wait, completes a checkpoint (the binlog split
 * goes out only after one that follows the last chunk) and waits on `available()`.
 */
async function run(h: Harness, until: () => boolean): Promise<void> {
  while (!until()) {
    if (h.errors.length > 0) throw h.errors[0];
    let progressed = false;
    for (let i = 0; i < h.parallelism; i++) if (h.poll(i, 1000) === 'more') progressed = true;
    if (!progressed && !until()) {
      const id = ++checkpointId;
      h.snapshot(id);
      h.coordinator.checkpointComplete(id);
      await Promise.race([...h.readers.map((r) => r.available()), new Promise((r) => setTimeout(r, 50))]);
    }
  }
}

/**
 * The records in the order a downstream operator sees them: the binlog split goes out only after a
 * checkpoint that follows every chunk, so every chunk row comes before every binlog row.
 */
function ordered(h: Harness, counts?: number[]): CdcRecord[] {
  const upTo = h.outputs.map((o, i) => o.emitted.slice(0, counts ? counts[i] : undefined));
  return [...upTo.flatMap((l) => l.filter((e) => e.split !== 'binlog')), ...upTo.flatMap((l) => l.filter((e) => e.split === 'binlog'))].map((e) => e.value);
}

function binlogSplit(h: Harness) {
  for (const r of h.readers) for (const s of r.snapshotState(0)) if (s.kind === 'binlog') return s;
  return undefined;
}

async function caughtUp(h: Harness): Promise<() => boolean> {
  const end = await masterPosition(conn);
  return () => {
    const b = binlogSplit(h);
    return b?.start != null && comparePositions(b.start, end) >= 0;
  };
}

async function seed(db: string, rows: number): Promise<string> {
  const t = `\`${db}\`.t`;
  await conn.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(32))`);
  for (let i = 0; i < rows; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, rows - i) }, (_, j) => [i + j, (i + j) % 997, `s${i + j}`]);
    await conn.query(`INSERT INTO ${t} (id, v, note) VALUES ?`, [batch]);
  }
  return t;
}

async function tableRows(t: string): Promise<string[]> {
  const [rows] = (await conn.query(`SELECT id, v, note FROM ${t}`)) as unknown as [Record<string, unknown>[]];
  return normalize(rows.map((r) => ({ id: Number(r.id), v: Number(r.v), note: r.note })));
}


describe('MySQL CDC: snapshot under writes, hand-off, crashes', () => {
  it(`snapshot of ${ROWS} rows at parallelism 3 while another connection writes; crash mid-snapshot (restore at p2) and in the binlog phase (restore at p1): every change exactly once`, async () => {
    const db = await freshDatabase(conn, 'cdc_handoff');
    dbs.push(db);
    const t = await seed(db, ROWS);
    const options: MySqlCdcOptions = { ...connOptions(), databases: [db], chunkSize: CHUNK, serverId: 6101, heartbeatIntervalMs: 200 };
    const source = mysqlCdcSource(options);
    const writer = startWriter(writerConn, t, ROWS, 7);

    // Run 1: part of the snapshot, checkpoint, then a bit more that the crash loses.
    const h1: Harness = await new SourceHarness(source, 3).start();
    const total = (h: Harness) => h.outputs.reduce((n, o) => n + o.emitted.length, 0);
    await run(h1, () => total(h1) >= ROWS / 3);
    const cp1: SourceSnapshot = h1.snapshot(++checkpointId);
    const kept1 = h1.outputs.map((o) => o.emitted.length);
    await run(h1, () => total(h1) >= (ROWS * 2) / 3);
    await h1.close(); // crash: what came after checkpoint 1 is lost
    const before1 = ordered(h1, kept1);
    expect(before1.length).toBeLessThan(ROWS);

    // Run 2: restored at parallelism 2; the snapshot continues, then the binlog; crash again.
    const h2: Harness = await new SourceHarness(source, 2, cp1).start();
    await run(h2, () => binlogSplit(h2) !== undefined);
    const chunkRecords = h2.outputs.reduce((n, o) => n + o.emitted.filter((e) => e.split !== 'binlog').length, 0);
    // Restored from checkpoint 1, run 2 reads only the chunks that were not finished then.
    expect(chunkRecords).toBeLessThan(ROWS);
    await run(h2, () => h2.outputs.some((o) => o.emitted.filter((e) => e.split === 'binlog').length >= 200));
    const cp2 = h2.snapshot(++checkpointId);
    const kept2 = h2.outputs.map((o) => o.emitted.length);
    await run(h2, () => h2.outputs.some((o) => o.emitted.filter((e) => e.split === 'binlog').length >= 400));
    await h2.close();
    const before2 = ordered(h2, kept2);

    // Run 3: restored at parallelism 1 while the writer still writes; then the writer stops and the
    // reader catches up with the binlog's end.
    const h3: Harness = await new SourceHarness(source, 1, cp2).start();
    await run(h3, () => h3.outputs[0]!.emitted.length >= 100);
    const txns = await writer.stop();
    await run(h3, await caughtUp(h3));
    await h3.close();
    const all = [...before1, ...before2, ...ordered(h3)];

    const replayed = replay(all);
    expect(normalize(replayed.values())).toEqual(await tableRows(t));
    expect(txns).toBeGreaterThan(10);
    // Changes made during the snapshot reached the output through the binlog, not only the chunks.
    expect(all.some((r) => r.kind === '-D')).toBe(true);
    expect(all.some((r) => r.kind === '+U')).toBe(true);
  });
});
