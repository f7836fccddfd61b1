/**
 * `weir lake <snapshots|schema|files|dump|tags|wait> <table-dir> [...]`: inspect a Paimon table on
 * local disk or at `s3://bucket/path` (endpoint and credentials from WEIR_S3_ENDPOINT,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).
 */
import { ConfigError } from './errors.ts';
import { schemaToJson } from './schema/schema.ts';
import type { DataType } from './schema/types.ts';
import { daysToIsoDate, nanosToIso, rowComparator } from './schema/values.ts';
import { FileStoreTable } from './table/table.ts';
import { readTable, resolveSnapshot, tableAtSnapshot } from './table/read.ts';
import { parseDuration } from './table/options.ts';
import { TagManager } from './table/tags.ts';
import { ConsumerManager } from './table/consumers.ts';
import { compactTable } from './table/compact.ts';
import { expireSnapshots, removeOrphanFiles } from './table/maintenance.ts';
import { waitForWatermark } from './table/watermark-wait.ts';
import { LakeWaitTimeoutError } from './errors.ts';

export interface LakeCommand {
  summary: string;
  run(args: string[]): Promise<number>;
}

const USAGE = `usage: weir lake <command> <table-dir> [options]
  snapshots <table-dir>                 list snapshots
  schema <table-dir>                    print the latest schema (JSON)
  files <table-dir> [--snapshot N]      list the data files of a snapshot (deleted: rows in its deletion vector)
  dump <table-dir> [--snapshot N | --tag NAME]
                                        print the rows at a snapshot or tag as JSON lines, as a batch read sees them
  tags <table-dir>                      list tags (name, snapshot, watermark)
  consumers <table-dir>                 list streaming consumers (id, next snapshot, last update)
  compact <table-dir> [--full]          compact buckets with too many sorted runs (every bucket with --full)
  expire <table-dir>                    expire snapshots by the table's retention options (keeps tags and what consumers need)
  remove-orphans <table-dir> [--older-than DURATION]
                                        delete files no snapshot or tag uses, older than DURATION (default 1 d)
  wait <table-dir> --watermark TIME [--timeout DURATION]
                                        return once the table's committed watermark reaches TIME
                                        (ISO 8601 or epoch ms); exit 3 on timeout
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

interface LakeArgs {
  positional: string[];
  snapshot?: number;
  branch?: string;
  /** --tag, --watermark, --timeout, --older-than, --full */
  named: Map<string, string>;
}

const NAMED = ['--tag', '--watermark', '--timeout', '--older-than'];

function parseArgs(args: string[]): LakeArgs {
  const positional: string[] = [];
  const named = new Map<string, string>();
  let snapshot: number | undefined;
  let branch: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (NAMED.includes(flag)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new ConfigError(flag, 'needs a value');
      named.set(flag, v);
    } else if (a === '--full') {
      named.set('--full', 'true');
    } else if (a === '--branch') {
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
  return { positional, named, ...(snapshot === undefined ? {} : { snapshot }), ...(branch === undefined ? {} : { branch }) };
}

/** ISO 8601 (2026-12-04T10:00:00Z, 2026-12-04) or epoch ms. */
function parseTime(text: string): number {
  const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(t)) throw new ConfigError('--watermark', `'${text}' is not a time; write ISO 8601 (2026-12-04T10:00:00Z) or epoch milliseconds`);
  return t;
}

function isoOrNone(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  // a bounded job's last snapshot carries Number.MAX_SAFE_INTEGER (past Date's range): the end of input
  return ms >= Number.MAX_SAFE_INTEGER ? 'end of input' : new Date(ms).toISOString();
}

async function tags(table: FileStoreTable): Promise<void> {
  out(['name', 'snapshot', 'watermark', 'created', 'rows'].join('\t'));
  for (const t of await new TagManager(table.io, table.path).list()) {
    out([t.name, t.snapshot.id, isoOrNone(t.snapshot.watermark), isoOrNone(t.createdMillis), t.snapshot.totalRecordCount].join('\t'));
  }
}

async function consumers(table: FileStoreTable): Promise<void> {
  out(['id', 'nextSnapshot', 'updated'].join('\t'));
  for (const c of await new ConsumerManager(table.io, table.path).list()) out([c.id, c.nextSnapshot, isoOrNone(c.modifiedMs)].join('\t'));
}

async function wait(table: FileStoreTable, args: LakeArgs): Promise<number> {
  const wm = args.named.get('--watermark');
  if (wm === undefined) throw new ConfigError('--watermark', 'is required: the event time to wait for (ISO 8601 or epoch ms)');
  const time = parseTime(wm);
  const timeout = args.named.get('--timeout');
  let lastShown = 0;
  try {
    const s = await waitForWatermark(table, time, {
      ...(timeout !== undefined ? { timeoutMs: parseDuration(timeout, '--timeout') } : {}),
      onProgress: (w, snap) => {
        // progress on stderr every 5 s, so a script's stdout holds only the answer
        if (Date.now() - lastShown < 5000) return;
        lastShown = Date.now();
        process.stderr.write(`waiting for ${new Date(time).toISOString()}: committed watermark ${isoOrNone(w)}${snap ? ` (snapshot ${snap.id})` : ''}\n`);
      },
    });
    out(`watermark ${isoOrNone(s.watermark)} reached at snapshot ${s.id}`);
    return 0;
  } catch (e) {
    if (!(e instanceof LakeWaitTimeoutError)) throw e;
    console.error(e.message);
    return 3;
  }
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

async function dump(latest: FileStoreTable, snapshotId?: number, tag?: string): Promise<void> {
  const opts = tag !== undefined ? { tag } : snapshotId === undefined ? {} : { snapshotId };
  // a snapshot is read with its own schema
  const table = snapshotId === undefined || tag !== undefined ? latest : await tableAtSnapshot(latest, snapshotId);
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
    const parsed = parseArgs(rest);
    const { positional, snapshot, branch } = parsed;
    const dir = positional[0];
    if (!sub || !dir || !['snapshots', 'schema', 'files', 'dump', 'tags', 'consumers', 'wait', 'compact', 'expire', 'remove-orphans'].includes(sub)) {
      console.error(USAGE);
      return 2;
    }
    const table = await FileStoreTable.open(dir, branch ? { branch } : {});
    switch (sub) {
      case 'snapshots': await snapshots(table); break;
      case 'schema': out(schemaToJson(table.schema)); break;
      case 'files': await files(table, snapshot); break;
      case 'dump': await dump(table, snapshot, parsed.named.get('--tag')); break;
      case 'tags': await tags(table); break;
      case 'consumers': await consumers(table); break;
      case 'compact': {
        const id = await compactTable(table, { full: parsed.named.has('--full') });
        out(id === null ? 'nothing to compact' : `compacted: snapshot ${id}`);
        break;
      }
      case 'expire': out(`expired snapshots: ${(await expireSnapshots(table)).join(', ') || 'none'}`); break;
      case 'remove-orphans': {
        const older = parsed.named.get('--older-than');
        const removed = await removeOrphanFiles(table, older === undefined ? {} : { olderThanMs: parseDuration(older, '--older-than') });
        for (const f of removed) out(`removed ${f}`);
        out(`${removed.length} orphan file${removed.length === 1 ? '' : 's'} removed`);
        break;
      }
      case 'wait': return wait(table, parsed);
    }
    return 0;
  },
};
