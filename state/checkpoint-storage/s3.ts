/**
 * Checkpoints in an S3 bucket (path-style, any S3 API: AWS, s3rver, Swift s3api). `_metadata` is one
 * PUT made after every state file is verified present, so a checkpoint is complete exactly when its
 * `_metadata` exists; nothing relies on conditional PUTs (several S3 servers ignore them). Range
 * reads use explicit `bytes=a-b` ranges (suffix ranges are wrong on s3rver).
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import {
  type CheckpointListing,
  type CheckpointScope,
  type CheckpointStorage,
  CheckpointStorageError,
  type CompletedCheckpoint,
  type FileData,
  METADATA_FILE,
  type StateFileHandle,
  type WriteOptions,
  checkpointDirName,
  chunksOf,
  collectStateFiles,
  crc32,
  crc32Hex,
  decodeMetadata,
  encodeMetadata,
  missingFileError,
  parseCheckpointDirName,
  validateFileName,
} from './storage.ts';

export interface S3CheckpointStorageOptions {
  bucket: string;
  /** Key prefix shared by all jobs, without leading or trailing '/'; default none. */
  prefix?: string;
  jobId: string;
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Default true (needed by s3rver and most self-hosted servers). */
  forcePathStyle?: boolean;
  retainedCheckpoints?: number;
  log?: (message: string) => void;
  /** Parts of this size for large files; default 8 MiB (S3's minimum is 5 MiB). */
  partSize?: number;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');
/**
 * The S3 SDK, loaded on the first request: importing it takes about 0.6 s, which every job module
 * load would pay (job manager and each task manager) even when checkpoints go to a local directory.
 */
let S3: S3Sdk;
let sdkLoad: Promise<S3Sdk> | undefined;
function loadSdk(): Promise<S3Sdk> {
  return (sdkLoad ??= import('@aws-sdk/client-s3').then((sdk) => (S3 = sdk)));
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

export class S3CheckpointStorage implements CheckpointStorage {
  readonly location: string;
  private readonly clientOptions: S3ClientConfig;
  private clientLoad: Promise<S3Client> | undefined;
  private readonly bucket: string;
  private readonly base: string;
  private readonly retained: number;
  private readonly log: (message: string) => void;
  private readonly partSize: number;

  constructor(options: S3CheckpointStorageOptions) {
    this.bucket = options.bucket;
    this.base = options.prefix ? `${options.prefix.replace(/^\/+|\/+$/g, '')}/${options.jobId}` : options.jobId;
    this.location = `s3://${options.bucket}/${this.base}`;
    this.retained = options.retainedCheckpoints ?? 3;
    this.log = options.log ?? ((m) => console.warn(m));
    this.partSize = options.partSize ?? 8 << 20;
    this.clientOptions = {
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? true,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    };
  }

  /** The client, once the SDK is loaded; after it resolves, `S3` holds the SDK's commands. */
  client(): Promise<S3Client> {
    return (this.clientLoad ??= loadSdk().then((sdk) => new sdk.S3Client(this.clientOptions)));
  }

  private dirKey(checkpointId: number, scope: CheckpointScope): string {
    return `${this.base}/${checkpointDirName(checkpointId, scope)}`;
  }

  private fail(what: string, cause: unknown): CheckpointStorageError {
    return new CheckpointStorageError(`${what} in ${this.location} failed: ${(cause as Error).message}; check the endpoint, bucket and credentials`, { cause, retriable: true });
  }

  async writeFile(checkpointId: number, name: string, data: FileData, options: WriteOptions = {}): Promise<StateFileHandle> {
    validateFileName(name);
    const scope = options.scope ?? 'checkpoint';
    const Key = `${this.dirKey(checkpointId, scope)}/${name}`;
    let size = 0;
    let crc = 0;
    let buffered: Uint8Array[] = [];
    let bufferedBytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    const uploadPart = async (): Promise<void> => {
      if (uploadId === undefined) {
        const r = await (await this.client()).send(new S3.CreateMultipartUploadCommand({ Bucket: this.bucket, Key }));
        uploadId = r.UploadId!;
      }
      const Body = Buffer.concat(buffered);
      buffered = [];
      bufferedBytes = 0;
      const PartNumber = parts.length + 1;
      const r = await (await this.client()).send(new S3.UploadPartCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumber, Body }));
      parts.push({ ETag: r.ETag!, PartNumber });
    };
    try {
      for await (const chunk of chunksOf(data)) {
        size += chunk.length;
        crc = crc32(chunk, crc);
        buffered.push(Buffer.from(chunk));
        bufferedBytes += chunk.length;
        if (bufferedBytes >= this.partSize) await uploadPart();
      }
      if (uploadId === undefined) {
        await (await this.client()).send(new S3.PutObjectCommand({ Bucket: this.bucket, Key, Body: Buffer.concat(buffered) }));
      } else {
        if (bufferedBytes > 0) await uploadPart();
        await (await this.client()).send(new S3.CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      }
    } catch (cause) {
      if (uploadId !== undefined) {
        await (await this.client()).send(new S3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId })).catch(() => undefined);
      }
      throw this.fail(`writing state file '${name}' of ${scope} ${checkpointId}`, cause);
    }
    return { type: 'weir.state-file', scope, checkpointId, name, size, crc32: (crc >>> 0).toString(16).padStart(8, '0') };
  }

  private async get(Key: string, range?: { offset: number; length: number }): Promise<Buffer | undefined> {
    try {
      const r = await (await this.client()).send(
        new S3.GetObjectCommand({ Bucket: this.bucket, Key, ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}) }),
      );
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.fail(`reading ${Key}`, e);
    }
  }

  async readFile(file: StateFileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    const where = `${this.location}/${checkpointDirName(file.checkpointId, file.scope)}`;
    const bytes = await this.get(`${this.dirKey(file.checkpointId, file.scope)}/${file.name}`, range);
    if (bytes === undefined) throw missingFileError(where, file, 'is missing');
    if (range) {
      if (bytes.length !== range.length) throw missingFileError(where, file, `is shorter than recorded (wanted bytes ${range.offset}..${range.offset + range.length})`);
      return bytes;
    }
    if (bytes.length !== file.size) throw missingFileError(where, file, `has ${bytes.length} bytes, ${file.size} recorded`);
    const crc = crc32Hex(bytes);
    if (crc !== file.crc32) throw missingFileError(where, file, `is corrupt (CRC-32 ${crc}, ${file.crc32} recorded)`);
    return bytes;
  }

  private async checkFile(where: string, f: StateFileHandle): Promise<void> {
    let size: number | undefined;
    try {
      const r = await (await this.client()).send(new S3.HeadObjectCommand({ Bucket: this.bucket, Key: `${this.dirKey(f.checkpointId, f.scope)}/${f.name}` }));
      size = r.ContentLength;
    } catch (e) {
      if (isNotFound(e)) throw missingFileError(where, f, 'is missing');
      throw this.fail(`checking state file '${f.name}'`, e);
    }
    if (size !== f.size) throw missingFileError(where, f, `has ${size} bytes, ${f.size} recorded`);
  }

  async writeMetadata(checkpointId: number, metadata: unknown, options: WriteOptions = {}): Promise<CompletedCheckpoint> {
    const scope = options.scope ?? 'checkpoint';
    const dir = this.dirKey(checkpointId, scope);
    const where = `s3://${this.bucket}/${dir}`;
    const files = collectStateFiles(metadata);
    for (const f of files) await this.checkFile(where, f);
    const bytes = encodeMetadata(checkpointId, scope, metadata, files);
    try {
      await (await this.client()).send(new S3.PutObjectCommand({ Bucket: this.bucket, Key: `${dir}/${METADATA_FILE}`, Body: bytes }));
    } catch (e) {
      throw this.fail(`writing _metadata of ${scope} ${checkpointId}`, e);
    }
    const completed = decodeMetadata(bytes, where, where);
    // Retention runs behind the completion: deleting objects one by one takes long on some servers
    // (s3rver: about 2 s for a checkpoint), and a checkpoint must not wait for it.
    if (scope === 'checkpoint') {
      void this.applyRetention(this.retained).catch((e: unknown) => this.log(`retention after checkpoint ${checkpointId} failed: ${(e as Error).message}`));
    }
    return completed;
  }

  async readCompleted(checkpointId: number, options: WriteOptions = {}): Promise<CompletedCheckpoint> {
    const scope = options.scope ?? 'checkpoint';
    const dir = this.dirKey(checkpointId, scope);
    const where = `s3://${this.bucket}/${dir}`;
    const bytes = await this.get(`${dir}/${METADATA_FILE}`);
    if (bytes === undefined) throw new CheckpointStorageError(`${where}: no _metadata, so ${scope} ${checkpointId} never completed (or was deleted): use an earlier one`);
    const completed = decodeMetadata(bytes, where, where);
    for (const f of completed.files) await this.checkFile(where, f);
    return completed;
  }

  async latestCompleted(): Promise<CompletedCheckpoint | undefined> {
    const all = (await this.listCheckpoints()).reverse();
    for (const c of all) {
      try {
        return await this.readCompleted(c.checkpointId);
      } catch (e) {
        this.log(`skipping checkpoint ${c.checkpointId}: ${(e as Error).message}`);
      }
    }
    return undefined;
  }

  /** Every object key under `prefix` (paginated). */
  private async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let r;
      try {
        r = await (await this.client()).send(new S3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (e) {
        throw this.fail(`listing ${prefix}`, e);
      }
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async list(scope: CheckpointScope): Promise<CheckpointListing[]> {
    const base = scope === 'savepoint' ? `${this.base}/savepoints/` : `${this.base}/`;
    const byId = new Map<number, CheckpointListing>();
    for (const key of await this.listKeys(base)) {
      const [dir, file, ...rest] = key.slice(base.length).split('/');
      if (dir === undefined || file === undefined || rest.length > 0) continue;
      const id = parseCheckpointDirName(dir, scope);
      if (id === undefined) continue;
      let c = byId.get(id);
      if (!c) byId.set(id, (c = { checkpointId: id, scope, hasMetadata: false }));
      if (file === METADATA_FILE) c.hasMetadata = true;
    }
    return [...byId.values()].sort((a, b) => a.checkpointId - b.checkpointId);
  }

  listCheckpoints(): Promise<CheckpointListing[]> {
    return this.list('checkpoint');
  }

  listSavepoints(): Promise<CheckpointListing[]> {
    return this.list('savepoint');
  }

  async applyRetention(keep: number): Promise<number[]> {
    const all = await this.listCheckpoints();
    const completed = all.filter((c) => c.hasMetadata);
    if (completed.length <= keep) return [];
    const oldestKept = completed[completed.length - keep]?.checkpointId ?? Infinity;
    const doomed = all.filter((c) => c.checkpointId < oldestKept).map((c) => c.checkpointId);
    for (const id of doomed) await this.discard(id);
    return doomed;
  }

  async discard(checkpointId: number, options: WriteOptions = {}): Promise<void> {
    const dir = `${this.dirKey(checkpointId, options.scope ?? 'checkpoint')}/`;
    // `_metadata` first, so a half-deleted checkpoint is never taken for a complete one.
    const keys = (await this.listKeys(dir)).sort((a, b) => Number(b.endsWith(`/${METADATA_FILE}`)) - Number(a.endsWith(`/${METADATA_FILE}`)));
    for (const Key of keys) {
      try {
        await (await this.client()).send(new S3.DeleteObjectCommand({ Bucket: this.bucket, Key }));
      } catch (e) {
        throw this.fail(`deleting ${Key}`, e);
      }
    }
  }
}
