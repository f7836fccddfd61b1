/**
 * Reads the binlog split: a zongji stream from the split's position, turned into records and
 * position marks in a buffer that `poll` drains. The split's checkpointed position always matches
 * what was emitted: the start of the transaction being emitted plus how many of its records went
 * out (`skipRows`), so a restore replays that transaction and skips what was already emitted
 * (Flink CDC's "skip events / skip rows"). Heartbeats (`@master_heartbeat_period`) and the commits
 * of tables not captured move the position on, so an idle captured table does not pin an old one.
 */
import type ZongJiType from '@vlasky/zongji';
import { ExternalError, WeirError } from '../../../runtime/errors.ts';
import type { RowKind } from '../../../operators/changelog.ts';
import { connectionConfig, explainMysqlError, tableMatches } from './catalog.ts';
import { applySchemaChange, parseDdl } from './ddl.ts';
import { HandoffFilter } from './handoff.ts';
import { formatPosition } from './position.ts';
import type { RecordMaker } from './records.ts';
import { applyBehavior } from './schema-change.ts';
import type { BinlogPosition, BinlogSplit, CdcRecord, CdcTableSchema, ChunkBound, MySqlCdcOptions } from './types.ts';

interface PositionState {
  start: BinlogPosition | null;
  skipRows: number;
  gtidPosition: string | undefined;
  schemas?: Record<string, CdcTableSchema>;
  outSchemas?: Record<string, CdcTableSchema>;
}

/** A record (or a position mark) with the split's position after it: one object per record. */
interface Item extends PositionState {
  record: CdcRecord | null;
}

const HIGH_WATER = 20_000;
const LOW_WATER = 2_000;

type Next = (err: unknown, enabled?: boolean) => void;
interface ZongJiInternals {
  connection: { query(sql: string, cb: (err: unknown) => void): void };
  _isChecksumEnabled(next: Next): void;
}

/**
 * zongji (loaded on first use: jobs that import `weir/mysql` for lookups do not load it), with a
 * heartbeat period set on the dump connection before the dump starts: zongji runs its checksum
 * query on that connection just before the dump, so the SET goes in front of it.
 */
async function createZongJi(config: object, heartbeatMs: number): Promise<ZongJiType> {
  const ZongJi = (await import('@vlasky/zongji')).default;
  const z = new ZongJi(config);
  if (heartbeatMs > 0) {
    const internals = z as unknown as ZongJiInternals;
    const original = internals._isChecksumEnabled.bind(z);
    const nanos = BigInt(heartbeatMs) * 1_000_000n;
    internals._isChecksumEnabled = (next: Next) =>
      internals.connection.query(`SET @master_heartbeat_period = ${nanos}`, (err) => (err ? next(err) : original(next)));
  }
  return z;
}

export class BinlogReading {
  private readonly items: Item[] = [];
  private zongji: ZongJiType | null = null;
  private closed = false;
  private paused = false;
  private error: WeirError | null = null;
  private wake: (() => void) | null = null;
  /** The emitted position (what the checkpoint stores). */
  readonly split: BinlogSplit;

  // Receive-side tracking (ahead of what was emitted).
  private file: string;
  private inTxn = false;
  private txnStart: BinlogPosition | null;
  private units = 0;
  private skipLeft: number;
  private pendingGtid: { domain: string; gtid: string } | null = null;
  private readonly gtids = new Map<string, string>();
  private schemas: Record<string, CdcTableSchema>;
  private outSchemas: Record<string, CdcTableSchema>;
  private readonly filter: HandoffFilter;

  constructor(
    split: BinlogSplit,
    private readonly options: MySqlCdcOptions,
    private readonly maker: RecordMaker,
  ) {
    this.split = structuredClone(split);
    this.file = split.start?.file ?? '';
    this.txnStart = split.start;
    this.skipLeft = split.skipRows;
    this.schemas = { ...split.schemas };
    this.outSchemas = { ...(split.outSchemas ?? split.schemas) };
    for (const g of (split.gtidPosition ?? '').split(',').filter(Boolean)) this.gtids.set(g.split('-')[0]!, g);
    this.gtidText = split.gtidPosition;
    this.filter = new HandoffFilter(split.chunks);
  }

  start(): void {
    createZongJi(connectionConfig(this.options), this.options.heartbeatIntervalMs ?? 30_000).then(
      (z) => this.run(z),
      (e) => this.fail(new ExternalError(`MySQL CDC: cannot load zongji: ${(e as Error).message}`, { cause: e })),
    );
  }

  private run(z: ZongJiType): void {
    if (this.closed) return;
    this.zongji = z;
    z.on('binlog', (e: BinlogEventLike) => {
      try {
        this.onEvent(e);
      } catch (err) {
        this.fail(err instanceof WeirError ? err : new ExternalError(`MySQL CDC: reading the binlog at ${this.file}:${e.nextPosition} failed: ${(err as Error).message}`, { cause: err }));
      }
    });
    z.on('error', (err: unknown) => this.fail(this.explain(err)));
    const s = this.split;
    const includeSchema = Object.fromEntries(this.options.databases.map((d) => [d, true as const]));
    const base = {
      serverId: serverIdOf(this.options),
      includeEvents: ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query', 'mariadbgtid', 'gtid', 'heartbeat'],
      includeSchema,
    };
    if (s.start) z.start({ ...base, filename: s.start.file, position: s.start.pos });
    else if (s.gtid !== undefined) z.start({ ...base, gtidSet: s.gtid });
    else z.start({ ...base, startAtEnd: true });
  }

  private explain(err: unknown): WeirError {
    const e = err as { code?: string; errno?: number; message?: string };
    const msg = e.message ?? String(err);
    const at = this.split.start ? formatPosition(this.split.start) : (this.split.gtid ?? 'the end');
    if (/bogus data in log event/i.test(msg)) {
      return new ExternalError(
        `MySQL CDC: the binlog position ${at} is not where an event begins on ${this.options.host}:${this.options.port ?? 3306} (${msg}); a position given in 'startup' must be one SHOW MASTER STATUS or SHOW BINLOG EVENTS printed, else restart from an earlier checkpoint and report this`,
        { cause: err, retriable: false },
      );
    }
    if (e.errno === 1236 || /could not find first log file|purged|binary log index/i.test(msg)) {
      return new ExternalError(
        `MySQL CDC: the binlog position ${at} is no longer on ${this.options.host}:${this.options.port ?? 3306} (purged; ${msg}). Changes after it are lost to this job: restart it without its checkpoint (startup 'initial') to take a new snapshot, and keep binlogs longer (binlog_expire_logs_seconds)`,
        { cause: err, retriable: false },
      );
    }
    if (/server.?id|same server/i.test(msg) || e.errno === 1914) {
      return new ExternalError(
        `MySQL CDC: another replica uses server id ${serverIdOf(this.options)} on ${this.options.host} (${msg}): give each job (and each replica) its own 'serverId'`,
        { cause: err, retriable: false },
      );
    }
    if (e.code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || e.errno === 1227) {
      return new ExternalError(`MySQL CDC: user '${this.options.user}' may not read the binlog (${msg}): GRANT REPLICATION SLAVE ON *.* TO '${this.options.user}'`, { cause: err, retriable: false });
    }
    return explainMysqlError(this.options, err, 'reading the binlog');
  }

  private fail(err: WeirError): void {
    this.error ??= err;
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private push(record: CdcRecord | null, state: PositionState): void {
    (state as Item).record = record;
    this.items.push(state as Item);
    if (!this.paused && this.items.length > HIGH_WATER) {
      this.paused = true;
      this.connection()?.pause();
    }
    this.wakeUp();
  }

  private connection(): { pause(): void; resume(): void } | null {
    return (this.zongji as unknown as { connection?: { pause(): void; resume(): void } } | null)?.connection ?? null;
  }

  private posState(): PositionState {
    return { start: this.txnStart, skipRows: this.units, gtidPosition: this.gtidString() };
  }

  /** The GTID position text, rebuilt only when a transaction commits (not per row). */
  private gtidText: string | undefined;

  private gtidString(): string | undefined {
    return this.gtidText;
  }

  private commit(next: BinlogPosition): void {
    if (this.pendingGtid) {
      this.gtids.set(this.pendingGtid.domain, this.pendingGtid.gtid);
      this.gtidText = [...this.gtids.values()].join(',');
    }
    this.pendingGtid = null;
    this.inTxn = false;
    this.units = 0;
    this.skipLeft = 0;
    this.txnStart = next;
    this.push(null, this.posState());
  }

  private onEvent(e: BinlogEventLike): void {
    const name = e.getEventName();
    const end: BinlogPosition = { file: this.file, pos: e.nextPosition };
    switch (name) {
      case 'rotate':
        this.file = e.binlogName!;
        // Started from a GTID: the server's first (fake) rotate names the file, not where in it
        // the dump starts; the first commit gives the position.
        if (!this.inTxn && this.txnStart !== null) {
          this.txnStart = { file: this.file, pos: Number(e.position) };
          this.push(null, this.posState());
        }
        return;
      case 'heartbeat':
        if (e.binlogName) this.file = e.binlogName;
        if (!this.inTxn && e.nextPosition > 0) {
          this.txnStart = { file: this.file, pos: e.nextPosition };
          this.push(null, this.posState());
        }
        return;
      case 'mariadbgtid':
      case 'gtid':
        this.inTxn = true;
        this.units = 0;
        this.txnStart = { file: this.file, pos: this.eventStart(e) };
        if (e.gtid) this.pendingGtid = { domain: name === 'mariadbgtid' ? String(e.domainId) : e.gtid.split(':')[0]!, gtid: e.gtid };
        return;
      case 'xid':
        this.commit(end);
        return;
      case 'query': {
        const q = (e.query ?? '').trim();
        const upper = q.toUpperCase();
        if (upper === 'BEGIN') {
          if (!this.inTxn) {
            this.inTxn = true;
            this.units = 0;
            this.txnStart = { file: this.file, pos: this.eventStart(e) };
          }
          return;
        }
        if (upper === 'COMMIT' || upper === 'ROLLBACK' || upper.startsWith('XA ')) {
          this.commit(end);
          return;
        }
        this.onDdl(q, e.schema ?? '');
        this.commit(end);
        return;
      }
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        this.onRows(name, e, end);
        return;
      default:
        return;
    }
  }

  /**
   * Where an event begins: zongji's `size` is the event's length without its 19-byte header (and
   * without the 4-byte checksum when the server writes them). A restore starts the dump there, so it
   * must be an event boundary: the server answers anything else with "bogus data in log event".
   */
  private eventStart(e: BinlogEventLike): number {
    const checksum = (this.zongji as { useChecksum?: boolean } | null)?.useChecksum ? 4 : 0;
    return e.nextPosition - e.size - EVENT_HEADER_BYTES - checksum;
  }

  private onDdl(sql: string, db: string): void {
    let parsed;
    try {
      parsed = parseDdl(sql, db);
    } catch {
      parsed = null;
    }
    if (!parsed || !this.captured(parsed.table)) return;
    const before = this.schemas[parsed.table];
    for (const change of parsed.changes) {
      const actualBefore = this.schemas[parsed.table] ?? before;
      let actualAfter: CdcTableSchema | undefined;
      if (change.type === 'create-table') actualAfter = parsed.created!;
      else if (change.type === 'drop-table') actualAfter = undefined;
      else if (actualBefore) actualAfter = applySchemaChange(actualBefore, change);
      else continue; // a table the job never knew: nothing to change
      if (actualAfter) this.schemas = { ...this.schemas, [parsed.table]: actualAfter };
      else if (change.type === 'drop-table') {
        const { [parsed.table]: _, ...rest } = this.schemas;
        this.schemas = rest;
      }
      const shownBefore = this.outSchemas[parsed.table];
      const result = applyBehavior(this.options.schemaChanges ?? 'lenient', change, shownBefore, actualAfter ?? actualBefore!, sql);
      if (result.shown) this.outSchemas = { ...this.outSchemas, [parsed.table]: result.shown };
      else if (change.type === 'drop-table' && result.emit) {
        const { [parsed.table]: _, ...rest } = this.outSchemas;
        this.outSchemas = rest;
      }
      this.units++;
      const state = { ...this.posState(), schemas: this.schemas, outSchemas: this.outSchemas };
      if (this.skipLeft > 0) {
        this.skipLeft--;
        this.push(null, state);
        continue;
      }
      if (!result.emit) {
        this.push(null, state);
        continue;
      }
      const route = this.maker.route(parsed.table);
      const shown = result.shown ?? shownBefore ?? actualBefore!;
      this.push(
        { kind: 'schema', change: result.emit, table: route.target, sourceTable: parsed.table, schema: this.maker.outSchema(shown), ddl: sql, tolerateFailure: this.options.schemaChanges === 'try_evolve' },
        state,
      );
    }
  }

  private readonly capturedTables = new Map<string, boolean>();

  private captured(table: string): boolean {
    let c = this.capturedTables.get(table);
    if (c === undefined) this.capturedTables.set(table, (c = tableMatches(this.options, table)));
    return c;
  }

  private schemaFromTableMap(table: string, e: BinlogEventLike): CdcTableSchema {
    const map = e.tableMap?.[e.tableId!];
    const columns = (map?.columnSchemas ?? []).map((c) => ({ name: c.COLUMN_NAME, type: c.COLUMN_TYPE, nullable: true }));
    const s: CdcTableSchema = { table, columns, primaryKeys: [] };
    this.schemas = { ...this.schemas, [table]: s };
    this.outSchemas = { ...this.outSchemas, [table]: s };
    return s;
  }

  private onRows(name: string, e: BinlogEventLike, end: BinlogPosition): void {
    const map = e.tableMap?.[e.tableId!];
    if (!map) return;
    const table = `${map.parentSchema}.${map.tableName}`;
    if (!this.captured(table)) return;
    const actual = this.schemas[table] ?? this.schemaFromTableMap(table, e);
    const shown = this.outSchemas[table] ?? actual;
    const key = actual.primaryKeys[0];
    // Binlog event times have whole seconds: an event in the start's second counts as at or after it.
    const tooEarly = this.split.fromTimestamp !== undefined && e.timestamp < Math.floor(this.split.fromTimestamp / 1000) * 1000;
    const emit = (kind: RowKind, raw: Record<string, unknown>) => {
      this.units++;
      if (this.skipLeft > 0) {
        this.skipLeft--;
        return;
      }
      if (tooEarly) return;
      if (!this.filter.passed(end)) {
        const rawKey = key === undefined ? null : raw[key];
        const k =
          rawKey === null || rawKey === undefined ? null
          : typeof rawKey === 'number' || typeof rawKey === 'bigint' ? rawKey
          : /^-?\d+$/.test(String(rawKey)) ? BigInt(String(rawKey))
          : String(rawKey);
        if (!this.filter.emits(table, k as ChunkBound | null, end)) return;
      }
      this.push(this.maker.make(kind, raw, actual, shown), this.posState());
    };
    if (name === 'writerows') for (const r of e.rows as Record<string, unknown>[]) emit('+I', r);
    else if (name === 'deleterows') for (const r of e.rows as Record<string, unknown>[]) emit('-D', r);
    else
      for (const r of e.rows as { before: Record<string, unknown>; after: Record<string, unknown> }[]) {
        emit('-U', r.before);
        emit('+U', r.after);
      }
  }

  /** Emits up to `max` buffered records; the split's position follows what went out. */
  drain(collect: (r: CdcRecord) => void, max: number): number {
    if (this.error) throw this.error;
    let n = 0;
    let i = 0;
    for (; i < this.items.length && n < max; i++) {
      const it = this.items[i]!;
      if (it.record) {
        collect(it.record);
        n++;
      }
      this.apply(it);
    }
    this.items.splice(0, i);
    if (this.paused && this.items.length < LOW_WATER) {
      this.paused = false;
      this.connection()?.resume();
    }
    return n;
  }

  private apply(s: PositionState): void {
    const split = this.split;
    if (s.start) {
      split.start = s.start;
      delete split.gtid;
    }
    split.skipRows = s.skipRows;
    if (s.gtidPosition !== undefined) split.gtidPosition = s.gtidPosition;
    if (s.schemas) split.schemas = s.schemas;
    if (s.outSchemas) split.outSchemas = s.outSchemas;
    // Past every chunk's position the hand-off needs them no more: the state shrinks.
    if (split.chunks.length > 0 && s.start && this.filter.passed(s.start)) split.chunks = [];
  }

  get buffered(): number {
    return this.items.length;
  }

  available(): Promise<void> {
    if (this.items.length > 0 || this.error) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  snapshot(): BinlogSplit {
    return structuredClone(this.split);
  }

  async close(): Promise<void> {
    this.closed = true;
    const z = this.zongji;
    this.zongji = null;
    if (z) await new Promise<void>((resolve) => {
      try {
        z.once('stopped', () => resolve());
        z.stop();
      } catch {
        resolve();
      }
      setTimeout(resolve, 1000).unref();
    });
  }
}

export function serverIdOf(o: MySqlCdcOptions): number {
  if (o.serverId !== undefined) return o.serverId;
  if (o.serverIdRange) return o.serverIdRange[0];
  let h = 0;
  for (const ch of `${o.databases.join(',')}/${o.tables?.source ?? ''}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 5400 + (h % 100_000);
}

/** The common header of a binlog event (timestamp, type, server id, length, next position, flags). */
const EVENT_HEADER_BYTES = 19;

/** The fields of zongji's events this reader uses. */
interface BinlogEventLike {
  getEventName(): string;
  nextPosition: number;
  size: number;
  timestamp: number;
  binlogName?: string;
  position?: number | string;
  gtid?: string;
  domainId?: number;
  query?: string;
  schema?: string;
  tableId?: number;
  tableMap?: Record<number, { parentSchema: string; tableName: string; columnSchemas?: { COLUMN_NAME: string; COLUMN_TYPE: string }[] }>;
  rows?: unknown[];
}
