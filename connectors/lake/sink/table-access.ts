/**
 * Opening the table a lake sink or source works on: a local directory or `s3://bucket/path`,
 * created from the given schema when it does not exist yet. Every subtask calls this in `open`;
 * creating schema-0 is an atomic create, so concurrent openers end up with the same table.
 */
import { ConfigError } from '../errors.ts';
import { defaultCommitLock, fileIOFor, type S3Options } from '../fs/index.ts';
import type { CommitLock } from '../fs/lock.ts';
import { newSchema, type SchemaDefinition } from '../schema/schema.ts';
import { SchemaManager } from '../schema/schema-manager.ts';
import { tableOptions } from '../table/options.ts';
import { FileStoreTable } from '../table/table.ts';

export interface LakeTableLocation {
  /** The table directory: a local path or `s3://bucket/path/to/table`. */
  path: string;
  /** S3 endpoint and credentials for `s3://` paths. */
  s3?: S3Options;
  /** Commit lock for stores without atomic create (S3); default an exclusive lock file on this host. */
  lock?: CommitLock;
}

export async function openLakeTable(location: LakeTableLocation, createWith?: SchemaDefinition): Promise<FileStoreTable> {
  const path = location.path.replace(/\/+$/, '');
  const io = fileIOFor(path, location.s3);
  const lock = location.lock ?? defaultCommitLock(io);
  const schemas = new SchemaManager(io, path, lock);
  if ((await schemas.latest()) === null) {
    if (!createWith) {
      throw new ConfigError('path', `no Paimon table at ${path}; give the sink a schema to create it, or create it with Catalog.createTable`);
    }
    const schema = newSchema(createWith, 0);
    tableOptions(schema);
    await schemas.commit(schema); // false if another subtask created it first: then that one is used
  }
  return FileStoreTable.open(path, { io, lock, ...(location.s3 ? { s3: location.s3 } : {}) });
}
