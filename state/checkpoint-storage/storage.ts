/**
 * Where checkpoints and savepoints live: `<root>/<jobId>/chk-<id>/<files>` and
 * `<root>/<jobId>/savepoints/sp-<id>/<files>`. State files are written first by the subtasks; the
 * coordinator writes `_metadata` last and atomically, so a checkpoint without a valid `_metadata` is
 * not complete. `_metadata` carries a checksum of itself and the size and CRC-32 of every state file
 * it refers to, so a torn or partly deleted checkpoint is detected and skipped.
 */
import zlib from 'node:zlib';
import { WeirError } from '../../runtime/errors.ts';

export type CheckpointScope = 'checkpoint' | 'savepoint';

/** A written state file, as recorded in state handles and in `_metadata`. Plain JSON. */
export interface StateFileHandle {
  type: 'weir.state-file';
  scope: CheckpointScope;
  checkpointId: number;
  /** File name inside the checkpoint directory. */
  name: string;
  size: number;
  /** CRC-32 of the whole file, 8 hex digits. */
  crc32: string;
}

export interface CompletedCheckpoint {
  checkpointId: number;
  scope: CheckpointScope;
  /** Where it is, for messages and for starting a job from it (a directory or an s3:// URL). */
  location: string;
  createdAt: number;
  /** The JSON the coordinator passed to `writeMetadata`. */
  metadata: unknown;
  /** Every state file referenced by `metadata`. */
  files: StateFileHandle[];
}

export interface CheckpointListing {
  checkpointId: number;
  scope: CheckpointScope;
  /** True when `_metadata` exists (it may still fail validation). */
  hasMetadata: boolean;
}

export interface WriteOptions {
  scope?: CheckpointScope;
}

export type FileData = Uint8Array | AsyncIterable<Uint8Array>;

export interface CheckpointStorage {
  /** Human-readable location of this job's checkpoints. */
  readonly location: string;
  writeFile(checkpointId: number, name: string, data: FileData, options?: WriteOptions): Promise<StateFileHandle>;
  /** The whole file (checksum verified) or a byte range of it (checked by the caller's own checksum). */
  readFile(file: StateFileHandle, range?: { offset: number; length: number }): Promise<Buffer>;
  /**
   * Completes a checkpoint: writes `_metadata` atomically after verifying that every state file
   * referenced in `metadata` exists, then applies retention (checkpoints only).
   */
  writeMetadata(checkpointId: number, metadata: unknown, options?: WriteOptions): Promise<CompletedCheckpoint>;
  /** A completed checkpoint or savepoint, validated; throws CheckpointStorageError saying what is wrong. */
  readCompleted(checkpointId: number, options?: WriteOptions): Promise<CompletedCheckpoint>;
  /** The newest checkpoint that validates, skipping (and logging why) broken ones; undefined if none. */
  latestCompleted(): Promise<CompletedCheckpoint | undefined>;
  listCheckpoints(): Promise<CheckpointListing[]>;
  listSavepoints(): Promise<CheckpointListing[]>;
  /** Deletes all but the newest `keep` completed checkpoints, and unfinished ones older than those. */
  applyRetention(keep: number): Promise<number[]>;
  /** Deletes one checkpoint's directory (e.g. an aborted one). Savepoints only with scope 'savepoint'. */
  discard(checkpointId: number, options?: WriteOptions): Promise<void>;
}

export class CheckpointStorageError extends WeirError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, { domain: 'external', retriable: options.retriable ?? false, cause: options.cause });
  }
}

export const METADATA_FILE = '_metadata';
export const METADATA_FORMAT = 'weir.checkpoint-metadata/1';

export function checkpointDirName(checkpointId: number, scope: CheckpointScope): string {
  return scope === 'savepoint' ? `savepoints/sp-${checkpointId}` : `chk-${checkpointId}`;
}

/** Parses `chk-<id>` / `sp-<id>`. */
export function parseCheckpointDirName(name: string, scope: CheckpointScope): number | undefined {
  const m = (scope === 'savepoint' ? /^sp-(\d+)$/ : /^chk-(\d+)$/).exec(name);
  return m ? Number(m[1]) : undefined;
}

export function validateFileName(name: string): void {
  if (name === METADATA_FILE || name.length === 0 || /[/\\]|^\.\.?$/.test(name)) {
    throw new CheckpointStorageError(`state file name '${name}' is not allowed: use a plain file name without '/' other than '${METADATA_FILE}'`);
  }
}

/** Every StateFileHandle inside a JSON value (the coordinator's metadata holds the subtasks' handles). */
export function collectStateFiles(json: unknown, out: StateFileHandle[] = []): StateFileHandle[] {
  if (Array.isArray(json)) {
    for (const v of json) collectStateFiles(v, out);
  } else if (typeof json === 'object' && json !== null) {
    const o = json as Record<string, unknown>;
    if (o.type === 'weir.state-file') out.push(o as unknown as StateFileHandle);
    else for (const v of Object.values(o)) collectStateFiles(v, out);
  }
  return out;
}

interface MetadataBody {
  format: string;
  checkpointId: number;
  scope: CheckpointScope;
  createdAt: number;
  files: StateFileHandle[];
  metadata: unknown;
}

/** `_metadata` is the JSON body, a newline, and `crc32=<hex>` of the body's bytes. */
export function encodeMetadata(checkpointId: number, scope: CheckpointScope, metadata: unknown, files: StateFileHandle[]): Buffer {
  const body: MetadataBody = { format: METADATA_FORMAT, checkpointId, scope, createdAt: Date.now(), files, metadata };
  const bytes = Buffer.from(JSON.stringify(body));
  return Buffer.concat([bytes, Buffer.from(`\ncrc32=${crc32Hex(bytes)}\n`)]);
}

export function decodeMetadata(bytes: Buffer, where: string, location: string): CompletedCheckpoint {
  const text = bytes.toString('utf8');
  const nl = text.lastIndexOf('\ncrc32=');
  if (nl < 0) throw new CheckpointStorageError(`${where}: _metadata is truncated (no checksum line); the checkpoint did not complete or the file was damaged: use an earlier checkpoint`);
  const bodyBytes = bytes.subarray(0, Buffer.byteLength(text.slice(0, nl)));
  const expected = text.slice(nl + 7).trim();
  const actual = crc32Hex(bodyBytes);
  if (expected !== actual) {
    throw new CheckpointStorageError(`${where}: _metadata checksum mismatch (recorded ${expected}, computed ${actual}); the file was damaged: use an earlier checkpoint`);
  }
  let body: MetadataBody;
  try {
    body = JSON.parse(bodyBytes.toString('utf8')) as MetadataBody;
  } catch (cause) {
    throw new CheckpointStorageError(`${where}: _metadata is not valid JSON`, { cause });
  }
  if (body.format !== METADATA_FORMAT) {
    throw new CheckpointStorageError(`${where}: _metadata has format '${String(body.format)}', this version reads '${METADATA_FORMAT}'`);
  }
  return { checkpointId: body.checkpointId, scope: body.scope, location, createdAt: body.createdAt, metadata: body.metadata, files: body.files };
}

export function crc32Hex(bytes: Uint8Array, previous?: number): string {
  return crc32(bytes, previous).toString(16).padStart(8, '0');
}

export function crc32(bytes: Uint8Array, previous = 0): number {
  return zlib.crc32(bytes, previous) >>> 0;
}

/** Normalizes `FileData` to an async iterable of chunks. */
export async function* chunksOf(data: FileData): AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) yield data;
  else yield* data;
}

export function missingFileError(where: string, file: StateFileHandle, detail: string): CheckpointStorageError {
  return new CheckpointStorageError(
    `${where}: state file '${file.name}' of ${file.scope} ${file.checkpointId} ${detail}; the checkpoint cannot be restored: restore from an earlier checkpoint or savepoint`,
  );
}
