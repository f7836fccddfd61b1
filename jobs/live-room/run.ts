/**
 * `npm run demo`: the live-room job end to end on embedded defaults (no servers). Generates gift and
 * payment events and the `rooms`/`anchors` changelogs, runs the job on an in-process mini-cluster
 * (one worker thread per core, LMDB keyed state, a checkpoint every second) whose dashboard and REST
 * API are served while it runs, writes the Paimon tables and the DuckDB files under `live-room/` in
 * the Weir home (`$WEIR_HOME`, default `~/.weir`), then reads the results back from those sinks and
 * prints what a user would look at.
 *
 * Environment: DEMO_EVENTS (default 200000), DEMO_PORT (dashboard port, default 8081; taken: any
 * free one), DEMO_PARALLELISM (default: the number of workers).
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MiniCluster, weirHome } from 'weir';
import { SingleJobService } from '../../runtime/cluster/single-job-service.ts';
import { startRestServer, type RestServer } from '../../runtime/rest/server.ts';
import { anchorName, resolveData, spanMs } from './generator.ts';
import job from './live-room.ts';
import { duckdbReadCopy, queryDuckDb, readLakeTable } from './read-back.ts';
import { LAKE_TABLES } from './sinks.ts';

const events = Number(process.env.DEMO_EVENTS ?? 200_000);
const home = path.join(weirHome(), 'live-room');
const lake = path.join(home, 'lake');
const olapDir = path.join(home, 'olap');
// each run starts new tables, so what is read back is this run's
rmSync(home, { recursive: true, force: true });

const workers = Math.max(1, Math.min(os.availableParallelism(), 4));
const parallelism = Number(process.env.DEMO_PARALLELISM ?? workers);
const cluster = new MiniCluster({
  workers,
  workDir: path.join(home, 'work'),
  checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(home, 'checkpoints') } },
});
console.log(`Weir demo: the live-room job on ${events.toLocaleString('en-US')} gift and payment events, parallelism ${parallelism}, checkpoints every second`);
const handle = await cluster.submit(job, { params: { events, lake, olap: { type: 'duckdb', dir: olapDir }, alerts: { type: 'console' } }, parallelism });
const service = new SingleJobService(handle, job.moduleUrl, { events });
let dashboard: RestServer;
try {
  dashboard = await startRestServer(service, { port: Number(process.env.DEMO_PORT ?? 8081) });
} catch {
  dashboard = await startRestServer(service, { port: 0 }); // the port is taken (a cluster, another demo)
}
console.log(`dashboard (while the job runs): ${dashboard.url}`);

const progress = setInterval(() => {
  void handle.metrics().then((m) => {
    const source = m.operators.find((o) => o.name === 'live-events');
    if (!source || !process.stdout.isTTY) return;
    const pct = Math.min(100, (source.recordsOut / events) * 100).toFixed(0);
    process.stdout.write(`\r  ${pct}%  ${source.recordsOut.toLocaleString('en-US')} events  ${Math.round(source.recordsInPerSecond).toLocaleString('en-US')}/s   `);
  });
}, 250);
let durationMs: number;
try {
  durationMs = (await handle.result()).durationMs;
} finally {
  clearInterval(progress);
  service.close();
  await dashboard.close();
}
if (process.stdout.isTTY) process.stdout.write('\r' + ' '.repeat(60) + '\r');
const checkpoints = handle.checkpoints().filter((c) => c.status === 'completed').length;
console.log(`\nprocessed ${events.toLocaleString('en-US')} events in ${(durationMs / 1000).toFixed(1)} s (${Math.round((events * 1000) / durationMs).toLocaleString('en-US')} events/s), ${checkpoints} checkpoints`);

// Everything below is read back from the sinks: DuckDB's read copies and the lake's tables.
const dollars = (cents: number): string => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const q = (sql: string) => queryDuckDb(olapDir, sql);
// The input ends inside its last minute: that minute is complete as far as this input goes, but short.
const data = resolveData({ events });
const inputEnd = data.start + spanMs(data);
const isShort = (minute: unknown): boolean => Date.parse(String(minute)) + 60_000 > inputEnd;

console.log('\nrevenue per minute, last 3 minutes (DuckDB room_revenue)');
const minutes = await q(`SELECT minute, sum(revenueCents) AS revenue, sum(gifts) AS gifts, sum(payments) AS payments, count(DISTINCT room) AS rooms
  FROM room_revenue GROUP BY minute ORDER BY minute DESC LIMIT 3`);
for (const m of minutes.reverse()) {
  const top = await q(`SELECT room, anchor, revenueCents FROM room_revenue WHERE minute = '${m.minute}' ORDER BY revenueCents DESC, room LIMIT 3`);
  console.log(`  minute ${m.minute}  revenue ${dollars(Number(m.revenue))}  gifts ${m.gifts}  payments ${m.payments}  rooms ${m.rooms}  top: ${top.map((t) => `room ${t.room} ${dollars(Number(t.revenueCents))}`).join(', ')}${isShort(m.minute) ? `  (the input ends at ${new Date(inputEnd).toISOString().slice(11, 19)})` : ''}`);
}

const ranked = (await q(`SELECT DISTINCT minute FROM anchor_top10 ORDER BY minute DESC`)).map((r) => r.minute);
const rankMinute = ranked.find((m) => !isShort(m)) ?? ranked[0];
console.log(`\ntop-10 anchors of minute ${rankMinute} (DuckDB anchor_top10)`);
for (const r of await q(`SELECT rank, anchor, revenueCents FROM anchor_top10 WHERE minute = '${rankMinute}' ORDER BY rank`)) {
  console.log(`  #${String(r.rank).padEnd(2)} anchor ${String(r.anchor).padEnd(3)} ${anchorName(Number(r.anchor)).padEnd(8)} ${dollars(Number(r.revenueCents))}`);
}

console.log('\ndaily active users (DuckDB daily_users; eDAU: users who paid or sent a paid gift)');
for (const d of await q(`SELECT day, max(CASE WHEN metric = 'dau' THEN users END) AS dau, max(CASE WHEN metric = 'edau' THEN users END) AS edau,
    bool_and("final") AS "final", max("asOf") AS "asOf" FROM daily_users GROUP BY day ORDER BY day`)) {
  console.log(`  day ${d.day}  DAU ${d.dau}  eDAU ${d.edau}  ${d.final ? 'final' : `as of ${d.asOf}`}`);
}

const alertCount = (await q('SELECT count(*) AS n FROM pnl_alerts'))[0]!.n;
console.log(`\nprofit-and-loss alerts: ${alertCount} (DuckDB pnl_alerts; also printed above by the console alert sink), latest:`);
for (const a of await q('SELECT room, windowStart, windowEnd, revenueCents, costCents FROM pnl_alerts ORDER BY windowStart DESC, room LIMIT 5')) {
  console.log(`  room ${a.room} ${String(a.windowStart).slice(11, 16)}-${String(a.windowEnd).slice(11, 16)}  revenue ${dollars(Number(a.revenueCents))}  cost ${dollars(Number(a.costCents))}`);
}

console.log(`\nlake tables (Paimon, under ${lake})`);
const totals: Record<string, number> = {};
for (const table of Object.values(LAKE_TABLES)) {
  const { rows, snapshots } = await readLakeTable(lake, table);
  totals[table] = rows.reduce((a, r) => a + Number(r.amountCents ?? r.revenueCents ?? 0), 0);
  console.log(`  ${table.padEnd(19)} ${String(rows.length).padStart(7)} rows  ${String(snapshots).padStart(3)} snapshots`);
}
const daily = (await readLakeTable(lake, LAKE_TABLES.anchorDaily)).rows.sort((a, b) => Number(b.revenueCents) - Number(a.revenueCents)).slice(0, 3);
console.log(`  top anchor-days in ${LAKE_TABLES.anchorDaily} (merge-engine = aggregation): ${daily.map((r) => `${r.day} anchor ${r.anchor} ${dollars(Number(r.revenueCents))}`).join(', ')}`);

// The same money, counted three ways: raw events in the lake, per-minute rows in DuckDB, the lake's aggregation table.
const rawCents = totals[LAKE_TABLES.gifts]! + totals[LAKE_TABLES.payments]!;
const olapCents = Number((await q('SELECT sum(revenueCents) AS c FROM room_revenue'))[0]!.c);
const dailyCents = totals[LAKE_TABLES.anchorDaily]!;
console.log(`\nrevenue: ODS events ${dollars(rawCents)} = DuckDB room_revenue ${dollars(olapCents)} = lake ${LAKE_TABLES.anchorDaily} ${dollars(dailyCents)}`);
if (rawCents !== olapCents || olapCents !== dailyCents) {
  console.error('the sinks disagree: expected the same revenue in all three');
  process.exitCode = 1;
}

console.log(`\nlook at them:
  npx weir lake dump ${path.join(lake, LAKE_TABLES.anchorDaily)}
  duckdb -readonly ${duckdbReadCopy(olapDir, 'room_revenue')} "SELECT * FROM room_revenue ORDER BY revenueCents DESC LIMIT 5"
  (DuckDB files of every table: ${olapDir}; the read copies can be opened while a job runs)`);
