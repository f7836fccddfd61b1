/**
 * The HTTP side of StarRocks loading: Stream Load, the Stream Load transaction interface and
 * get_load_state, against a list of FE addresses.
 *
 * Redirects are followed here, not by fetch: the FE answers loads with a 307 to a BE, and fetch
 * drops the Authorization header when a redirect changes the origin (FE and BE ports differ), which
 * the BE answers with 401. We re-send the same method, headers (Authorization included) and body to
 * the Location, as `curl --location-trusted` does. Only FE and BE addresses the FE names are sent
 * credentials; nothing logs the header.
 *
 * Requests go to one FE while it answers; after a refused or dropped connection or a 5xx, to the
 * next. Requests that are safe to repeat (begin with a label, prepare, commit, rollback,
 * get_load_state, Stream Load with a label) are retried with backoff then. A transaction load is not: StarRocks does not deduplicate
 * loads within a transaction, so the caller decides (the exactly-once writer fails the checkpoint).
 */
import { StarRocksError, type StarRocksAnswer } from './errors.ts';

export interface RetryPolicy {
  /** Attempts per request (default 4). */
  attempts: number;
  /** First backoff, doubled per attempt (default 100 ms) ... */
  backoffMs: number;
  /** ... up to this (default 2000 ms). */
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, backoffMs: 100, maxBackoffMs: 2000 };

export interface ClientOptions {
  feUrls: readonly string[];
  user: string;
  password: string;
  retry: RetryPolicy;
  /** Per request, including following the redirect (default 60 s). */
  requestTimeoutMs: number;
  /** Called for every retry (metrics). */
  onRetry?: () => void;
}

export type TxnOp = 'begin' | 'load' | 'prepare' | 'commit' | 'rollback';

const MAX_REDIRECTS = 3;

/** A request that failed before StarRocks answered with JSON: a refused or dropped connection, a 5xx, a timeout. */
class TransportFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class StreamLoadClient {
  private readonly authorization: string;
  /** The FE requests go to: the same one while it answers. */
  private current = 0;

  constructor(private readonly options: ClientOptions) {
    this.authorization = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  }

  /** One transaction-interface call. `retry: false` for loads (not idempotent). */
  async transaction(op: TxnOp, headers: Record<string, string>, body?: string, retry = op !== 'load'): Promise<StarRocksAnswer> {
    return this.call(`transaction ${op}`, headers.label, op === 'load' ? 'PUT' : 'POST', `/api/transaction/${op}`, headers, body, retry);
  }

  /** A plain Stream Load (begin, load and commit in one request); retried, its label deduplicates. */
  streamLoad(db: string, table: string, headers: Record<string, string>, body: string): Promise<StarRocksAnswer> {
    return this.call('Stream Load', headers.label, 'PUT', `/api/${encodeURIComponent(db)}/${encodeURIComponent(table)}/_stream_load`, headers, body, true);
  }

  /** The state of a label: PREPARE, PREPARED, COMMITTED, VISIBLE, ABORTED or UNKNOWN. */
  async labelState(db: string, label: string): Promise<string> {
    const answer = await this.call('get_load_state', label, 'GET', `/api/${encodeURIComponent(db)}/get_load_state?label=${encodeURIComponent(label)}`, {}, undefined, true);
    const state = answer.state ?? (typeof answer.data === 'string' ? answer.data : undefined);
    if (answer.Status !== 'OK' || typeof state !== 'string') throw new StarRocksError('get_load_state', label, answer, 'check that the database exists and the user may load into it');
    return state;
  }

  private async call(operation: string, label: string | undefined, method: string, path: string, headers: Record<string, string>, body: string | undefined, retry: boolean): Promise<StarRocksAnswer> {
    const attempts = retry ? this.options.retry.attempts : 1;
    let backoff = this.options.retry.backoffMs;
    let last: TransportFailure | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        this.options.onRetry?.();
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, this.options.retry.maxBackoffMs);
      }
      const fe = this.options.feUrls[this.current % this.options.feUrls.length]!;
      try {
        return await this.send(operation, label, method, new URL(path, fe), headers, body);
      } catch (e) {
        if (!(e instanceof TransportFailure)) throw e;
        last = e;
        this.current++; // the next request goes to the next FE
      }
    }
    throw new StarRocksError(operation, label, undefined, `${last!.message}${attempts > 1 ? ` (${attempts} attempts)` : ''}; check that StarRocks is up at ${this.options.feUrls.join(', ')}`, { retriable: true });
  }

  private async send(operation: string, label: string | undefined, method: string, url: URL, headers: Record<string, string>, body: string | undefined): Promise<StarRocksAnswer> {
    const signal = AbortSignal.timeout(this.options.requestTimeoutMs);
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        res = await fetch(url, { method, headers: { ...headers, authorization: this.authorization }, body, redirect: 'manual', signal });
      } catch (e) {
        const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
        throw new TransportFailure(`${method} ${url.origin}${url.pathname}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
      }
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get('location');
        await res.body?.cancel();
        if (!location || hop >= MAX_REDIRECTS) throw new StarRocksError(operation, label, undefined, `too many or empty redirects from ${url.origin}`);
        url = new URL(location, url);
        continue;
      }
      const text = await res.text().catch((e: Error) => {
        throw new TransportFailure(`${method} ${url.origin}${url.pathname}: the answer was cut off (${e.message})`);
      });
      if (res.status >= 500) throw new TransportFailure(`${method} ${url.origin}${url.pathname}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status);
      if (res.status === 401 || res.status === 403) {
        throw new StarRocksError(operation, label, parseAnswer(text), `HTTP ${res.status}: check the user and password the sink was given (user '${this.options.user}')`);
      }
      const answer = parseAnswer(text);
      if (res.status >= 400) throw new StarRocksError(operation, label, answer, `HTTP ${res.status} from ${url.origin}${url.pathname}`);
      return answer;
    }
  }
}

function parseAnswer(text: string): StarRocksAnswer {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null) return v as StarRocksAnswer;
  } catch {
    // not JSON
  }
  return { Status: undefined, Message: text.slice(0, 300) };
}
