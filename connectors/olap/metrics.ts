/**
 * Metrics of an OLAP sink, as operator counters (shown with the operator's metrics on the
 * dashboard and in JobResult): `olap-rows` (changes written), `olap-bytes` (their approximate size),
 * `olap-flushes` (batches staged), `olap-commits`, `olap-retries` (store calls retried),
 * `olap-commit-ms` (total commit time; divide by `olap-commits` for the mean), and
 * `olap-backpressure-ms` (time the writer waited for the store with a full buffer). The runtime's
 * committer operator adds `commits` and `commit-retries` of its own.
 *
 * Commit latencies are also kept (the last 1024) for their median and p99 (`commitLatency()`).
 */
import type { OperatorMetricsView } from '../../operators/operator.ts';

const KEPT_LATENCIES = 1024;

export class OlapMetrics {
  private readonly latencies: number[] = [];

  constructor(private readonly view: OperatorMetricsView) {}

  written(changes: number, bytes: number): void {
    this.view.count('olap-rows', changes);
    this.view.count('olap-bytes', bytes);
    this.view.count('olap-flushes');
  }

  retried(): void {
    this.view.count('olap-retries');
  }

  waited(ms: number): void {
    if (ms > 0) this.view.count('olap-backpressure-ms', Math.round(ms));
  }

  committed(ms: number): void {
    this.view.count('olap-commits');
    this.view.count('olap-commit-ms', Math.round(ms));
    if (this.latencies.length === KEPT_LATENCIES) this.latencies.shift();
    this.latencies.push(ms);
  }

  /** Times `commit` and counts it as a commit when it succeeds. */
  async timeCommit<R>(commit: () => Promise<R>): Promise<R> {
    const start = performance.now();
    const r = await commit();
    this.committed(performance.now() - start);
    return r;
  }

  /** Median and p99 of the kept commit latencies (ms); undefined before the first commit. */
  commitLatency(): { median: number; p99: number } | undefined {
    if (this.latencies.length === 0) return undefined;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { median: at(0.5), p99: at(0.99) };
  }
}
