/** Restart strategies (Flink's fixed-delay, exponential-delay, failure-rate) and the retriable rule. */
import { describe, expect, it } from 'vitest';
import { BadRecordError, ConfigError, UserFunctionError, WeirError } from '../../../runtime/errors.ts';
import { failureCause, isRetriable } from '../../../runtime/failover/failover-history.ts';
import { RestartStrategy } from '../../../runtime/failover/restart-strategy.ts';

describe('restart strategies', () => {
  it('none never restarts', () => {
    const s = new RestartStrategy({ kind: 'none' });
    expect(s.onFailure()).toMatchObject({ restart: false, reason: expect.stringContaining('none') });
  });

  it('fixed-delay restarts `attempts` times with the same delay, then gives up', () => {
    const s = new RestartStrategy({ kind: 'fixed-delay', attempts: 3, delayMs: 250 });
    expect([s.onFailure(), s.onFailure(), s.onFailure()]).toEqual([
      { restart: true, delayMs: 250 },
      { restart: true, delayMs: 250 },
      { restart: true, delayMs: 250 },
    ]);
    const last = s.onFailure();
    expect(last.restart).toBe(false);
    expect(last.reason).toContain('more than the 3 restarts allowed (fixed-delay)');
    expect(s.restarts).toBe(4);
  });

  it('fixed-delay with 0 attempts fails at the first failure', () => {
    expect(new RestartStrategy({ kind: 'fixed-delay', attempts: 0, delayMs: 0 }).onFailure().restart).toBe(false);
  });

  it('exponential-delay multiplies the delay up to its maximum, and stops after maxAttempts', () => {
    const s = new RestartStrategy({ kind: 'exponential-delay', initialDelayMs: 100, maxDelayMs: 1000, multiplier: 3, maxAttempts: 5 });
    expect(Array.from({ length: 5 }, () => s.onFailure().delayMs)).toEqual([100, 300, 900, 1000, 1000]);
    expect(s.onFailure()).toMatchObject({ restart: false, reason: expect.stringContaining('more than the 5 restarts allowed (exponential-delay)') });
  });

  it('exponential-delay doubles by default and has no attempt limit unless given', () => {
    const s = new RestartStrategy({ kind: 'exponential-delay', initialDelayMs: 10, maxDelayMs: 10_000 });
    const delays = Array.from({ length: 12 }, () => s.onFailure());
    expect(delays.every((d) => d.restart)).toBe(true);
    expect(delays.slice(0, 4).map((d) => d.delayMs)).toEqual([10, 20, 40, 80]);
    expect(delays.at(-1)!.delayMs).toBe(10_000);
  });

  it('failure-rate allows maxFailures within the interval; older failures fall out of it', () => {
    let now = 0;
    const s = new RestartStrategy({ kind: 'failure-rate', maxFailures: 2, intervalMs: 1000, delayMs: 50 }, () => now);
    expect(s.onFailure()).toEqual({ restart: true, delayMs: 50 });
    now = 400;
    expect(s.onFailure()).toEqual({ restart: true, delayMs: 50 });
    now = 900;
    expect(s.onFailure()).toMatchObject({ restart: false, reason: expect.stringContaining('3 times within 1000 ms, more than the 2 allowed (failure-rate)') });
    // The failures at 0 and 400 are more than 1000 ms old at 1950: only 900 and 1950 count.
    now = 1950;
    expect(s.onFailure()).toEqual({ restart: true, delayMs: 50 });
  });

  it('rejects settings that cannot work, naming the setting', () => {
    expect(() => new RestartStrategy({ kind: 'fixed-delay', attempts: -1, delayMs: 0 })).toThrow(ConfigError);
    expect(() => new RestartStrategy({ kind: 'fixed-delay', attempts: 1, delayMs: Number.NaN })).toThrow(/restartStrategy.delayMs/);
    expect(() => new RestartStrategy({ kind: 'exponential-delay', initialDelayMs: 1, maxDelayMs: 1, multiplier: 0.5 })).toThrow(/restartStrategy.multiplier/);
    expect(() => new RestartStrategy({ kind: 'failure-rate', maxFailures: 1, intervalMs: -5, delayMs: 0 })).toThrow(/restartStrategy.intervalMs/);
    expect(() => new RestartStrategy({ kind: 'sometimes' } as never)).toThrow(/'sometimes' is not a restart strategy/);
  });
});

describe('which failures are retriable', () => {
  it('a bad record is not: the job fails at once, with the record', () => {
    const e = new BadRecordError('order 7 has no price', '{"id":7}', 'price').withOperator('price-orders', 1);
    expect(isRetriable(e)).toBe(false);
    expect(failureCause(e)).toEqual({ name: 'BadRecordError', message: e.message, operator: 'price-orders', subtask: 1, retriable: false, record: '{"id":7}' });
  });

  it('a user function that throws a plain error is retried (it may be transient), one that throws a non-retriable WeirError is not', () => {
    expect(isRetriable(new UserFunctionError('f', '{}', new Error('timeout')))).toBe(true);
    expect(isRetriable(new UserFunctionError('f', '{}', new WeirError('poison', { domain: 'user', retriable: false })))).toBe(false);
    expect(isRetriable(new UserFunctionError('f', '{}', new WeirError('flaky', { retriable: true })))).toBe(true);
  });

  it('internal and external failures are retried whatever their flag', () => {
    expect(isRetriable(new WeirError('task manager 1 died', { domain: 'internal' }))).toBe(true);
    expect(isRetriable(new WeirError('connection reset', { domain: 'external', retriable: false }))).toBe(true);
    expect(failureCause(new Error('plain')).retriable).toBe(true);
  });

  it('a configuration error is not retried', () => {
    expect(isRetriable(new ConfigError('sink.path', 'is required'))).toBe(false);
  });
});
