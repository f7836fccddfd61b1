/**
 * The file calls Weir's own code makes, as promises built on Node's callback API, never on
 * `node:fs/promises`.
 *
 * Why: task managers are worker threads, and killing one (`worker.terminate()`: a failover, a cancel,
 * the chaos tests) can land while its code starts a file call. On Node 20 a `fs/promises` call that
 * starts as the thread terminates cannot create its promise, falls through to the synchronous branch
 * of the binding and fails a native CHECK (`node::fs::OpenFileHandle ... Assertion failed: (argc) ==
 * (5)`), which aborts the whole process: every other job and test in it dies too. A callback call
 * hands the binding a request object made in JavaScript, so the binding never takes that branch.
 * `npm run check:layers` rejects `fs/promises` anywhere else in the layered folders.
 *
 * File descriptors here are plain numbers: close them in a `finally` (no FileHandle closes them on
 * garbage collection).
 */
import fs from 'node:fs';

type Done<T> = (resolve: (value: T) => void, reject: (error: NodeJS.ErrnoException) => void) => void;

function call<T>(start: Done<T>): Promise<T> {
  return new Promise<T>(start);
}

export function readFile(p: string): Promise<Buffer> {
  return call((ok, fail) => fs.readFile(p, (e, b) => (e ? fail(e) : ok(b))));
}

export function readTextFile(p: string): Promise<string> {
  return call((ok, fail) => fs.readFile(p, 'utf8', (e, s) => (e ? fail(e) : ok(s))));
}

/** Writes the whole of `data` to a path (created or truncated) or to an open descriptor at its position. */
export function writeFile(target: string | number, data: Uint8Array | string): Promise<void> {
  return call((ok, fail) => fs.writeFile(target, data, (e) => (e ? fail(e) : ok())));
}

export function mkdir(p: string, options: { recursive: boolean }): Promise<void> {
  return call((ok, fail) => fs.mkdir(p, options, (e) => (e ? fail(e) : ok())));
}

export function rename(from: string, to: string): Promise<void> {
  return call((ok, fail) => fs.rename(from, to, (e) => (e ? fail(e) : ok())));
}

/** A hard link: fails with EEXIST if `to` exists, which makes it an atomic exclusive create. */
export function link(from: string, to: string): Promise<void> {
  return call((ok, fail) => fs.link(from, to, (e) => (e ? fail(e) : ok())));
}

export function unlink(p: string): Promise<void> {
  return call((ok, fail) => fs.unlink(p, (e) => (e ? fail(e) : ok())));
}

export function rm(p: string, options: { recursive?: boolean; force?: boolean }): Promise<void> {
  return call((ok, fail) => fs.rm(p, options, (e) => (e ? fail(e) : ok())));
}

/** Copies a file or, with `recursive`, a directory tree. */
export function cp(from: string, to: string, options: { recursive: boolean }): Promise<void> {
  return call((ok, fail) => fs.cp(from, to, options, (e) => (e ? fail(e) : ok())));
}

export function stat(p: string): Promise<fs.Stats> {
  return call((ok, fail) => fs.stat(p, (e, s) => (e ? fail(e) : ok(s))));
}

/** The names in a directory. */
export function readdir(p: string): Promise<string[]> {
  return call((ok, fail) => fs.readdir(p, (e, names) => (e ? fail(e) : ok(names))));
}

/** The entries of a directory, with their kinds. */
export function readdirEntries(p: string): Promise<fs.Dirent[]> {
  return call((ok, fail) => fs.readdir(p, { withFileTypes: true }, (e, entries) => (e ? fail(e) : ok(entries))));
}

/** Opens a file (or, with 'r', a directory to fsync) and gives its descriptor. */
export function open(p: string, flags: 'r' | 'w' | 'wx'): Promise<number> {
  return call((ok, fail) => fs.open(p, flags, (e, fd) => (e ? fail(e) : ok(fd))));
}

/** Reads up to `length` bytes at `position` into `into` from its start; gives how many were read. */
export function readAt(fd: number, into: Uint8Array, length: number, position: number): Promise<number> {
  return call((ok, fail) => fs.read(fd, into, 0, length, position, (e, n) => (e ? fail(e) : ok(n))));
}

/** Writes all of `data` at the descriptor's position (a single write may take only part of it). */
export async function writeAll(fd: number, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    offset += await call<number>((ok, fail) => fs.write(fd, data, offset, data.length - offset, null, (e, n) => (e ? fail(e) : ok(n))));
  }
}

export function fsync(fd: number): Promise<void> {
  return call((ok, fail) => fs.fsync(fd, (e) => (e ? fail(e) : ok())));
}

export function close(fd: number): Promise<void> {
  return call((ok, fail) => fs.close(fd, (e) => (e ? fail(e) : ok())));
}
