/**
 * The LMDB backend's cache of list state: per (state, key) in the backend's PointCache (weight 1 +
 * the elements it holds), in front of the write-back layers and LMDB, like map-cache.ts.
 *
 * - `add` appends to the cache only (with its seq, see layout in ../README.md): adding to a list
 *   never reads it, and a list written and read between two checkpoints never touches LMDB.
 * - The first `get` of a key not complete in the cache reads its elements below once (one range
 *   scan plus the layers); after that `get` is answered from the cache.
 * - The additions (and a clear) since the last write-back reach the write-back buffer as one
 *   PendingList when the entry is evicted, when too many entries are dirty, and at snapshot and flush.
 *
 * Elements are the state's own objects (copied in when added, copied out when read).
 */
import type { KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import type { Layer, Stored } from './layers.ts';

export class CachedList {
  /** Complete: every element, oldest first. Otherwise only the ones added since the last write-back. */
  elems: Stored[] = [];
  complete: boolean;
  /** elems[pendingFrom..] were added since the last write-back, under these seqs. */
  private pendingFrom = 0;
  private seqs: number[] = [];
  /** Cleared since the last write-back: what is below goes. */
  private cleared = false;

  constructor(complete: boolean) {
    this.complete = complete;
  }

  add(stored: Stored, seq: number): void {
    this.elems.push(stored);
    this.seqs.push(seq);
  }

  clear(): void {
    this.elems = [];
    this.seqs = [];
    this.pendingFrom = 0;
    this.complete = true;
    this.cleared = true;
  }

  /** Makes the list complete: `below` is what the layers and LMDB hold, oldest first. */
  load(below: Stored[]): void {
    if (this.complete) return;
    this.pendingFrom = below.length;
    this.elems = below.length === 0 ? this.elems : below.concat(this.elems);
    this.complete = true;
  }

  /** Puts the additions (and clear) since the last write-back into `layer`; returns the writes added. */
  writeBack(layer: Layer, id: KeyId, kg: number, key: StateKey): number {
    let l = layer.lists.get(id);
    if (l === undefined) {
      l = { kg, key, cleared: false, seqs: [], added: [] };
      layer.lists.set(id, l);
    }
    let n = 0;
    if (this.cleared) {
      l.cleared = true;
      l.seqs.length = 0;
      l.added.length = 0;
      n++;
    }
    const { elems, seqs, pendingFrom } = this;
    for (let i = 0; i < seqs.length; i++) {
      l.seqs.push(seqs[i]!);
      l.added.push(elems[pendingFrom + i]);
    }
    n += seqs.length;
    this.seqs = [];
    this.cleared = false;
    if (this.complete) this.pendingFrom = elems.length;
    else this.elems = [];
    return n;
  }
}
