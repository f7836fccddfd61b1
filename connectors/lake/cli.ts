/**
 * `weir lake <snapshots|schema|files|dump> <table-dir> [--snapshot N]`: inspect a Paimon table on
 * local disk or at `s3://bucket/path` (endpoint and credentials from WEIR_S3_ENDPOINT,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).
 */
import { ConfigError } from './errors.ts';
import { schemaToJson } from './schema/schema.ts';
import type { DataType } from './schema/types.ts';
import { daysToIsoDate, nanosToIso, rowComparator } from './schema/values.ts';
import { FileStoreTable } from './table/table.ts';
import { readTable, resolveSnapshot, tableAtSnapshot } from './table/read.ts';

export interface LakeCommand {
  summary: string;
  run(args: string[]): Promise<number>;
}

const USAGE = `usage: weir lake <command> <table-dir> [options]
  snapshots <table-dir>                 list snapshots
  schema <table-dir>                    print the latest schema (JSON)
  files <table-dir> [--snapshot N]      list the data files of a snapshot (deleted: rows in its deletion vector)
  dump <table-dir> [--snapshot N]       print the rows at a snapshot as JSON lines, as a batch read sees them
  --branch NAME                         read that branch of the table`;

/** A JS value of a Paimon type as JSON: 64-bit ints and decimals as strings, timestamps ISO, binary base64. */
export function jsonValue(t: DataType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (t.root) {
    case 'BIGINT': return String(v);
    case 'DECIMAL': return String(v);
    case 'TIMESTAMP': return nanosToIso(v as bigint);
    case 'TIMESTAMP_LTZ': return `${nanosToIso(v as bigint)}Z`;
    case 'DATE': return daysToIsoDate(v as number);
    case 'BINARY': case 'VARBINARY': return Buffer.from(v as Uint8Array).toString('base64');
    case 'FLOAT': case 'DOUBLE': return Number.isFinite(v as number) ? v : String(v);
    case 'ARRAY': return (v as unknown[]).map((x) => jsonValue(t.element, x));
    case 'MAP': {
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v as Record<string, unknown>);
      if (t.key.root === 'VARCHAR' || t.key.root === 'CHAR') {
        return Object.fromEntries(entries.map(([k, x]) => [k as string, jsonValue(t.value, x)]));
      }
      return entries.map(([k, x]) => [jsonValue(t.key, k), jsonValue(t.value, x)]);
    }
    case 'ROW': {
      const r = v as Record<string, unknown>;
      return Object.fromEntries(t.fields.map((f) => [f.name, jsonValue(f.type, r[f.name])]));
    }
    default: return v;
  }
}

function parseArgs(args: string[]): { positional: string[]; snapshot?: number; branch?: string } {
  const positional: string[] = [];
  let snapshot: number | undefined;
  let branch: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--branch') {
      branch = args[++i];
      if (!branch) throw new ConfigError('--branch', 'give the branch name after --branch');
    } else if (a === '--snapshot') {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 1) throw new ConfigError('--snapshot', `'${args[i] ?? ''}' is not a snapshot id (a positive integer)`);
      snapshot = n;
    } else if (a.startsWith('--snapshot=')) {
      snapshot = Number(a.slice('--snapshot='.length));
    } else positional.push(a);
  }
  return { positional, ...(snapshot === undefined ? {} : { snapshot }), ...(branch === undefined ? {} : { branch }) };
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function snapshots(table: FileStoreTable): Promise<void> {
  out(['id', 'kind', 'schema', 'commitUser', 'identifier', 'time', 'totalRecords', 'deltaRecords'].join('\t'));
  for (const id of await table.snapshots.listIds()) {
    const s = await table.snapshots.snapshot(id);
    out([s.id, s.commitKind, s.schemaId, s.commitUser, s.commitIdentifier, new Date(s.timeMillis).toISOString(), s.totalRecordCount, s.deltaRecordCount].join('\t'));
  }
}

async function files(table: FileStoreTable, snapshotId?: number): Promise<void> {
  const s = await resolveSnapshot(table, snapshotId);
  if (!s) return;
  out(['partition', 'bucket', 'level', 'rows', 'deleted', 'bytes', 'minSeq', 'maxSeq', 'file'].join('\t'));
  const entries = await table.liveEntries(s);
  const vectors = await table.deletionFiles(s);
  entries.sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : a.bucket - b.bucket || a.file.level - b.file.level));
  for (const e of entries) {
    const part = table.partitionPath(table.decodePartition(e.partition)) || '-';
    const dv = vectors.get(`${e.partition}|${e.bucket}`)?.get(e.file.fileName);
    const deleted = dv ? (dv.cardinality ?? (await table.deletionVector(dv)).cardinality) : 0;
    out([part, e.bucket, e.file.level, e.file.rowCount, deleted, e.file.fileSize, e.file.minSequenceNumber, e.file.maxSequenceNumber, e.file.fileName].join('\t'));
  }
}

async function dump(latest: FileStoreTable, snapshotId?: number): Promise<void> {
  const opts = snapshotId === undefined ? {} : { snapshotId };
  // a snapshot is read with its own schema
  const table = snapshotId === undefined ? latest : await tableAtSnapshot(latest, snapshotId);
  const rows = await readTable(table, opts);
  const fields = table.schema.fields;
  const order = table.primaryKey
    ? table.schema.primaryKeys.map((k) => fields.findIndex((f) => f.name === k))
    : fields.map((_, i) => i);
  const cmp = rowComparator(order, order.map((i) => fields[i]!.type));
  rows.sort(cmp);
  for (const r of rows) {
    const o: Record<string, unknown> = {};
    fields.forEach((f, i) => { o[f.name] = jsonValue(f.type, r[i]); });
    out(JSON.stringify(o));
  }
}

export const lakeCommand: LakeCommand = {
  summary: 'inspect Apache Paimon tables: snapshots, schema, files, dump',
  async run(args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    const { positional, snapshot, branch } = parseArgs(rest);
    const dir = positional[0];
    if (!sub || !dir || !['snapshots', 'schema', 'files', 'dump'].includes(sub)) {
      console.error(USAGE);
      return 2;
    }
    const table = await FileStoreTable.open(dir, branch ? { branch } : {});
    switch (sub) {
      case 'snapshots': await snapshots(table); break;
      case 'schema': out(schemaToJson(table.schema)); break;
      case 'files': await files(table, snapshot); break;
      case 'dump': await dump(table, snapshot); break;
    }
    return 0;
  },
};
