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
import { resolveData, spanMs } from './generator.ts';
import { printSummary } from './summary.ts';
import job from './live-room.ts';
import { duckdbReadCopy, queryDuckDb } from './read-back.ts';
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
const data = resolveData({ events });
const agree = await printSummary({
  q: (sql) => queryDuckDb(olapDir, sql),
  store: 'DuckDB',
  lake,
  inputEnd: data.start + spanMs(data),
  alertsNote: 'also printed above by the console alert sink',
});
if (!agree) process.exitCode = 1;

console.log(`\nlook at them:
  npx weir lake dump ${path.join(lake, LAKE_TABLES.anchorDaily)}
  duckdb -readonly ${duckdbReadCopy(olapDir, 'room_revenue')} "SELECT * FROM room_revenue ORDER BY revenueCents DESC LIMIT 5"
  (DuckDB files of every table: ${olapDir}; the read copies can be opened while a job runs)`);
