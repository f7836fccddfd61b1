/**
 * A changelog into an OLAP sink (DuckDB or ClickHouse): seeded random inserts, updates (-U then +U)
 * and deletes over `keys` ids, in index order (source and changes at parallelism 1, writers keyed
 * by id in parallel), so the table after the first N operations is a pure function of the
 * parameters (`modelRows`, `prefixDigests`).
 */
import { type Change, datagen, defineJob, SeededRandom } from 'weir';
import { clickhouseSink } from 'weir/clickhouse';
import { duckdbSink } from 'weir/duckdb';

export interface Account {
  id: number;
  version: number;
  balance: number;
  owner: string;
}

export type OlapChangesParams = {
  sink: 'duckdb' | 'clickhouse';
  count: number;
  keys: number;
  seed: number;
  ratePerSecond: number;
  writers: number;
  /** DuckDB: the database file. */
  path?: string;
  /** ClickHouse: the HTTP interface and the table. */
  url?: string;
  table?: string;
  maxRows?: number;
};

type Op = { kind: 'insert' | 'update' | 'delete'; row: Account };

export function operation(i: number, random: { int(n: number): number }, keys: number): Op {
  const id = random.int(keys);
  const roll = random.int(4);
  const row = { id, version: i, balance: random.int(1_000_000) / 100, owner: `owner-${random.int(500)}` };
  return { kind: roll < 2 ? 'insert' : roll === 2 ? 'update' : 'delete', row };
}

function changesOf(op: Op): Change<Account>[] {
  if (op.kind === 'insert') return [{ kind: '+I', row: op.row }];
  if (op.kind === 'delete') return [{ kind: '-D', row: op.row }];
  return [{ kind: '-U', row: { ...op.row, version: -1 } }, { kind: '+U', row: op.row }];
}

export function accountText(a: { id: unknown; version: unknown; balance: unknown; owner: unknown }): string {
  return `${a.id}|${a.version}|${a.balance}|${a.owner}`;
}

/** The table after operations 0..count-1, as sorted text. */
export function modelRows(count: number, keys: number, seed: number): string[] {
  const model = new Map<number, Account>();
  const random = new SeededRandom();
  for (let i = 0; i < count; i++) {
    const op = operation(i, random.reset(seed, i), keys);
    if (op.kind === 'delete') model.delete(op.row.id);
    else model.set(op.row.id, op.row);
  }
  return [...model.values()].map(accountText).sort();
}

/** An order-independent digest of a set of row texts. */
export function digest(rows: readonly string[]): string {
  let a = 0;
  let b = 0;
  for (const r of rows) {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let i = 0; i < r.length; i++) {
      h1 = Math.imul(h1 ^ r.charCodeAt(i), 16777619) >>> 0;
      h2 = Math.imul(h2 + r.charCodeAt(i), 2246822519) >>> 0;
    }
    a = (a + h1) % 4294967296;
    b = (b + h2) % 4294967296;
  }
  return `${rows.length}:${a}:${b}`;
}

/** The digest of the table after every prefix of the operations (N = 0 .. count). */
export function prefixDigests(count: number, keys: number, seed: number): Set<string> {
  const model = new Map<number, string>();
  const random = new SeededRandom();
  const out = new Set<string>();
  let a = 0;
  let b = 0;
  const part = (r: string): [number, number] => {
    const d = digest([r]).split(':');
    return [Number(d[1]), Number(d[2])];
  };
  out.add(`0:0:0`);
  for (let i = 0; i < count; i++) {
    const op = operation(i, random.reset(seed, i), keys);
    const old = model.get(op.row.id);
    if (old !== undefined) {
      const [x, y] = part(old);
      a = (a - x + 4294967296) % 4294967296;
      b = (b - y + 4294967296) % 4294967296;
      model.delete(op.row.id);
    }
    if (op.kind !== 'delete') {
      const text = accountText(op.row);
      const [x, y] = part(text);
      a = (a + x) % 4294967296;
      b = (b + y) % 4294967296;
      model.set(op.row.id, text);
    }
    out.add(`${model.size}:${a}:${b}`);
  }
  return out;
}

export default defineJob(import.meta.url, (env, p: OlapChangesParams) => {
  const changes = env
    .fromSource(datagen({ name: 'operations', count: p.count, seed: p.seed, splits: 1, ratePerSecond: p.ratePerSecond, generate: (i, r) => operation(i, r, p.keys) }), { uid: 'operations', parallelism: 1 })
    .flatMap<Change<Account>>((op, out) => changesOf(op).forEach((c) => out.collect(c)), { name: 'changes', parallelism: 1 });
  const buffer = { maxRows: p.maxRows ?? 1000, flushIntervalMs: 100 };
  const table = { primaryKey: ['id'] as const, columns: { id: 'INTEGER', version: 'INTEGER' } as const, writers: p.writers, buffer };
  // the sink at the input's parallelism: the keying runs there (order per key kept), the writers at p.writers
  const options = { uid: 'accounts-olap', parallelism: 1 };
  if (p.sink === 'duckdb') changes.sinkTo(duckdbSink<Account>({ path: p.path!, table: 'accounts', ...table, primaryKey: ['id'] }), options);
  else changes.sinkTo(clickhouseSink<Account>({ url: p.url!, table: p.table!, ...table, primaryKey: ['id'] }), options);
});
