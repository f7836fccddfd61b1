/**
 * `npm run demo`: runs the demo job on a mini-cluster (one worker thread per core) and prints
 * the top rooms by revenue for each minute, with a progress line while it runs.
 */
import { MiniCluster } from '../../runtime/api/index.ts';
import job, { revenue, type RoomMinute } from './job.ts';

const gifts = Number(process.env.DEMO_GIFTS ?? 2_000_000);
const cluster = new MiniCluster();
console.log(`Weir demo: ${gifts.toLocaleString('en-US')} gifts -> revenue per room per minute (event time, 5 s out-of-order)`);
const handle = await cluster.submit(job, { params: { gifts } });
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
