/**
 * The state machine of the loopback StarRocks test server: tables, load transactions and their
 * labels, as StarRocks documents them (Stream Load, the Stream Load transaction interface,
 * get_load_state). No HTTP here (server.ts speaks it), so unit tests drive it directly.
 *
 *   label states   PREPARE --prepare--> PREPARED --commit--> COMMITTED --publish--> VISIBLE
 *                  PREPARE / PREPARED --rollback or timeout--> ABORTED;  no such label: UNKNOWN
 *   timeouts       `timeout` (begin): PREPARE must reach PREPARED in time; `idle_transaction_timeout`
 *                  (begin): a PREPARE transaction without a load for that long is rolled back;
 *                  `prepared_timeout` (prepare): PREPARED must be committed in time
 *   labels         a label in use (not ABORTED) cannot be begun again ("Label Already Exists" with
 *                  ExistingJobStatus RUNNING or FINISHED); an ABORTED label may be reused, as in
 *                  StarRocks. Beginning a label whose transaction is still PREPARE rolls it back
 *                  (documented precaution) and answers LABEL_ALREADY_EXISTS.
 *   durability     every change is appended to a journal in the state dir (an edit log) and
 *                  replayed on start: tables, PREPARED and finished transactions survive a restart;
 *                  a PREPARE transaction (loads not prepared) is lost and rolled back, as a BE crash does.
 *
 * Time comes from `clock()`, which the test-only clock endpoint can move forward, so timeout tests
 * need no sleeping.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LoadError, parseLoad } from './load-parser.ts';

export type ColumnType = 'INT' | 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'BOOLEAN' | 'DATETIME';
export interface ColumnDef {
  name: string;
  type: ColumnType;
}
export type CellValue = string | number | boolean | null;
export type Row = Record<string, CellValue>;

export interface TableDef {
  db: string;
  table: string;
  columns: ColumnDef[];
  /** Primary key columns: a Primary Key table (upserts, deletes, partial updates). Empty: a Duplicate Key table. */
  primaryKey: string[];
}

export type TxnState = 'PREPARE' | 'PREPARED' | 'COMMITTED' | 'VISIBLE' | 'ABORTED';
export type LabelState = TxnState | 'UNKNOWN';

/** One row change of a load: an upsert (`__op` 0) or a delete (`__op` 1); `columns` are the ones it sets. */
export interface RowOp {
  op: 'upsert' | 'delete';
  row: Row;
  columns: string[];
}

export interface LoadParams {
  format: 'csv' | 'json';
  columns?: string;
  columnSeparator?: string;
  rowDelimiter?: string;
  stripOuterArray?: boolean;
  partialUpdate?: boolean;
  maxFilterRatio?: number;
}

interface Txn {
  db: string;
  table: string;
  label: string;
  txnId: number;
  state: TxnState;
  ops: RowOp[];
  /** The load parameters of the first load: every later load of the transaction must use the same. */
  params?: string;
  beganAt: number;
  lastLoadAt: number;
  timeoutMs: number;
  idleTimeoutMs?: number;
  preparedAt?: number;
  preparedTimeoutMs?: number;
  reason?: string;
  loadedRows: number;
  loadBytes: number;
  /** A plain Stream Load (not the transaction interface). */
  streamLoad: boolean;
}

/** What the label log records (the test-only label endpoint returns it). */
export interface LabelEvent {
  seq: number;
  at: number;
  db: string;
  label: string;
  /** begin, load, prepare, commit, publish, rollback, abort (timeout/restart/label reuse), stream_load */
  event: string;
  txnId?: number;
  result: 'OK' | 'FAILED' | 'LABEL_ALREADY_EXISTS';
  detail?: string;
}

/** A JSON answer in StarRocks' field names. */
export type Answer = Record<string, unknown> & { Status: string; Message: string };

export const DEFAULT_TIMEOUT_S = 600; // stream_load_default_timeout_second
export const DEFAULT_PREPARED_TIMEOUT_S = 86_400; // prepared_transaction_default_timeout_second

type JournalEntry =
  | { t: 'table'; def: TableDef }
  | { t: 'begin'; db: string; table: string; label: string; txnId: number; at: number; timeoutMs: number; idleTimeoutMs?: number; streamLoad?: boolean }
  | { t: 'load'; db: string; label: string; at: number; ops: RowOp[]; params: string; bytes: number }
  | { t: 'prepare'; db: string; label: string; at: number; preparedTimeoutMs: number }
  | { t: 'commit'; db: string; label: string; at: number }
  | { t: 'publish'; db: string; label: string; at: number }
  | { t: 'abort'; db: string; label: string; at: number; reason: string };

export class StarRocksState {
  private readonly tables = new Map<string, { def: TableDef; rows: Map<string, Row> | Row[] }>();
  /** Transactions by `db/label`: the latest one of each label. */
  private readonly txns = new Map<string, Txn>();
  private readonly log: LabelEvent[] = [];
  private nextTxnId = 1000;
  private replaying = false;
  private readonly journal: string | undefined;

  constructor(
    stateDir: string | undefined,
    readonly clock: () => number = Date.now,
  ) {
    if (stateDir === undefined) return;
    mkdirSync(stateDir, { recursive: true });
    this.journal = path.join(stateDir, 'journal.jsonl');
    if (existsSync(this.journal)) this.replay(readFileSync(this.journal, 'utf8'));
    // Loads into a transaction that was not prepared lived in the BE's memory: a restart loses them.
    for (const txn of this.txns.values()) if (txn.state === 'PREPARE') this.abort(txn, 'the server restarted before the transaction was prepared', 'abort');
    // A commit answered before the restart is published now.
    for (const txn of this.txns.values()) if (txn.state === 'COMMITTED') this.publish(txn);
  }

  private replay(text: string): void {
    this.replaying = true;
    try {
      for (const line of text.split('\n')) {
        if (line.length === 0) continue;
        let e: JournalEntry;
        try {
          e = JSON.parse(line) as JournalEntry;
        } catch {
          break; // a line cut short by a crash: everything before it is the state
        }
        this.apply(e);
      }
    } finally {
      this.replaying = false;
    }
  }

  private write(e: JournalEntry): void {
    if (!this.replaying && this.journal) appendFileSync(this.journal, JSON.stringify(e) + '\n');
    this.apply(e);
  }

  /** Applies one journal entry to memory (also on replay, where it must not journal again). */
  private apply(e: JournalEntry): void {
    switch (e.t) {
      case 'table':
        this.tables.set(tableKey(e.def.db, e.def.table), { def: e.def, rows: e.def.primaryKey.length > 0 ? new Map() : [] });
        return;
      case 'begin': {
        this.nextTxnId = Math.max(this.nextTxnId, e.txnId + 1);
        const txn: Txn = { db: e.db, table: e.table, label: e.label, txnId: e.txnId, state: 'PREPARE', ops: [], beganAt: e.at, lastLoadAt: e.at, timeoutMs: e.timeoutMs, loadedRows: 0, loadBytes: 0, streamLoad: e.streamLoad ?? false };
        if (e.idleTimeoutMs !== undefined) txn.idleTimeoutMs = e.idleTimeoutMs;
        this.txns.set(labelKey(e.db, e.label), txn);
        this.event(txn, e.streamLoad ? 'stream_load' : 'begin', 'OK', undefined, e.at);
        return;
      }
      case 'load': {
        const txn = this.txns.get(labelKey(e.db, e.label))!;
        txn.ops.push(...e.ops);
        txn.params ??= e.params;
        txn.lastLoadAt = e.at;
        txn.loadedRows += e.ops.length;
        txn.loadBytes += e.bytes;
        if (!txn.streamLoad) this.event(txn, 'load', 'OK', `${e.ops.length} rows`, e.at);
        return;
      }
      case 'prepare': {
        const txn = this.txns.get(labelKey(e.db, e.label))!;
        txn.state = 'PREPARED';
        txn.preparedAt = e.at;
        txn.preparedTimeoutMs = e.preparedTimeoutMs;
        this.event(txn, 'prepare', 'OK', undefined, e.at);
        return;
      }
      case 'commit': {
        const txn = this.txns.get(labelKey(e.db, e.label))!;
        txn.state = 'COMMITTED';
        this.event(txn, 'commit', 'OK', undefined, e.at);
        return;
      }
      case 'publish': {
        const txn = this.txns.get(labelKey(e.db, e.label))!;
        this.applyOps(txn);
        txn.state = 'VISIBLE';
        txn.ops = [];
        this.event(txn, 'publish', 'OK', undefined, e.at);
        return;
      }
      case 'abort': {
        const txn = this.txns.get(labelKey(e.db, e.label))!;
        txn.state = 'ABORTED';
        txn.reason = e.reason;
        txn.ops = [];
        this.event(txn, 'abort', 'OK', e.reason, e.at);
        return;
      }
    }
  }

  private event(txn: Pick<Txn, 'db' | 'label' | 'txnId'>, event: string, result: LabelEvent['result'], detail?: string, at = this.clock()): void {
    const e: LabelEvent = { seq: this.log.length + 1, at, db: txn.db, label: txn.label, event, txnId: txn.txnId, result };
    if (detail !== undefined) e.detail = detail;
    this.log.push(e);
  }

  // ---- tables (test-only endpoint) ----

  createTable(def: TableDef): void {
    if (this.tables.has(tableKey(def.db, def.table))) throw new Error(`table ${def.db}.${def.table} exists`);
    for (const k of def.primaryKey) if (!def.columns.some((c) => c.name === k)) throw new Error(`primary key column ${k} is not a column`);
    this.write({ t: 'table', def });
  }

  tableRows(db: string, table: string): Row[] {
    const t = this.tables.get(tableKey(db, table));
    if (!t) throw new Error(`no table ${db}.${table}`);
    if (Array.isArray(t.rows)) return t.rows.map((r) => ({ ...r }));
    return [...t.rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => ({ ...r }));
  }

  tableDef(db: string, table: string): TableDef | undefined {
    return this.tables.get(tableKey(db, table))?.def;
  }

  labelLog(): LabelEvent[] {
    return this.log.map((e) => ({ ...e }));
  }

  transactions(): { db: string; table: string; label: string; txnId: number; state: TxnState; pendingRows: number; reason?: string }[] {
    return [...this.txns.values()].map((t) => ({ db: t.db, table: t.table, label: t.label, txnId: t.txnId, state: t.state, pendingRows: t.ops.length, ...(t.reason ? { reason: t.reason } : {}) }));
  }

  // ---- time ----

  /** Rolls back what timed out and publishes what was committed. Called before every request and periodically. */
  tick(): void {
    const now = this.clock();
    for (const txn of this.txns.values()) {
      if (txn.state === 'PREPARE') {
        if (now - txn.beganAt > txn.timeoutMs) this.abort(txn, `timeout by txn manager: not prepared within ${txn.timeoutMs / 1000} s (timeout)`, 'abort');
        else if (txn.idleTimeoutMs !== undefined && now - txn.lastLoadAt > txn.idleTimeoutMs) this.abort(txn, `idle transaction timeout: no load for ${txn.idleTimeoutMs / 1000} s (idle_transaction_timeout)`, 'abort');
      } else if (txn.state === 'PREPARED' && now - txn.preparedAt! > txn.preparedTimeoutMs!) {
        this.abort(txn, `prepared transaction timeout: not committed within ${txn.preparedTimeoutMs! / 1000} s (prepared_timeout)`, 'abort');
      }
    }
  }

  /** Makes committed transactions visible (the publish step), unless held back by an injected publish timeout. */
  publishCommitted(): void {
    for (const txn of this.txns.values()) if (txn.state === 'COMMITTED') this.publish(txn);
  }

  private publish(txn: Txn): void {
    this.write({ t: 'publish', db: txn.db, label: txn.label, at: this.clock() });
  }

  private abort(txn: Txn, reason: string, _kind: 'abort'): void {
    this.write({ t: 'abort', db: txn.db, label: txn.label, at: this.clock(), reason });
  }

  // ---- the transaction interface ----

  labelState(db: string, label: string): LabelState {
    this.tick();
    return this.txns.get(labelKey(db, label))?.state ?? 'UNKNOWN';
  }

  begin(db: string, table: string, label: string, opts: { timeoutS?: number; idleTimeoutS?: number } = {}): Answer {
    this.tick();
    const bad = labelProblem(label);
    if (bad) return { Status: 'FAILED', Message: bad, Label: label };
    if (!this.tables.has(tableKey(db, table))) return { Status: 'FAILED', Message: `Table [${table}] does not exist in database [${db}]`, Label: label };
    const existing = this.txns.get(labelKey(db, label));
    if (existing && existing.state !== 'ABORTED') {
      const running = existing.state === 'PREPARE' || existing.state === 'PREPARED';
      this.event(existing, 'begin', 'LABEL_ALREADY_EXISTS', existing.state);
      // Documented: beginning with the label of a transaction still open makes that one fail.
      if (existing.state === 'PREPARE') this.abort(existing, 'its label was begun again', 'abort');
      return { Status: 'LABEL_ALREADY_EXISTS', ExistingJobStatus: running ? 'RUNNING' : 'FINISHED', Message: `Label [${label}] has already been used.`, Label: label };
    }
    const timeoutMs = (opts.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000;
    const at = this.clock();
    const txnId = this.nextTxnId++;
    this.write({ t: 'begin', db, table, label, txnId, at, timeoutMs, ...(opts.idleTimeoutS !== undefined ? { idleTimeoutMs: opts.idleTimeoutS * 1000 } : {}) });
    return { Status: 'OK', Message: '', Label: label, TxnId: txnId, BeginTxnTimeMs: 0 };
  }

  load(db: string, table: string, label: string, body: string, params: LoadParams): Answer {
    this.tick();
    const txn = this.txns.get(labelKey(db, label));
    if (!txn) return { Status: 'FAILED', Message: 'TXN_NOT_EXISTS', Label: label };
    const base = { TxnId: txn.txnId, Label: label };
    if (txn.state !== 'PREPARE' || txn.table !== table) return { ...base, Status: 'FAILED', Message: txn.table !== table ? `the transaction loads table ${txn.table}, not ${table}` : 'Transcation State Invalid' };
    const paramKey = JSON.stringify(params);
    if (txn.params !== undefined && txn.params !== paramKey) return this.failLoad(txn, 'the load parameters of every /api/transaction/load in one transaction must be the same');
    let ops: RowOp[];
    let filtered: string[];
    try {
      ({ ops, filtered } = parseLoad(this.tables.get(tableKey(db, table))!.def, body, params));
    } catch (e) {
      return this.failLoad(txn, (e as Error).message, e instanceof LoadError ? e.filtered : []);
    }
    const total = ops.length + filtered.length;
    if (filtered.length > 0 && filtered.length / total > (params.maxFilterRatio ?? 0)) return this.failLoad(txn, 'too many filtered rows', filtered, total);
    const bytes = Buffer.byteLength(body);
    this.write({ t: 'load', db, label, at: this.clock(), ops, params: paramKey, bytes });
    return { ...base, Seq: 0, Status: 'OK', Message: '', NumberTotalRows: total, NumberLoadedRows: ops.length, NumberFilteredRows: filtered.length, NumberUnselectedRows: 0, LoadBytes: bytes, LoadTimeMs: 0, StreamLoadPutTimeMs: 0, ReceivedDataTimeMs: 0 };
  }

  /** Documented: a load that fails rolls its transaction back. */
  private failLoad(txn: Txn, message: string, filtered: string[] = [], total = filtered.length): Answer {
    this.abort(txn, `load failed: ${message}`, 'abort');
    const answer: Answer = { TxnId: txn.txnId, Label: txn.label, Status: 'FAILED', Message: message, NumberTotalRows: total, NumberLoadedRows: 0, NumberFilteredRows: filtered.length };
    if (filtered.length > 0) answer.ErrorURL = errorLogKey(txn.db, txn.label);
    this.errorLogs.set(errorLogKey(txn.db, txn.label), filtered);
    return answer;
  }

  /** Rejected rows of failed loads, by the key that ErrorURL carries. */
  readonly errorLogs = new Map<string, string[]>();

  prepare(db: string, label: string, opts: { preparedTimeoutS?: number } = {}): Answer {
    this.tick();
    const txn = this.txns.get(labelKey(db, label));
    if (!txn) return { Status: 'FAILED', Message: 'Transcation Not Exist', Label: label };
    const base = { TxnId: txn.txnId, Label: label };
    if (txn.state === 'PREPARED') return { ...base, Status: 'OK', Message: 'Transaction already prepared' };
    if (txn.state !== 'PREPARE') return { ...base, Status: 'FAILED', Message: txn.state === 'ABORTED' ? `Transaction [${label}] has been aborted: ${txn.reason}` : `Transcation State Invalid: ${txn.state}` };
    this.write({ t: 'prepare', db, label, at: this.clock(), preparedTimeoutMs: (opts.preparedTimeoutS ?? DEFAULT_PREPARED_TIMEOUT_S) * 1000 });
    return { ...base, Status: 'OK', Message: '', ...this.counts(txn) };
  }

  /** Commits (from PREPARED, or from PREPARE: prepare and commit in one). `publish: false` leaves it COMMITTED (a publish timeout). */
  commit(db: string, label: string, publish = true): Answer {
    this.tick();
    const txn = this.txns.get(labelKey(db, label));
    if (!txn) return { Status: 'FAILED', Message: 'Transcation Not Exist', Label: label };
    const base = { TxnId: txn.txnId, Label: label };
    if (txn.state === 'COMMITTED' || txn.state === 'VISIBLE') return { ...base, Status: 'OK', Message: 'Transaction already commited' };
    if (txn.state === 'ABORTED') return { ...base, Status: 'FAILED', Message: `Transaction [${label}] has been aborted: ${txn.reason}` };
    const counts = this.counts(txn);
    this.write({ t: 'commit', db, label, at: this.clock() });
    if (!publish) return { ...base, Status: 'FAILED', Message: 'publish timeout', CommitAndPublishTimeMs: 0 };
    this.publish(txn);
    return { ...base, Status: 'OK', Message: '', ...counts, CommitAndPublishTimeMs: 0 };
  }

  rollback(db: string, label: string): Answer {
    this.tick();
    const txn = this.txns.get(labelKey(db, label));
    if (!txn) return { Status: 'FAILED', Message: 'Transcation Not Exist', Label: label };
    const base = { TxnId: txn.txnId, Label: label };
    if (txn.state === 'COMMITTED' || txn.state === 'VISIBLE') return { ...base, Status: 'FAILED', Message: `Transaction [${label}] is ${txn.state}: a committed transaction cannot be rolled back` };
    if (txn.state !== 'ABORTED') this.abort(txn, 'rolled back by the client', 'abort');
    return { ...base, Status: 'OK', Message: '' };
  }

  // ---- plain Stream Load: begin, load and commit in one request ----

  streamLoad(db: string, table: string, label: string, body: string, params: LoadParams, opts: { timeoutS?: number } = {}): Answer {
    this.tick();
    const bad = labelProblem(label);
    if (bad) return { Status: 'Fail', Message: bad, Label: label };
    if (!this.tables.has(tableKey(db, table))) return { Status: 'Fail', Message: `Table [${table}] does not exist in database [${db}]`, Label: label };
    const existing = this.txns.get(labelKey(db, label));
    if (existing && existing.state !== 'ABORTED') {
      this.event(existing, 'stream_load', 'LABEL_ALREADY_EXISTS', existing.state);
      const finished = existing.state === 'VISIBLE' || existing.state === 'COMMITTED';
      return { Status: 'Label Already Exists', ExistingJobStatus: finished ? 'FINISHED' : 'RUNNING', Message: `Label [${label}] has already been used.`, Label: label, TxnId: existing.txnId };
    }
    const txnId = this.nextTxnId++;
    const at = this.clock();
    this.write({ t: 'begin', db, table, label, txnId, at, timeoutMs: (opts.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000, streamLoad: true });
    const loaded = this.load(db, table, label, body, params);
    if (loaded.Status !== 'OK') return { ...loaded, Status: 'Fail' };
    this.write({ t: 'commit', db, label, at: this.clock() });
    this.publish(this.txns.get(labelKey(db, label))!);
    return { ...loaded, Status: 'Success', Message: 'OK', BeginTxnTimeMs: 0, StreamLoadPlanTimeMs: 0, ReadDataTimeMs: 0, WriteDataTimeMs: 0, CommitAndPublishTimeMs: 0 };
  }

  private counts(txn: Txn): Record<string, number> {
    return { NumberTotalRows: txn.loadedRows, NumberLoadedRows: txn.loadedRows, NumberFilteredRows: 0, NumberUnselectedRows: 0, LoadBytes: txn.loadBytes, LoadTimeMs: 0, StreamLoadPutTimeMs: 0, ReceivedDataTimeMs: 0, WriteDataTimeMs: 0 };
  }

  /** Applies a transaction's row changes in load order: upserts (full or partial) and deletes by primary key; appends for Duplicate Key tables. */
  private applyOps(txn: Txn): void {
    const t = this.tables.get(tableKey(txn.db, txn.table))!;
    if (Array.isArray(t.rows)) {
      for (const o of txn.ops) t.rows.push(fullRow(t.def, o.row));
      return;
    }
    for (const o of txn.ops) {
      const key = primaryKeyOf(t.def, o.row);
      if (o.op === 'delete') {
        t.rows.delete(key);
        continue;
      }
      const old = t.rows.get(key);
      if (old && o.columns.length < t.def.columns.length) {
        // partial update: only the loaded columns change
        const next = { ...old };
        for (const c of o.columns) next[c] = o.row[c] ?? null;
        t.rows.set(key, next);
      } else t.rows.set(key, fullRow(t.def, o.row));
    }
  }
}

/** StarRocks labels: letters, digits, '-', '_' and ':', 1 to 128 characters. */
function labelProblem(label: string): string | undefined {
  if (label.length === 0 || label.length > 128) return `Label format error: a label is 1 to 128 characters, got ${label.length}`;
  if (!/^[-_A-Za-z0-9:]+$/.test(label)) return `Label format error: '${label}' may only contain letters, digits, '-', '_' and ':'`;
  return undefined;
}

export function tableKey(db: string, table: string): string {
  return `${db}.${table}`;
}

function labelKey(db: string, label: string): string {
  return `${db}/${label}`;
}

function errorLogKey(db: string, label: string): string {
  return `error_log_${db}_${label}`;
}

function fullRow(def: TableDef, row: Row): Row {
  const out: Row = {};
  for (const c of def.columns) out[c.name] = row[c.name] ?? null;
  return out;
}

function primaryKeyOf(def: TableDef, row: Row): string {
  return JSON.stringify(def.primaryKey.map((k) => row[k] ?? null));
}
