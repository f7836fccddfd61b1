/**
 * Retries a call to the store with exponential backoff (the shape of the committer's `commitRetry`,
 * runtime/sink/contract.ts): `attempts` tries, waiting `backoffMs`, doubled each time up to
 * `maxBackoffMs`. Only errors the store marks as retriable are retried (a `retriable: false`
 * WeirError, e.g. a rejected row or a bad setting, fails at once); the last error is rethrown.
 */
import { WeirError } from '../../runtime/errors.ts';

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_STORE_RETRY: RetryPolicy = { attempts: 5, backoffMs: 100, maxBackoffMs: 5000 };

export async function withRetry<R>(call: () => Promise<R>, policy: RetryPolicy, onRetry: (error: unknown, attempt: number) => void = () => {}, sleep: (ms: number) => Promise<void> = defaultSleep): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (attempt >= policy.attempts || (e instanceof WeirError && !e.retriable)) throw e;
      onRetry(e, attempt);
      await sleep(Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (attempt - 1)));
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
