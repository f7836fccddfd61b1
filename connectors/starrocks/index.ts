/**
 * `weir/starrocks`: a StarRocks sink over HTTP (Stream Load and the Stream Load transaction
 * interface), exactly-once by default, as the StarRocks Flink connector does it.
 *
 *     import { starrocksSink } from 'weir/starrocks';
 *     stream.sinkTo(starrocksSink<Revenue>({
 *       feUrl: 'http://fe:8030', database: 'shop', table: 'revenue_per_minute',
 *       user: 'loader', password: process.env.SR_PASSWORD!,
 *     }));
 *
 * Records are rows (`T`, upserts) or changelog records (`Change<T>`: +I/+U upsert, -D deletes, -U
 * skipped). See README.md for options, the protocol, and what the tests run against.
 */
import type { Change } from '../../operators/changelog.ts';
import type { Sink } from '../../runtime/api/sink.ts';
import { StreamLoadClient } from './http-client.ts';
import { resolveOptions, type StarRocksSinkOptions, type ResolvedOptions } from './options.ts';
import { ExactlyOnceWriter, type StarRocksCommittable } from './exactly-once-writer.ts';
import { AtLeastOnceWriter } from './at-least-once-writer.ts';
import { StarRocksCommitter } from './committer.ts';

export type { StarRocksSinkOptions } from './options.ts';
export type { StarRocksCommittable } from './exactly-once-writer.ts';
export type { RetryPolicy } from './http-client.ts';
export { StarRocksError, type StarRocksAnswer } from './errors.ts';
export { transactionLabel } from './labels.ts';

function client(o: ResolvedOptions, count?: () => void): StreamLoadClient {
  return new StreamLoadClient({ feUrls: o.feUrls, user: o.user, password: o.password, retry: o.retry, requestTimeoutMs: o.requestTimeoutMs, ...(count ? { onRetry: count } : {}) });
}

/** A StarRocks sink of rows `T` or changelog records of them. */
export function starrocksSink<T extends object>(options: StarRocksSinkOptions<T>): Sink<T | Change<T>, StarRocksCommittable> {
  const o = resolveOptions(options as StarRocksSinkOptions<unknown>);
  const name = `starrocks(${o.database}.${o.table})`;
  if (o.semantic === 'at-least-once') {
    return { name, createWriter: (ctx) => new AtLeastOnceWriter<T | Change<T>>(o, client(o, () => ctx.metrics.count('starrocks-retries')), ctx) };
  }
  return {
    name,
    createWriter: (ctx) => ExactlyOnceWriter.create<T | Change<T>>(o, client(o, () => ctx.metrics.count('starrocks-retries')), ctx),
    createCommitter: () => new StarRocksCommitter(client(o)),
    ...(options.commitRetry ? { commitRetry: options.commitRetry } : {}),
  };
}
