/**
 * A small ClickHouse HTTP client (the interface every ClickHouse version has): a statement in the
 * `query` parameter, data in the body, the answer as text. Credentials go in the X-ClickHouse-User
 * and X-ClickHouse-Key headers, never in URLs, logs or error messages. A failed statement is an
 * ExternalError that quotes the server's exception; errors that no retry can fix (syntax, unknown
 * column, a value that does not parse) are not retriable.
 */
import { ExternalError } from '../../runtime/errors.ts';

export interface ClickHouseConnection {
  /** The HTTP interface, e.g. http://127.0.0.1:8123 (no credentials in it). */
  url: string;
  database?: string;
  user?: string;
  password?: string;
  /** Per statement (default 60 s). */
  timeoutMs?: number;
}

/** ClickHouse error codes a retry cannot fix: syntax, unknown identifiers, types, unparsable input, authentication. */
const PERMANENT = new Set([6, 16, 192, 193, 194, 26, 27, 38, 41, 43, 44, 47, 53, 57, 60, 62, 69, 70, 72, 81, 117, 241]);

export class ClickHouseHttp {
  private readonly base: URL;

  constructor(
    private readonly conn: ClickHouseConnection,
    private readonly sink: string,
  ) {
    this.base = new URL(conn.url);
    if (this.base.username || this.base.password) {
      this.base.username = '';
      this.base.password = '';
    }
  }

  /** Where errors say the server is: the URL without credentials. */
  get where(): string {
    return this.base.origin;
  }

  /** Runs a statement; `body` is data for an INSERT ... FORMAT. Returns the response text. */
  async run(sql: string, body?: string): Promise<string> {
    const url = new URL(this.base);
    url.searchParams.set('query', sql);
    if (this.conn.database) url.searchParams.set('database', this.conn.database);
    const headers: Record<string, string> = {};
    if (this.conn.user) headers['X-ClickHouse-User'] = this.conn.user;
    if (this.conn.password) headers['X-ClickHouse-Key'] = this.conn.password;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: body ?? '', signal: AbortSignal.timeout(this.conn.timeoutMs ?? 60_000) });
    } catch (e) {
      throw new ExternalError(`${this.sink}: ClickHouse at ${this.where} did not answer ${describe(sql)}: ${(e as Error).message}`, { cause: e });
    }
    const text = await res.text();
    if (res.ok) return text;
    const code = Number(/Code: (\d+)/.exec(text)?.[1]);
    throw new ExternalError(`${this.sink}: ClickHouse at ${this.where} rejected ${describe(sql)}: HTTP ${res.status}: ${text.trim().slice(0, 600)}`, { retriable: !PERMANENT.has(code) });
  }

  /** Rows of a SELECT (FORMAT JSONEachRow appended): UInt64/Int64 come back as strings. */
  async select<R>(sql: string): Promise<R[]> {
    const text = await this.run(`${sql} FORMAT JSONEachRow`);
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as R);
  }
}

function describe(sql: string): string {
  const s = sql.replace(/\s+/g, ' ');
  return `'${s.length > 160 ? `${s.slice(0, 160)}...` : s}'`;
}
