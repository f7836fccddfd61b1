/** Picks the FileIO and commit lock for a path: `s3://...` -> S3 with a local lock file, else local disk. */
import { type FileIO } from './file-io.ts';
import { LocalFileIO } from './local.ts';
import { S3FileIO, type S3Options } from './s3.ts';
import { type CommitLock, LocalFileLock, NO_LOCK } from './lock.ts';

export type { FileIO, FileStatus } from './file-io.ts';
export { joinPath, baseName } from './file-io.ts';
export { LocalFileIO } from './local.ts';
export { S3FileIO, type S3Options } from './s3.ts';
export { type CommitLock, LocalFileLock, NO_LOCK } from './lock.ts';

export function isS3Path(p: string): boolean {
  return /^s3a?:\/\//.test(p);
}

export function fileIOFor(p: string, s3?: S3Options): FileIO {
  return isS3Path(p) ? new S3FileIO(s3) : new LocalFileIO();
}

/** The lock a commit needs on this FileIO: none where creates are atomic. */
export function defaultCommitLock(io: FileIO): CommitLock {
  return io.atomicCreate ? NO_LOCK : new LocalFileLock();
}
