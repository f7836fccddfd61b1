/**
 * `node --expose-gc --import tsx bench/exchange-retention.ts [batches]`: how much heap records
 * decoded from the exchange keep alive when a job holds some of them (in state, a top-n list, a
 * dimension table). Encodes and decodes `batches` batches of 4096 records with a 60-character
 * ASCII string field, keeps one record of each, collects garbage and prints the heap in use.
 * Strings cut from one decoded run with `substring` kept the whole run alive (V8 slices strings of
 * 13 characters or more): 260 MB more heap for 1000 kept records before runtime/exchange/batch-codec.ts
 * decoded ASCII strings one by one, none after.
 */
import { decodeBatch, encodeBatch } from '../runtime/exchange/batch-codec.ts';

const BATCHES = Number(process.argv[2] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (see the comment at the top)');
const kept: unknown[] = [];
const before = process.memoryUsage().heapUsed;
for (let b = 0; b < BATCHES; b++) {
  const values = Array.from({ length: 4096 }, (_, i) => ({ id: i, url: `https://www.nexmark.com/item.htm?query=${b}-${i}-abcdefghijklmnop` }));
  kept.push(decodeBatch(encodeBatch(values, new Float64Array(4096))).values[7]);
}
gc();
console.log(`${kept.length} records kept of ${BATCHES * 4096} decoded: ${((process.memoryUsage().heapUsed - before) / 1e6).toFixed(0)} MB of heap more than before`);
