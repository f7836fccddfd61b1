/**
 * The live-room job (jobs/live-room/) on embedded defaults: DuckDB files, Paimon tables on local
 * disk, LMDB keyed state, parallelism 2 on 2 task managers, a checkpoint every second.
 *
 *  - live-room-throughput: events/s of a bounded run of BENCH_LIVE_ROOM_EVENTS (default 300k) as
 *    fast as the generator goes, from the first event out of the source to the job's end (its last
 *    commits included), every output on.
 *  - live-room-freshness-duckdb / -lake: one rate-limited run in which event time runs SPEEDUP
 *    times faster than the wall clock (so a minute window closes every 60/SPEEDUP s and a short run
 *    has many). Event i leaves the source at about t0 + i / rate (t0: the first event seen), so
 *    each visible result maps back to the wall-clock time of the events it includes:
 *      DuckDB: per `room_revenue` row (a room's minute), from the minute's end in event time mapped
 *      to the wall clock (its last on-time event leaving the source) to the row being readable in
 *      the read copy (polled every 50 ms);
 *      lake: per `ods_gift_events` row, from its event leaving the source to the snapshot holding it
 *      being readable (polled every 50 ms), as bench/lake.bench.ts measures lake-freshness.
 *    Median (p99 in the metric text). The seed articles' lakehouses report minute-level freshness
 *    (1-5 minutes per layer, set by their checkpoint interval).
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MiniCluster, type JobHandle } from 'weir';
import { FileStoreTable } from 'weir/lake';
import job, { type LiveRoomParams } from '../jobs/live-room/live-room.ts';
import { MAX_EARLY_MS } from '../jobs/live-room/generator.ts';
import { duckdbReadCopy } from '../jobs/live-room/read-back.ts';
import { LAKE_TABLES } from '../jobs/live-room/sinks.ts';
import { median, perSecond, type Benchmark, type Measurement } from './harness.ts';
import { forAppendedRows } from './lake-appends.ts';

const EVENTS = Number(process.env.BENCH_LIVE_ROOM_EVENTS ?? 300_000);
const FRESHNESS_SECONDS = Number(process.env.BENCH_LIVE_ROOM_SECONDS ?? 60);
const RATE = 2000;
const SPEEDUP = 10;
const MINUTE = 60_000;

function cluster(dir: string): MiniCluster {
  return new MiniCluster({ workers: 2, workDir: path.join(dir, 'work'), checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } } });
}

function params(dir: string, extra: Partial<LiveRoomParams>): LiveRoomParams {
  return { events: EVENTS, lake: path.join(dir, 'lake'), olap: { type: 'duckdb', dir: path.join(dir, 'olap') }, alerts: { type: 'none' }, ...extra };
}

/** Resolves with the wall-clock time the source's first event was seen (polled every 20 ms). */
async function firstEvent(handle: JobHandle): Promise<number> {
  for (;;) {
    const m = await handle.metrics();
    if ((m.operators.find((o) => o.name === 'live-events')?.recordsOut ?? 0) > 0) return Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function throughput(): Promise<Measurement> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-live-room-bench-'));
  try {
    const handle = await cluster(dir).submit(job, { params: params(dir, {}), parallelism: 2 });
    const started = await firstEvent(handle);
    await handle.result();
    return { value: perSecond(EVENTS, Date.now() - started) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const stats: Record<'duckdb' | 'lake', { p99?: number; rows?: number }> = { duckdb: {}, lake: {} };
let freshnessRun: Promise<{ duckdb: number[]; lake: number[] }> | undefined;

async function measureFreshness(): Promise<{ duckdb: number[]; lake: number[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-live-room-fresh-'));
  try {
    const eventsPerSecond = RATE / SPEEDUP;
    const lastEventTime = Date.UTC(2026, 10, 22, 12, 0, 0) + FRESHNESS_SECONDS * SPEEDUP * 1000;
    const start = Date.UTC(2026, 10, 22, 12, 0, 0);
    const p = params(dir, { events: RATE * FRESHNESS_SECONDS, ratePerSecond: RATE, eventsPerSecond, start });
    const handle = await cluster(dir).submit(job, { params: p, parallelism: 2 });
    let done = false;
    void handle.result().finally(() => (done = true));
    const t0 = await firstEvent(handle);
    /** Wall-clock time at which the source emits the event whose place in the sequence is event time `ts`. */
    const wallOf = (ts: number): number => t0 + (ts - start) / SPEEDUP;
    const duckdb: number[] = [];
    const lake: number[] = [];
    const seenMinutes = new Set<string>();
    const readCopy = duckdbReadCopy(path.join(dir, 'olap'), 'room_revenue');
    let table: FileStoreTable | undefined;
    let seenSnapshot = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(readCopy)) {
        try {
          const db = await DuckDBInstance.create(readCopy, { access_mode: 'READ_ONLY' });
          const conn = await db.connect();
          const rows = (await conn.runAndReadAll('SELECT minute, room, anchor FROM room_revenue')).getRowsJS() as [string, number, number][];
          const now = Date.now();
          conn.closeSync();
          db.closeSync();
          for (const [minute, room, anchor] of rows) {
            const key = `${minute}|${room}|${anchor}`;
            if (seenMinutes.has(key)) continue;
            seenMinutes.add(key);
            // the last minute is cut short by the end of the input, which fires it: not a freshness sample
            if (Date.parse(minute) + MINUTE <= lastEventTime) duckdb.push(now - wallOf(Date.parse(minute) + MINUTE));
          }
        } catch {
          // the read copy is being replaced: next poll
        }
      }
      try {
        table ??= await FileStoreTable.open(path.join(dir, 'lake', LAKE_TABLES.gifts));
      } catch {
        continue;
      }
      const at = table.schema.fields.findIndex((f) => f.name === 'id');
      seenSnapshot = await forAppendedRows(table, seenSnapshot, (r, now) => lake.push(now - (t0 + (Number(r[at] as bigint) * 1000) / RATE)));
    }
    await handle.result();
    return { duckdb, lake };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function freshness(which: 'duckdb' | 'lake'): () => Promise<Measurement> {
  return async () => {
    freshnessRun ??= measureFreshness();
    const ages = [...(await freshnessRun)[which]].sort((a, b) => a - b);
    if (ages.length === 0) throw new Error(`no ${which} rows became visible: the job did not run`);
    stats[which] = { p99: Math.round(ages[Math.floor(ages.length * 0.99)]!), rows: ages.length };
    return { value: median(ages) };
  };
}

const benchmarks: Benchmark[] = [
  {
    name: 'live-room-throughput',
    metric: `events/s of the live-room job (2 temporal joins, 4 windowed outputs, 5 lake tables, 4 DuckDB tables), ${EVENTS / 1000}k generated events, parallelism 2, LMDB state, 1 s checkpoints, from the first event to the end of the job`,
    unit: 'events/s',
    runs: 1,
    run: throughput,
  },
  {
    name: 'live-room-freshness-duckdb',
    get metric() {
      return `ms from the end of a minute (its last on-time event leaving the source) to that minute's room_revenue rows readable in DuckDB, ${RATE} events/s for ${FRESHNESS_SECONDS} s with event time ${SPEEDUP}x the wall clock, watermark bound ${MAX_EARLY_MS / SPEEDUP} ms of wall time, 1 s checkpoints: median (p99 ${stats.duckdb.p99 ?? '-'} ms over ${stats.duckdb.rows ?? '-'} rows; seed lakehouses: minutes)`;
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 1,
    run: freshness('duckdb'),
  },
  {
    name: 'live-room-freshness-lake',
    get metric() {
      return `ms from a gift event leaving the source to its ods_gift_events row readable in the lake, same run: median (p99 ${stats.lake.p99 ?? '-'} ms over ${stats.lake.rows ?? '-'} rows; seed lakehouses: 1-5 minutes per layer)`;
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 1,
    run: freshness('lake'),
  },
];

export default benchmarks;
