/**
 * S3 (path-style, any S3-compatible endpoint). Settings come from options or the environment:
 * WEIR_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
 *
 * A PUT is atomic for readers (they see the old object or the new one), but there is no reliable
 * conditional PUT on the servers we run against (s3rver ignores If-None-Match), so `atomicCreate`
 * is false and writeIfAbsent is a HEAD followed by a PUT: commits call it under a CommitLock.
 * Reads use explicit byte ranges only (s3rver answers suffix ranges wrongly).
 *
 * The AWS SDK is loaded with the first request, not with this module: a job whose tables are on
 * local disk does not pay for it (it is most of what `weir/lake` took to import).
 */
import type { ListObjectsV2CommandOutput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ConfigError, ExternalError } from '../errors.ts';
import { type FileIO, type FileStatus, toBytes } from './file-io.ts';

export interface S3Options {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export function parseS3Path(p: string): { bucket: string; key: string } {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(p);
  if (!m) throw new ConfigError('path', `'${p}' is not an s3://bucket/key path`);
  return { bucket: m[1]!, key: m[2]! };
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.$metadata?.httpStatusCode === 404;
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

export class S3FileIO implements FileIO {
  readonly atomicCreate = false;
  private readonly config: S3ClientConfig;
  private connection: Promise<{ client: S3Client; sdk: S3Sdk }> | undefined;

  constructor(options: S3Options = {}) {
    const endpoint = options.endpoint ?? process.env.WEIR_S3_ENDPOINT;
    const accessKeyId = options.accessKeyId ?? process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = options.secretAccessKey ?? process.env.AWS_SECRET_ACCESS_KEY;
    this.config = {
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: true,
      ...(endpoint ? { endpoint } : {}),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    };
  }

  /** The S3 client (bucket administration in tests and tools). */
  async client(): Promise<S3Client> {
    return (await this.s3()).client;
  }

  /** The client and the SDK's commands, loaded with the first request. */
  private s3(): Promise<{ client: S3Client; sdk: S3Sdk }> {
    return (this.connection ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: new sdk.S3Client(this.config) })));
  }

  private fail(op: string, p: string, e: unknown): never {
    throw new ExternalError(`S3 ${op} '${p}' failed: ${(e as Error).message}; check WEIR_S3_ENDPOINT and the credentials`, { cause: e });
  }

  async read(p: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Path(p);
    try {
      const { client, sdk } = await this.s3();
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      return await out.Body!.transformToByteArray();
    } catch (e) {
      return this.fail('GET', p, e);
    }
  }

  async readRange(p: string, offset: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const { bucket, key } = parseS3Path(p);
    try {
      const { client, sdk } = await this.s3();
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}` }));
      return await out.Body!.transformToByteArray();
    } catch (e) {
      return this.fail('GET range', p, e);
    }
  }

  async write(p: string, data: Uint8Array | string): Promise<void> {
    const { bucket, key } = parseS3Path(p);
    try {
      const { client, sdk } = await this.s3();
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: toBytes(data) }));
    } catch (e) {
      this.fail('PUT', p, e);
    }
  }

  async writeIfAbsent(p: string, data: Uint8Array | string): Promise<boolean> {
    if (await this.exists(p)) return false;
    await this.write(p, data);
    return true;
  }

  async size(p: string): Promise<number | null> {
    const { bucket, key } = parseS3Path(p);
    try {
      const { client, sdk } = await this.s3();
      const out = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      return out.ContentLength ?? 0;
    } catch (e) {
      if (isNotFound(e)) return null;
      return this.fail('HEAD', p, e);
    }
  }

  async exists(p: string): Promise<boolean> {
    return (await this.size(p)) !== null;
  }

  private async listPrefix(dir: string, recursive: boolean): Promise<FileStatus[]> {
    const { bucket, key } = parseS3Path(dir);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const out: FileStatus[] = [];
    let token: string | undefined;
    try {
      do {
        const { client, sdk } = await this.s3();
        const page: ListObjectsV2CommandOutput = await client.send(new sdk.ListObjectsV2Command({
          Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(recursive ? {} : { Delimiter: '/' }),
        }));
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          out.push({ path: `s3://${bucket}/${o.Key}`, size: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      if (isNotFound(e)) return [];
      return this.fail('LIST', dir, e);
    }
    return out;
  }

  list(dir: string): Promise<FileStatus[]> {
    return this.listPrefix(dir, false);
  }

  listRecursive(dir: string): Promise<FileStatus[]> {
    return this.listPrefix(dir, true);
  }

  async delete(p: string): Promise<void> {
    const { bucket, key } = parseS3Path(p);
    try {
      const { client, sdk } = await this.s3();
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      if (!isNotFound(e)) this.fail('DELETE', p, e);
    }
  }
}
