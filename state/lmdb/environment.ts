/**
 * The options every LMDB environment of the LMDB backend is opened with: by the processing thread
 * (lmdb-backend.ts, reads) and by its writer thread (lmdb-writer.ts, writes), which open the same
 * path in one process, the first of them creating it.
 *
 * - noSync, noMetaSync: the environment is a working copy in a directory of its own, never what a
 *   restore reads (a restore reads the checkpoint's snapshot files, state/snapshot/), so nothing
 *   waits for the disk.
 * - pageSize 16 KiB, not the OS's 4: fewer, fuller B-tree pages. Puts of random keys (the
 *   write-back of evicted state, restores) ran 1.9x faster on this machine: 0.20M -> 0.39M puts a
 *   second into a growing database of 1M 16-byte keys, 10k puts a transaction.
 *
 * Not `useWritemap` (2.5x in the same test): LMDB aborts the process in mdb_freelist_save
 * ("Assertion 'x <= dl[0].mid' failed") with it, a known LMDB bug (kriszyp/lmdb-js#212), and the
 * state unit tests hit it.
 */
export const ENVIRONMENT_OPTIONS = { noSync: true, noMetaSync: true, maxDbs: 4, cache: false, pageSize: 16384 } as const;
