/** Writing and reading the entry blocks of a keyed state snapshot file (see keyed-state-handle.ts). */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { CheckpointScope, CheckpointStorage } from '../checkpoint-storage/storage.ts';
import { CheckpointStorageError, crc32 } from '../checkpoint-storage/storage.ts';
import type { KeyGroupRange } from '../key-groups.ts';
import type { KeyGroupBlock, KeyedStateHandle } from './keyed-state-handle.ts';

const CHUNK = 1 << 20;

/** Packs entries into 1 MiB chunks, recording one block per key group. */
export class EntryWriter {
  readonly blocks: KeyGroupBlock[] = [];
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  /** Bytes already handed out in earlier chunks. */
  private flushed = 0;
  private ready: Buffer[] = [];
  private block: KeyGroupBlock | undefined;
  private blockCrc = 0;
  private blockStartInBuf = 0;
  /** Where in `buf` the entry added last starts. */
  private lastStart = 0;

  beginKeyGroup(keyGroup: number): void {
    this.block = { keyGroup, offset: this.flushed + this.pos, length: 0, entries: 0, crc32: '' };
    this.blockCrc = 0;
    this.blockStartInBuf = this.pos;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    const need = 8 + key.length + value.length;
    if (this.pos + need > this.buf.length) this.seal(need);
    this.lastStart = this.pos;
    const b = this.buf;
    b.writeUInt32LE(key.length, this.pos);
    b.set(key, this.pos + 4);
    const v = this.pos + 4 + key.length;
    b.writeUInt32LE(value.length, v);
    b.set(value, v + 4);
    this.pos = v + 4 + value.length;
    this.block!.entries++;
  }

  /** Adds the entry at `at` in `src` (bytes in this format, e.g. an earlier snapshot's chunk) as it is. */
  addEntryFrom(src: Buffer, at: number): void {
    const keyEnd = at + 4 + src.readUInt32LE(at);
    const end = keyEnd + 4 + src.readUInt32LE(keyEnd);
    const need = end - at;
    if (this.pos + need > this.buf.length) this.seal(need);
    this.lastStart = this.pos;
    copyBytes(src, at, end, this.buf, this.pos);
    this.pos += need;
    this.block!.entries++;
  }

  /** Adds an entry with the key of the entry at `at` in `src` (copied, not encoded again) and `value`. */
  addWithKeyFrom(src: Buffer, at: number, value: Uint8Array): void {
    const keyEnd = at + 4 + src.readUInt32LE(at);
    const need = keyEnd - at + 4 + value.length;
    if (this.pos + need > this.buf.length) this.seal(need);
    this.lastStart = this.pos;
    const b = this.buf;
    copyBytes(src, at, keyEnd, b, this.pos);
    const v = this.pos + keyEnd - at;
    b.writeUInt32LE(value.length, v);
    b.set(value, v + 4);
    this.pos = v + 4 + value.length;
    this.block!.entries++;
  }

  /** Offset in the file of the entry added last. */
  get lastOffset(): number {
    return this.flushed + this.lastStart;
  }

  endKeyGroup(): void {
    const block = this.block!;
    this.blockCrc = crc32(this.buf.subarray(this.blockStartInBuf, this.pos), this.blockCrc);
    block.length = this.flushed + this.pos - block.offset;
    block.crc32 = (this.blockCrc >>> 0).toString(16).padStart(8, '0');
    if (block.entries > 0) this.blocks.push(block);
    this.block = undefined;
  }

  /** Hands the current chunk out and starts a new one big enough for `need` bytes. */
  private seal(need: number): void {
    if (this.block) this.blockCrc = crc32(this.buf.subarray(this.blockStartInBuf, this.pos), this.blockCrc);
    if (this.pos > 0) this.ready.push(this.buf.subarray(0, this.pos));
    this.flushed += this.pos;
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK, need));
    this.pos = 0;
    this.blockStartInBuf = 0;
  }

  takeReady(): Buffer[] {
    const r = this.ready;
    this.ready = [];
    return r;
  }

  finish(): Buffer[] {
    this.seal(0);
    return this.takeReady();
  }

  get totalBytes(): number {
    return this.flushed + this.pos;
  }
}

/** Copies src[from, end) to dst at `to`: a loop for the short entries of counters (no view allocated), else a native copy. */
function copyBytes(src: Buffer, from: number, end: number, dst: Buffer, to: number): void {
  if (end - from <= 64) {
    for (let i = from; i < end; i++) dst[to++] = src[i]!;
  } else {
    src.copy(dst, to, from, end);
  }
}

/** Calls `onEntry` for every entry of a block (buffers are views into `bytes`). */
export function forEachEntry(bytes: Buffer, onEntry: (key: Buffer, value: Buffer) => void): void {
  let p = 0;
  while (p < bytes.length) {
    const kl = bytes.readUInt32LE(p);
    const key = bytes.subarray(p + 4, p + 4 + kl);
    p += 4 + kl;
    const vl = bytes.readUInt32LE(p);
    const value = bytes.subarray(p + 4, p + 4 + vl);
    p += 4 + vl;
    onEntry(key, value);
  }
}

export function snapshotFileName(operatorUid: string, subtask: number): string {
  return `${operatorUid.replace(/[^A-Za-z0-9_.-]/g, '_')}-${subtask}-keyed.bin`;
}

/**
 * Streams what `produce` writes into the storage as one file and returns the handle. `produce` runs
 * asynchronously and gets a chance to yield to the event loop between chunks.
 */
export async function writeKeyedSnapshot(
  storage: CheckpointStorage,
  base: Omit<KeyedStateHandle, 'file' | 'keyGroups'>,
  produce: (writer: EntryWriter) => AsyncIterable<void>,
  scope: CheckpointScope = 'checkpoint',
): Promise<KeyedStateHandle> {
  const writer = new EntryWriter();
  async function* chunks(): AsyncIterable<Uint8Array> {
    for await (const _ of produce(writer)) {
      for (const c of writer.takeReady()) yield c;
      await yieldToEventLoop();
    }
    for (const c of writer.finish()) yield c;
  }
  return writeKeyedSnapshotChunks(storage, base, chunks(), () => writer.blocks, scope);
}

/** Like writeKeyedSnapshot, for chunks made elsewhere (the LMDB writer thread); `blocks` is read after the last chunk. */
export async function writeKeyedSnapshotChunks(
  storage: CheckpointStorage,
  base: Omit<KeyedStateHandle, 'file' | 'keyGroups'>,
  chunks: AsyncIterable<Uint8Array>,
  blocks: () => KeyGroupBlock[],
  scope: CheckpointScope = 'checkpoint',
): Promise<KeyedStateHandle> {
  // A savepoint's files go under the savepoint's own directory, outside checkpoint retention.
  const file = await storage.writeFile(base.checkpointId, snapshotFileName(base.operatorUid, base.subtask), chunks, { scope });
  const keyGroups = blocks();
  return { ...base, ...(keyGroups.length > 0 ? { file } : {}), keyGroups };
}

/**
 * Reads the blocks of the key groups in `range` from every handle, coalescing adjacent blocks into
 * one read of at most 32 MiB, verifies each block's CRC-32 and hands each block to `onBlock`.
 */
export async function readOwnedBlocks(
  storage: CheckpointStorage,
  handles: readonly KeyedStateHandle[],
  range: KeyGroupRange,
  maxParallelism: number,
  onBlock: (keyGroup: number, bytes: Buffer) => Promise<void> | void,
): Promise<void> {
  for (const h of handles) {
    if (h.type !== 'weir.keyed-state') throw new CheckpointStorageError(`restore: expected a keyed state handle, got ${JSON.stringify((h as { type?: unknown }).type)}`);
    if (h.maxParallelism !== maxParallelism) {
      throw new CheckpointStorageError(
        `restore of operator '${h.operatorUid}': the checkpoint was taken with maxParallelism ${h.maxParallelism}, the job now has ${maxParallelism}; key groups cannot be remapped: keep maxParallelism at ${h.maxParallelism}`,
      );
    }
    const owned = h.keyGroups.filter((b) => b.keyGroup >= range.start && b.keyGroup <= range.end);
    if (owned.length === 0 || !h.file) continue;
    let i = 0;
    while (i < owned.length) {
      let j = i;
      while (j + 1 < owned.length && owned[j + 1]!.offset === owned[j]!.offset + owned[j]!.length && owned[j + 1]!.offset + owned[j + 1]!.length - owned[i]!.offset <= 32 << 20) j++;
      const start = owned[i]!.offset;
      const bytes = await storage.readFile(h.file, { offset: start, length: owned[j]!.offset + owned[j]!.length - start });
      for (let k = i; k <= j; k++) {
        const b = owned[k]!;
        const block = bytes.subarray(b.offset - start, b.offset - start + b.length);
        const crc = crc32(block).toString(16).padStart(8, '0');
        if (crc !== b.crc32) {
          throw new CheckpointStorageError(
            `restore of operator '${h.operatorUid}': key group ${b.keyGroup} in state file '${h.file.name}' of checkpoint ${h.checkpointId} is corrupt (CRC-32 ${crc}, ${b.crc32} recorded): restore from an earlier checkpoint`,
          );
        }
        await onBlock(b.keyGroup, block);
      }
      i = j + 1;
    }
  }
}
