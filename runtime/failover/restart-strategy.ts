/**
 * When a job fails (a task throws, a worker thread dies), the restart strategy says whether to
 * restart it from its latest completed checkpoint, and after how long (Flink's fixed-delay,
 * exponential-delay and failure-rate strategies), or to give up and fail the job with the cause.
 */
import { ConfigError } from '../errors.ts';

export type RestartStrategyConfig =
  | { kind: 'none' }
  | { kind: 'fixed-delay'; attempts: number; delayMs: number }
  | { kind: 'exponential-delay'; initialDelayMs: number; maxDelayMs: number; multiplier?: number; maxAttempts?: number }
  | { kind: 'failure-rate'; maxFailures: number; intervalMs: number; delayMs: number };

export interface RestartDecision {
  restart: boolean;
  delayMs: number;
  /** Why not, when `restart` is false. */
  reason?: string;
}

export class RestartStrategy {
  private failures: number[] = [];
  private attempts = 0;

  constructor(
    readonly config: RestartStrategyConfig,
    private readonly now: () => number = Date.now,
  ) {
    validate(config);
  }

  onFailure(): RestartDecision {
    const c = this.config;
    this.attempts++;
    switch (c.kind) {
      case 'none':
        return { restart: false, delayMs: 0, reason: 'the restart strategy is none' };
      case 'fixed-delay':
        return this.attempts <= c.attempts
          ? { restart: true, delayMs: c.delayMs }
          : { restart: false, delayMs: 0, reason: `it failed ${this.attempts} times, more than the ${c.attempts} restarts allowed (fixed-delay)` };
      case 'exponential-delay': {
        if (c.maxAttempts !== undefined && this.attempts > c.maxAttempts) {
          return { restart: false, delayMs: 0, reason: `it failed ${this.attempts} times, more than the ${c.maxAttempts} restarts allowed (exponential-delay)` };
        }
        const delay = Math.min(c.maxDelayMs, c.initialDelayMs * (c.multiplier ?? 2) ** (this.attempts - 1));
        return { restart: true, delayMs: delay };
      }
      case 'failure-rate': {
        const t = this.now();
        this.failures = this.failures.filter((f) => t - f < c.intervalMs);
        this.failures.push(t);
        return this.failures.length <= c.maxFailures
          ? { restart: true, delayMs: c.delayMs }
          : { restart: false, delayMs: 0, reason: `it failed ${this.failures.length} times within ${c.intervalMs} ms, more than the ${c.maxFailures} allowed (failure-rate)` };
      }
    }
  }

  get restarts(): number {
    return this.attempts;
  }
}

function validate(c: RestartStrategyConfig): void {
  const nonNegative = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new ConfigError(`restartStrategy.${name}`, `must be a number >= 0, got ${v}`);
  };
  switch (c.kind) {
    case 'none':
      return;
    case 'fixed-delay':
      nonNegative('attempts', c.attempts);
      nonNegative('delayMs', c.delayMs);
      return;
    case 'exponential-delay':
      nonNegative('initialDelayMs', c.initialDelayMs);
      nonNegative('maxDelayMs', c.maxDelayMs);
      nonNegative('maxAttempts', c.maxAttempts);
      if (c.multiplier !== undefined && !(c.multiplier >= 1)) throw new ConfigError('restartStrategy.multiplier', `must be >= 1, got ${c.multiplier}`);
      return;
    case 'failure-rate':
      nonNegative('maxFailures', c.maxFailures);
      nonNegative('intervalMs', c.intervalMs);
      nonNegative('delayMs', c.delayMs);
      return;
    default:
      throw new ConfigError('restartStrategy.kind', `'${(c as { kind: string }).kind}' is not a restart strategy: use none, fixed-delay, exponential-delay or failure-rate`);
  }
}
