/**
 * A MySQL/MariaDB table as a lookup join's table, through mysql2. Each subtask opens its own small
 * connection pool (`poolSize`, default 4: enough for the lookups a subtask keeps in flight to be
 * spread over several connections) and looks keys up with a prepared
 * `SELECT <columns> FROM <table> WHERE <key columns> = ?`; a full cache reads the table with one
 * `SELECT <columns>, <key columns> FROM <table>`.
 *
 *     const rooms = mysqlLookupTable<number, Room>({ url: process.env.WEIR_MYSQL_URL!, table: 'rooms', keyColumns: ['id'] });
 *     gifts.lookupJoin(rooms, { key: (g) => g.roomId, join: (g, room) => ({ ...g, room: room?.name ?? null }) });
 *
 * A key is one value for one key column, or a tuple with one value per key column in order.
 */
import type mysql from 'mysql2/promise';
import type { LookupClient, LookupTable } from '../../operators/join/lookup-table.ts';
import { ConfigError, ExternalError } from '../../runtime/errors.ts';
import type { KeyPrimitive, StateKey } from '../../state/key-groups.ts';

export interface MySqlLookupOptions {
  /** mysql://user:password@host:port/database */
  url: string;
  /** Table name, optionally `database.table`. */
  table: string;
  /** The columns the key is matched against, in the order of a tuple key. */
  keyColumns: readonly string[];
  /** Columns to read (default all). */
  columns?: readonly string[];
  /** Connections per subtask (default 4). */
  poolSize?: number;
  /** Connect timeout per connection, ms (default 10 000). */
  connectTimeoutMs?: number;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@]*@/, '//***@');
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function quoteIdent(setting: string, name: string): string {
  const parts = name.split('.');
  for (const p of parts) {
    if (!IDENT.test(p)) throw new ConfigError(setting, `'${name}' is not a plain identifier (letters, digits, _ and $; db.table allowed): rename or quote it in a view`);
  }
  return parts.map((p) => `\`${p}\``).join('.');
}

class MySqlLookupClient<K extends StateKey, D> implements LookupClient<K, D> {
  constructor(
    private readonly pool: mysql.Pool,
    private readonly options: MySqlLookupOptions,
    private readonly select: string,
    private readonly scanSql: string,
  ) {}

  async lookup(key: K): Promise<D[]> {
    const params = this.params(key);
    try {
      const [rows] = await this.pool.execute(this.select, params);
      return rows as D[];
    } catch (e) {
      throw new ExternalError(`MySQL lookup in table '${this.options.table}' for key ${JSON.stringify(params)} failed: ${(e as Error).message}`, {
        cause: e,
        retriable: true,
      });
    }
  }

  private params(key: K): KeyPrimitive[] {
    const cols = this.options.keyColumns;
    const values = (Array.isArray(key) ? key : [key]) as KeyPrimitive[];
    if (values.length !== cols.length) {
      throw new ConfigError('lookup.keyColumns', `table '${this.options.table}' is looked up by ${cols.length} column(s) (${cols.join(', ')}) but the key ${JSON.stringify(key)} has ${values.length} part(s)`);
    }
    return values;
  }

  async scan(): Promise<Iterable<[K, D]>> {
    let rows: Record<string, unknown>[];
    try {
      [rows] = (await this.pool.query(this.scanSql)) as unknown as [Record<string, unknown>[]];
    } catch (e) {
      throw new ExternalError(`MySQL full read of table '${this.options.table}' failed: ${(e as Error).message}`, { cause: e, retriable: true });
    }
    const cols = this.options.keyColumns;
    return rows.map((r): [K, D] => [(cols.length === 1 ? r[cols[0]!] : cols.map((c) => r[c])) as K, r as D]);
  }

  /**
   * Ends the pool; connections still stuck in a query (lookups the operator gave up on, e.g. behind
   * a table lock) would hold `end` forever, so after a grace period they are destroyed.
   */
  async close(): Promise<void> {
    const ended = this.pool.end().then(
      () => true,
      () => true,
    );
    if (await Promise.race([ended, new Promise<false>((r) => setTimeout(() => r(false), 1000).unref())])) return;
    const core = (this.pool as unknown as { pool?: { _allConnections?: { toArray?(): { destroy(): void }[] } } }).pool;
    for (const c of core?._allConnections?.toArray?.() ?? []) c.destroy();
  }
}

export function mysqlLookupTable<K extends StateKey, D = Record<string, unknown>>(options: MySqlLookupOptions): LookupTable<K, D> {
  if (!options.url?.startsWith('mysql://')) throw new ConfigError('mysql.url', `must look like mysql://user:password@host:port/database, got '${options.url}'`);
  const table = quoteIdent('mysql.table', options.table);
  if (!options.keyColumns || options.keyColumns.length === 0) throw new ConfigError('lookup.keyColumns', `table '${options.table}': name at least one key column`);
  const keys = options.keyColumns.map((c) => quoteIdent('lookup.keyColumns', c));
  const columns = options.columns ? options.columns.map((c) => quoteIdent('lookup.columns', c)).join(', ') : '*';
  const select = `SELECT ${columns} FROM ${table} WHERE ${keys.map((k) => `${k} = ?`).join(' AND ')}`;
  // The key columns are read too, so rows can be filed by key even if `columns` leaves them out.
  const scanSql = `SELECT ${columns}${options.columns ? `, ${keys.join(', ')}` : ''} FROM ${table}`;
  return {
    name: options.table,
    connect: async () => {
      // Loaded here, not at import: every job module imports the public API, few use MySQL.
      const { createPool } = (await import('mysql2/promise')).default;
      const pool = createPool({
        uri: options.url,
        connectionLimit: options.poolSize ?? 4,
        connectTimeout: options.connectTimeoutMs ?? 10_000,
        supportBigNumbers: true,
      });
      // Fail at open, with the table named, rather than at the first record. The catalog is asked
      // (not the table), so a table locked by someone else does not hold up the start.
      const [schema, name] = options.table.includes('.') ? options.table.split('.') : [null, options.table];
      let found: unknown[];
      try {
        [found] = (await pool.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?', [schema, name])) as unknown as [unknown[]];
      } catch (e) {
        await pool.end().catch(() => {});
        throw new ExternalError(`cannot reach MySQL for table '${options.table}' at ${redact(options.url)}: ${(e as Error).message}`, { cause: e });
      }
      if (found.length === 0) {
        await pool.end().catch(() => {});
        throw new ExternalError(`MySQL table '${options.table}' does not exist at ${redact(options.url)}: create it or fix mysql.table`, { retriable: false });
      }
      return new MySqlLookupClient<K, D>(pool, options, select, scanSql);
    },
  };
}
