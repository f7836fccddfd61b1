/**
 * The batch folding of the aligned window operator: a key's records of one pane within one input
 * batch, folded into one accumulator. State is read at the first of them and written once after
 * the batch (or when the key's next record is in another pane, or due already), so records of a
 * key that come together cost one state read and write. Nothing sees state in between (timers
 * fire between batches).
 *
 * Event-time windows without allowed lateness or early firings go further: a pane not in state is
 * held in its key's entry across batches (`hold`) until its last window fired (the operator's
 * fireDue takes a tumbling pane when it fires, and drops a sliding one when the combiner evicts
 * it), or the checkpoint barrier writes it to state (the operator's snapshotState). A pane
 * created and dropped between two checkpoints costs no state access at all, on LMDB none reaches
 * the backend. While held, a pane is absent from state: every reader of the
 * key's panes looks at the entry first. Held panes are bounded (MAX_HELD_PANES in the operator);
 * entries are forgotten only when none holds a pane.
 *
 * Finding a key's entry costs a lookup per record: string keys (decoded fresh from the exchange,
 * so a JS Map would hash each one in the engine's runtime) in a StringKeyTable, other keys in a
 * Map by KeyId. A record of the same key as the record before it (a hot key, or input grouped by
 * key) is folded without one.
 */
import type { StateKey } from '../../state/key-groups.ts';
import { keyId, type KeyId } from '../../state/key-codec.ts';
import { StringKeyTable } from '../../state/string-key-table.ts';
import { hashString } from '../../state/key-groups.ts';

/** Keys whose entry object is kept for reuse across batches. */
const MAX_PENDING_KEYS = 1 << 16;

export interface PendingPane<K, ACC> {
  /** The batch it holds records of; -1 once written (or dropped). */
  batch: number;
  key: K;
  keyGroup: number;
  /**
   * A string key's hash (hashString, what the keyBy exchange carries as keyHashes): passed to the
   * backend's setCurrentKey, which then hashes nothing. Undefined for other keys.
   */
  keyHash: number | undefined;
  pane: number;
  /** The first record's time (early firing starts from it). */
  ts: number;
  acc: ACC;
  /** Whether the pane's timers are not registered yet (it was not in state, nor held, before the batch). */
  isNew: boolean;
  /** Whether the pane is not in state (new, or held): `acc` is all there is of it. */
  fresh: boolean;
  /**
   * Panes of the key held in memory instead of state (see above), and their accumulators; absent
   * from state while held. Undefined until the key holds one.
   */
  heldStarts: number[] | undefined;
  heldAccs: ACC[] | undefined;
  /** The index among the held panes of the pane this batch folds into, or -1 if it is not held. */
  slot: number;
  /**
   * No pane of the key in state starts after this (NaN: not known yet). The operator learns it from
   * the key's panes once, when the entry is made, and raises it with every pane it writes; panes
   * are removed only, never added, elsewhere. A record of a pane after it starts the pane without
   * reading state (records in order: every new pane), where a read would miss (and, on LMDB, look
   * below the cache for a key written back).
   */
  newest: number;
  /**
   * The batch index of the last record folded (named if writing fails); an index, not the record,
   * so that no pointer to a young object is written into this long-lived one per record.
   */
  index: number;
}

export class PendingPanes<K extends StateKey, ACC> {
  /** Per key: its entry (reused across batches); string keys in byString, others by KeyId. */
  private readonly byString = new StringKeyTable<PendingPane<K, ACC>>();
  private readonly byKey = new Map<KeyId, PendingPane<K, ACC>>();
  /** The entries of the current batch, in first-record order (an entry again after it was written). */
  private readonly touched: PendingPane<K, ACC>[] = [];
  private batch = 0;
  /** The entry found last, and the key it was found by: the next record of that key needs no lookup. */
  private last: PendingPane<K, ACC> | undefined;
  private lastKey: K | undefined;
  /** Lookups of a key's entry done (a work count for tests). */
  lookups = 0;
  /**
   * Entries that held panes, by their canonical key (string keys) or KeyId: a timer's key is the
   * canonical string, whose hash the engine keeps, so finding its entry here costs no hashing.
   */
  readonly holding = new Map<StateKey, PendingPane<K, ACC>>();
  /** Panes held by all entries. */
  heldCount = 0;

  /** Starts a batch: entries of earlier batches no longer hold records. */
  begin(): void {
    this.batch++;
    this.last = undefined;
    this.lastKey = undefined;
  }

  /**
   * The key's entry, made on its first record. Its `key` is the key as first seen, the
   * canonical copy: the operator uses it for state and timers rather than the record's own copy
   * (a string decoded fresh per record), so the backend's Maps hash a string they have hashed
   * before and find their own key object. `keyHash`: a string key's hash as the keyBy exchange
   * carried it (hashString of it), so that finding the entry hashes nothing.
   */
  entry(key: K, keyHash?: number): PendingPane<K, ACC> {
    const last = this.last;
    // Primitive keys only: a tuple key is compared by content (a selector may reuse its array).
    if (last !== undefined && key === this.lastKey && typeof key !== 'object') return last;
    this.lookups++;
    const isString = typeof key === 'string';
    const hash = isString ? (keyHash ?? hashString(key)) : undefined;
    let p = isString ? this.byString.getHashed(key, hash!) : this.byKey.get(keyId(key));
    if (p === undefined) {
      p = { batch: -1, key, keyGroup: 0, keyHash: hash, pane: 0, ts: 0, acc: undefined as ACC, isNew: false, fresh: false, heldStarts: undefined, heldAccs: undefined, slot: -1, newest: Number.NaN, index: 0 };
      if (isString) this.byString.addHashed(key, hash!, p);
      else this.byKey.set(keyId(key), p);
    }
    this.last = p;
    this.lastKey = key;
    return p;
  }

  /** The key's entry if it ever held a pane (no entry is made). */
  find(key: K): PendingPane<K, ACC> | undefined {
    return this.holding.get(typeof key === 'object' ? keyId(key) : key);
  }

  /** The index of `pane` among the entry's held panes, or -1. */
  heldIndex(p: PendingPane<K, ACC>, pane: number): number {
    const starts = p.heldStarts;
    if (starts === undefined) return -1;
    for (let j = 0; j < starts.length; j++) if (starts[j] === pane) return j;
    return -1;
  }

  /**
   * Holds the entry's pane and accumulator of this batch in memory (it is not in state): in its
   * slot if the batch took it from there, else in a new one.
   */
  hold(p: PendingPane<K, ACC>): void {
    if (p.slot >= 0) {
      p.heldAccs![p.slot] = p.acc;
      return;
    }
    if (p.heldStarts === undefined) {
      p.heldStarts = [];
      p.heldAccs = [];
      // Stays in `holding` (possibly holding nothing) until the entries are forgotten.
      this.holding.set(typeof p.key === 'object' ? keyId(p.key) : p.key, p);
    }
    p.heldStarts.push(p.pane);
    p.heldAccs!.push(p.acc);
    this.heldCount++;
  }

  /** Takes held pane `j` out of the entry; returns its accumulator. */
  takeHeld(p: PendingPane<K, ACC>, j: number): ACC {
    const starts = p.heldStarts!;
    const accs = p.heldAccs!;
    const acc = accs[j]!;
    const lastStart = starts.pop()!;
    const lastAcc = accs.pop()!;
    if (j < starts.length) {
      starts[j] = lastStart;
      accs[j] = lastAcc;
    }
    this.heldCount--;
    return acc;
  }

  /**
   * Moves (or with `take` false copies) the entry's held panes in [low, high) to the ends of
   * `starts` and `accs`, in the order they were held (start order for records in order); returns
   * how many.
   */
  takeRange(p: PendingPane<K, ACC>, low: number, high: number, starts: number[], accs: ACC[], take: boolean): number {
    const held = p.heldStarts!;
    const heldAccs = p.heldAccs!;
    let keep = 0;
    let found = 0;
    for (let j = 0; j < held.length; j++) {
      const pane = held[j]!;
      if (pane >= low && pane < high) {
        starts.push(pane);
        accs.push(heldAccs[j]!);
        found++;
        if (take) continue;
      }
      held[keep] = pane;
      heldAccs[keep++] = heldAccs[j]!;
    }
    if (!take) return found;
    const taken = held.length - keep;
    for (let j = 0; j < taken; j++) {
      held.pop();
      heldAccs.pop();
    }
    this.heldCount -= taken;
    return taken;
  }

  /** Drops held pane `pane` of the entry; returns whether it held it. */
  drop(p: PendingPane<K, ACC>, pane: number): boolean {
    const j = this.heldIndex(p, pane);
    if (j < 0) return false;
    const held = p.heldStarts!;
    const heldAccs = p.heldAccs!;
    // Keeps the order (the oldest, dropped first, is at the front); no splice, which makes an
    // array of what it removes.
    const last = held.length - 1;
    for (let k = j; k < last; k++) {
      held[k] = held[k + 1]!;
      heldAccs[k] = heldAccs[k + 1]!;
    }
    held.pop();
    heldAccs.pop();
    this.heldCount--;
    return true;
  }

  /** Whether `end()` will forget the entries (then their held panes must be written first). */
  forgetsAtEnd(): boolean {
    return this.byString.size + this.byKey.size > MAX_PENDING_KEYS;
  }

  /** Whether the entry holds records of the current batch (not written yet). */
  holds(p: PendingPane<K, ACC>): boolean {
    return p.batch === this.batch;
  }

  /** Makes the entry hold `pane` of this batch, with the accumulator `acc` (the state's folded with the first record). */
  open(p: PendingPane<K, ACC>, keyGroup: number, pane: number, ts: number, index: number, acc: ACC, isNew: boolean, fresh: boolean, slot = -1): void {
    p.batch = this.batch;
    p.slot = slot;
    p.keyGroup = keyGroup;
    p.pane = pane;
    p.ts = ts;
    p.acc = acc;
    p.isNew = isNew;
    p.fresh = fresh;
    p.index = index;
    this.touched.push(p);
  }

  /** Marks an entry written: a later record of its key in this batch opens it again. */
  written(p: PendingPane<K, ACC>): void {
    p.batch = -1;
  }

  /** The entries of the current batch not written yet, in first-record order, each once. */
  *unwritten(): Generator<PendingPane<K, ACC>> {
    const touched = this.touched;
    for (let j = 0; j < touched.length; j++) {
      const p = touched[j]!;
      if (p.batch === this.batch) yield p;
    }
  }

  /** Ends the batch: forgets its accumulators (written or not). */
  end(): void {
    const touched = this.touched;
    for (let j = 0; j < touched.length; j++) {
      const p = touched[j]!;
      p.batch = -1;
      p.acc = undefined as ACC;
    }
    touched.length = 0;
    this.last = undefined;
    this.lastKey = undefined;
    // One entry per key seen: bounded, so a job with many keys does not keep one per key.
    if (this.forgetsAtEnd() && this.heldCount === 0) {
      this.byString.clear();
      this.byKey.clear();
      this.holding.clear();
    }
  }
}
