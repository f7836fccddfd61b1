/**
 * Checkpoint settings of a job, and where checkpoints are stored. Plain data: it travels to every
 * task manager with the deployment, and each builds its own storage client from it.
 */
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { weirHome } from '../weir-home.ts';
import { LocalCheckpointStorage, S3CheckpointStorage, type CheckpointStorage } from '../../state/index.ts';

export type CheckpointStorageConfig =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      prefix?: string;
      endpoint?: string;
      region?: string;
      credentials?: { accessKeyId: string; secretAccessKey: string };
    };

export interface CheckpointConfig {
  /** Milliseconds between checkpoints; 0 disables periodic checkpoints. */
  intervalMs: number;
  /** exactly-once aligns barriers; at-least-once does not (lower latency, duplicates after failover). */
  mode: 'exactly-once' | 'at-least-once';
  /** A checkpoint not complete after this long is aborted. */
  timeoutMs: number;
  /**
   * Longest a task may hold inputs while aligning a checkpoint's barriers; past it the task declines
   * the checkpoint, naming the input whose barrier it still waits for. 0 (default): no limit of its
   * own (the checkpoint's `timeoutMs` still applies).
   */
  alignmentTimeoutMs: number;
  /** Least time between the end of one checkpoint and the start of the next. */
  minPauseMs: number;
  maxConcurrent: number;
  /** Completed checkpoints kept in storage. */
  retained: number;
  storage: CheckpointStorageConfig;
}

export function checkpointConfig(partial: Partial<CheckpointConfig> = {}): CheckpointConfig {
  const c: CheckpointConfig = {
    intervalMs: partial.intervalMs ?? 0,
    mode: partial.mode ?? 'exactly-once',
    timeoutMs: partial.timeoutMs ?? 60_000,
    alignmentTimeoutMs: partial.alignmentTimeoutMs ?? 0,
    minPauseMs: partial.minPauseMs ?? 0,
    maxConcurrent: partial.maxConcurrent ?? 1,
    retained: partial.retained ?? 3,
    storage: partial.storage ?? { kind: 'local', dir: path.join(weirHome(), 'checkpoints') },
  };
  if (!(c.intervalMs >= 0)) throw new ConfigError('checkpoints.intervalMs', `must be >= 0 (0 disables), got ${c.intervalMs}`);
  if (c.mode !== 'exactly-once' && c.mode !== 'at-least-once') throw new ConfigError('checkpoints.mode', `must be 'exactly-once' or 'at-least-once', got '${String(c.mode)}'`);
  if (!(c.timeoutMs > 0)) throw new ConfigError('checkpoints.timeoutMs', `must be > 0, got ${c.timeoutMs}`);
  if (!(c.alignmentTimeoutMs >= 0)) throw new ConfigError('checkpoints.alignmentTimeoutMs', `must be >= 0 (0: no limit of its own), got ${c.alignmentTimeoutMs}`);
  if (!(Number.isInteger(c.maxConcurrent) && c.maxConcurrent >= 1)) throw new ConfigError('checkpoints.maxConcurrent', `must be a whole number >= 1, got ${c.maxConcurrent}`);
  if (!(Number.isInteger(c.retained) && c.retained >= 1)) throw new ConfigError('checkpoints.retained', `must be a whole number >= 1, got ${c.retained}`);
  return c;
}

export function createCheckpointStorage(config: CheckpointStorageConfig, jobId: string, retained: number): CheckpointStorage {
  if (config.kind === 'local') return new LocalCheckpointStorage({ root: config.dir, jobId, retainedCheckpoints: retained });
  return new S3CheckpointStorage({
    bucket: config.bucket,
    prefix: config.prefix,
    jobId,
    endpoint: config.endpoint,
    region: config.region,
    credentials: config.credentials,
    retainedCheckpoints: retained,
  });
}
