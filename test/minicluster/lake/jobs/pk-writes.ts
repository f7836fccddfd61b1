/**
 * A job writing a primary-key table through the lake sink: seeded random inserts, updates (-U then
 * +U) and deletes over `keys` ids, in index order (source at parallelism 1, writers in parallel),
 * so the table's final content is a pure function of the parameters (see `expectedRows`).
 */
import { type Change, datagen, defineJob } from 'weir';
import { lakeSink, LocalFileLock, type S3Options, type SchemaDefinition, T } from 'weir/lake';

export interface Account {
  id: number;
  version: number;
  balance: number;
  owner: string;
}

export type PkWritesParams = {
  count: number;
  keys: number;
  seed: number;
  path: string;
  writers: number;
  ratePerSecond?: number;
  s3?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  lockDir?: string;
  commitUser?: string;
  compactionTrigger?: number;
  /** Ids are keyOffset .. keyOffset + keys - 1 (two jobs with disjoint ranges can share a table). */
  keyOffset?: number;
  /** An append-only table (no primary key): every operation's row is inserted, so a duplicate shows as an extra row. */
  appendOnly?: boolean;
  writeBufferRows?: number;
  /** Expire snapshots every this many commits (the sink's default 10; 0: keep every snapshot). */
  expireEvery?: number;
  /** The table's changelog-producer (default none). */
  changelogProducer?: 'input' | 'lookup';
  /** More table options (e.g. deletion-vectors.enabled). */
  tableOptions?: Record<string, string>;
};

export function accountSchema(trigger = 5, appendOnly = false, changelogProducer?: string): SchemaDefinition {
  if (appendOnly) {
    return { ...accountSchema(trigger), primaryKeys: [], options: { bucket: '4', 'bucket-key': 'id', 'num-sorted-run.compaction-trigger': String(trigger) } };
  }
  return {
    fields: [
      { name: 'id', type: T.notNull(T.int()) },
      { name: 'version', type: T.int() },
      { name: 'balance', type: T.double() },
      { name: 'owner', type: T.string() },
    ],
    primaryKeys: ['id'],
    options: { bucket: '4', 'num-sorted-run.compaction-trigger': String(trigger), ...(changelogProducer ? { 'changelog-producer': changelogProducer } : {}) },
  };
}

function withOptions(schema: SchemaDefinition, options: Record<string, string> | undefined): SchemaDefinition {
  return options ? { ...schema, options: { ...schema.options, ...options } } : schema;
}

type Op = { kind: 'insert' | 'update' | 'delete'; row: Account };

export function operation(i: number, random: { int(n: number): number }, keys: number, keyOffset = 0): Op {
  const id = keyOffset + random.int(keys);
  const roll = random.int(4);
  const row = { id, version: i, balance: random.int(1_000_000) / 100, owner: `owner-${random.int(500)}` };
  return { kind: roll < 2 ? 'insert' : roll === 2 ? 'update' : 'delete', row };
}

export function changesOf(op: Op): Change<Account>[] {
  if (op.kind === 'insert') return [{ kind: '+I', row: op.row }];
  if (op.kind === 'delete') return [{ kind: '-D', row: op.row }];
  return [{ kind: '-U', row: { ...op.row, version: -1 } }, { kind: '+U', row: op.row }];
}

export default defineJob(import.meta.url, (env, params: PkWritesParams) => {
  const s3: S3Options | undefined = params.s3;
  env
    .fromSource(
      datagen({ name: 'operations', count: params.count, seed: params.seed, splits: 1, ...(params.ratePerSecond ? { ratePerSecond: params.ratePerSecond } : {}), generate: (i, r) => operation(i, r, params.keys, params.keyOffset ?? 0) }),
      { uid: 'operations', parallelism: 1 },
    )
    .flatMap<Change<Account>>((op, out) => (params.appendOnly ? [{ kind: '+I' as const, row: op.row }] : changesOf(op)).forEach((c) => out.collect(c)), { name: 'changes', parallelism: 1 })
    .sinkTo(
      lakeSink<Account>({
        path: params.path,
        schema: withOptions(accountSchema(params.compactionTrigger, params.appendOnly ?? false, params.changelogProducer), params.tableOptions),
        writers: params.writers,
        ...(s3 ? { s3 } : {}),
        ...(params.commitUser ? { commitUser: params.commitUser } : {}),
        ...(params.writeBufferRows ? { writeBufferRows: params.writeBufferRows } : {}),
        ...(params.expireEvery !== undefined ? { expireEvery: params.expireEvery } : {}),
        ...(params.lockDir ? { lock: new LocalFileLock({ dir: params.lockDir }) } : {}),
      }),
      { uid: 'accounts-lake', parallelism: 1 },
    );
});
