/**
 * `npm run demo`: runs the demo job on a mini-cluster (one worker thread per core) with a checkpoint
 * every second, prints the top rooms by revenue for each minute, with a progress line while it
 * runs, then reads the room-minutes back from the Paimon table the job wrote under demo-lake/ in the
 * Weir home (`$WEIR_HOME`, default `~/.weir`; never the current directory).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { MiniCluster, weirHome } from 'weir';
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultReadCopy } from 'weir/duckdb';
import { FileStoreTable, readTable, rowToObject } from 'weir/lake';
import job, { revenue, type RoomMinute } from './job.ts';

const gifts = Number(process.env.DEMO_GIFTS ?? 2_000_000);
const weirDir = weirHome();
const lakePath = path.join(weirDir, 'demo-lake', 'room_revenue');
const duckdbPath = path.join(weirDir, 'demo-olap', 'demo.duckdb');
// each run starts a new table, so what is read back is this run's
rmSync(path.join(weirDir, 'demo-lake'), { recursive: true, force: true });
rmSync(path.join(weirDir, 'demo-checkpoints'), { recursive: true, force: true });
rmSync(path.join(weirDir, 'demo-olap'), { recursive: true, force: true });
const cluster = new MiniCluster({ checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(weirDir, 'demo-checkpoints') } } });
console.log(`Weir demo: ${gifts.toLocaleString('en-US')} gifts -> revenue per room per minute (event time, 5 s out-of-order)`);
const handle = await cluster.submit(job, { params: { gifts, lakePath, duckdbPath } });
const progress = setInterval(() => {
  void handle.metrics().then((m) => {
    const source = m.operators[0];
    if (!source || !process.stdout.isTTY) return;
    const pct = Math.min(100, (source.recordsOut / gifts) * 100).toFixed(0);
    process.stdout.write(`\r  ${pct}%  ${source.recordsOut.toLocaleString('en-US')} gifts  ${Math.round(source.recordsInPerSecond).toLocaleString('en-US')}/s   `);
  });
}, 250);
const result = await handle.result().finally(() => clearInterval(progress));
if (process.stdout.isTTY) process.stdout.write('\r' + ' '.repeat(60) + '\r');

const rows = result.get(revenue);
const byMinute = new Map<string, RoomMinute[]>();
for (const r of rows) {
  const list = byMinute.get(r.minute) ?? [];
  list.push(r);
  byMinute.set(r.minute, list);
}
console.log('\nminute (UTC) | top rooms by revenue');
console.log('-------------|---------------------------------------------------------------');
for (const minute of [...byMinute.keys()].sort()) {
  const top = byMinute.get(minute)!.sort((a, b) => b.revenueCents - a.revenueCents).slice(0, 3);
  console.log(`${minute}        | ${top.map((t) => `${t.room} $${(t.revenueCents / 100).toFixed(2)} (${t.gifts} gifts)`).join(', ')}`);
}
const total = rows.reduce((a, r) => a + r.gifts, 0);
const seconds = result.durationMs / 1000;
console.log(`\n${rows.length} room-minutes from ${total.toLocaleString('en-US')} gifts in ${seconds.toFixed(2)} s (${Math.round(gifts / seconds).toLocaleString('en-US')} gifts/s)`);
if (total !== gifts) {
  console.error(`expected ${gifts} gifts in the result, got ${total}`);
  process.exitCode = 1;
}

// the same room-minutes, read back from the lake table (committed exactly once per checkpoint)
const table = await FileStoreTable.open(lakePath);
const lakeRows = (await readTable(table)).map((r) => rowToObject(table, r) as { room: string; minute: string; gifts: number; revenueCents: bigint });
const snapshots = await table.snapshots.listIds();
const lakeGifts = lakeRows.reduce((a, r) => a + r.gifts, 0);
const checkpoints = handle.checkpoints().filter((c) => c.status === 'completed').length;
console.log(`\nPaimon table ${lakePath}: ${lakeRows.length} rows, ${lakeGifts.toLocaleString('en-US')} gifts, ${snapshots.length} snapshots from ${checkpoints} checkpoints`);
const best = [...lakeRows].sort((a, b) => Number(b.revenueCents - a.revenueCents)).slice(0, 3);
for (const r of best) console.log(`  ${r.minute} ${r.room}: $${(Number(r.revenueCents) / 100).toFixed(2)} (${r.gifts} gifts)`);
console.log(`Inspect it: npx weir lake dump ${lakePath}   (or: npx weir lake snapshots ...)`);
if (lakeRows.length !== rows.length || lakeGifts !== gifts) {
  console.error(`the lake table holds ${lakeRows.length} rows and ${lakeGifts} gifts; expected ${rows.length} rows and ${gifts} gifts`);
  process.exitCode = 1;
}

// and from DuckDB: the read-only copy the sink publishes after each commit (queryable while the job runs)
const readCopy = defaultReadCopy(duckdbPath);
const duck = await DuckDBInstance.create(readCopy, { access_mode: 'READ_ONLY' });
const conn = await duck.connect();
const [[duckRows, duckGifts]] = (await conn.runAndReadAll('SELECT count(*), sum(gifts) FROM room_revenue')).getRowsJson() as [[string, string]];
conn.closeSync();
duck.closeSync();
console.log(`DuckDB table room_revenue in ${readCopy}: ${duckRows} rows, ${Number(duckGifts).toLocaleString('en-US')} gifts`);
console.log(`Query it (also while the job runs): duckdb -readonly ${readCopy} "SELECT * FROM room_revenue ORDER BY revenueCents DESC LIMIT 5"`);
if (Number(duckRows) !== rows.length || Number(duckGifts) !== gifts) {
  console.error(`the DuckDB table holds ${duckRows} rows and ${duckGifts} gifts; expected ${rows.length} rows and ${gifts} gifts`);
  process.exitCode = 1;
}
