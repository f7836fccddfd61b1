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
 * key) is folded without one. A timer finds the entry by its canonical key in `entries`. The entry
 * is all the operator keeps about a key in memory: besides the panes, a sliding window's kept
 * combiner (kept-combiners.ts) and the timer loop its windows fired in, so the record that makes a
 * pane and the firing that uses it need no lookup of their own.
 */
import type { StateKey } from '../../state/key-groups.ts';
import { keyId } from '../../state/key-codec.ts';
import type { KeepsPanes } from './kept-combiners.ts';
import type { ChainedKey } from './chain-timers.ts';
import { StringKeyTable } from '../../state/string-key-table.ts';
import { hashString } from '../../state/key-groups.ts';
import { clearArray, shiftDown, truncateArray } from './arrays.ts';

/** Keys whose entry object is kept for reuse across batches. */
const MAX_PENDING_KEYS = 1 << 16;

export interface PendingPane<K, ACC> extends KeepsPanes<ACC>, ChainedKey {
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
  /** With isNew: the ends of the pane's first and last windows. */
  firstEnd: number;
  lastEnd: number;
  /** Whether the pane is not in state (new, or held): `acc` is all there is of it. */
  fresh: boolean;
  /**
   * Panes of the key held in memory instead of state (see above), and their accumulators; absent
   * from state while held. Undefined until the key holds one.
   */
  heldStarts: number[] | undefined;
  heldAccs: ACC[] | undefined;
  /**
   * At least the start of every pane held (the greatest ever held): a pane after it is not held,
   * which a record in order learns without looking through the held panes.
   */
  heldMax: number;
  /** Whether the held panes are in start order (records in order keep them so). */
  heldInOrder: boolean;
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
  /** The timer loop in which the key's due windows fired (the operator's fireDue), or -1. */
  firedLoop: number;
  /**
   * The batch index of the last record folded (named if writing fails); an index, not the record,
   * so that no pointer to a young object is written into this long-lived one per record.
   */
  index: number;
}

export class PendingPanes<K extends StateKey, ACC> {
  /**
   * Per key: its entry (reused across batches). String keys are found by a record's key in
   * byString, by the exchange's hash; every entry is in `entries` under its canonical key (string
   * keys) or KeyId: a timer's key is the canonical string, whose hash the engine keeps, so finding
   * its entry there costs no hashing.
   */
  private readonly byString = new StringKeyTable<PendingPane<K, ACC>>();
  private readonly entries = new Map<StateKey, PendingPane<K, ACC>>();
  /** The entries of the current batch, in first-record order (an entry again after it was written). */
  private readonly touched: PendingPane<K, ACC>[] = [];
  private batch = 0;
  /** The entry found last, and the key it was found by: the next record of that key needs no lookup. */
  private last: PendingPane<K, ACC> | undefined;
  private lastKey: K | undefined;
  /** Lookups of a key's entry done (a work count for tests). */
  lookups = 0;
  /** Panes held by all entries. */
  heldCount = 0;
  /** Per pane given to dropAll: whether the entry held it. */
  private readonly scratchFound: boolean[] = [];

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
    const p = (isString ? this.byString.getHashed(key, hash!) : this.entries.get(mapKey(key))) ?? this.make(key, hash);
    this.last = p;
    this.lastKey = key;
    return p;
  }

  private make(key: K, hash: number | undefined): PendingPane<K, ACC> {
    const p: PendingPane<K, ACC> = { batch: -1, key, keyGroup: 0, keyHash: hash, pane: 0, ts: 0, acc: undefined as ACC, isNew: false, firstEnd: 0, lastEnd: 0, fresh: false, heldStarts: undefined, heldAccs: undefined, heldMax: -Infinity, heldInOrder: true, slot: -1, newest: Number.NaN, kept: undefined, firedLoop: -1, index: 0, chainAt: Number.NaN, chainFired: Number.NaN };
    if (typeof key === 'string') this.byString.addHashed(key, hash!, p);
    this.entries.set(mapKey(key), p);
    return p;
  }

  /** The entry of a timer's key (canonical, as entries give it out), if it has one (no entry is made). */
  find(key: K): PendingPane<K, ACC> | undefined {
    return this.entries.get(mapKey(key));
  }

  /** The entry of a timer's key, made if it has none (a key whose records came before a restore). */
  timerEntry(key: K): PendingPane<K, ACC> {
    return this.find(key) ?? this.make(key, typeof key === 'string' ? hashString(key) : undefined);
  }

  /** Every entry (the operator writes their held panes from here). */
  all(): IterableIterator<PendingPane<K, ACC>> {
    return this.entries.values();
  }

  /** The index of `pane` among the entry's held panes, or -1. */
  heldIndex(p: PendingPane<K, ACC>, pane: number): number {
    const starts = p.heldStarts;
    if (starts === undefined || pane > p.heldMax) return -1;
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
    }
    const n = p.heldStarts.length;
    if (n === 0) p.heldInOrder = true;
    else if (p.pane < p.heldStarts[n - 1]!) p.heldInOrder = false;
    p.heldStarts.push(p.pane);
    p.heldAccs!.push(p.acc);
    if (p.pane > p.heldMax) p.heldMax = p.pane;
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
      p.heldInOrder = false;
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
    truncateArray(held, keep);
    truncateArray(heldAccs, keep);
    this.heldCount -= taken;
    return taken;
  }

  /**
   * Drops, in one pass, the entry's held panes among `panes` (ascending starts: the panes a firing
   * evicted, oldest first). Those it did not hold (in state) are moved to the front of `panes`;
   * returns how many. Held panes keep their order. One pass rather than a drop per pane, which
   * shifted the key's other held panes down each time (the oldest is first).
   */
  dropAll(p: PendingPane<K, ACC>, panes: number[]): number {
    const held = p.heldStarts;
    const heldAccs = p.heldAccs;
    const n = panes.length;
    if (held === undefined || heldAccs === undefined) return n;
    // Records in order: the dropped panes are the oldest held, first.
    let prefix = 0;
    while (prefix < n && prefix < held.length && held[prefix] === panes[prefix]) prefix++;
    if (prefix === n) {
      shiftDown(held, n);
      shiftDown(heldAccs, n);
      this.heldCount -= n;
      return 0;
    }
    const first = panes[0]!;
    const last = panes[n - 1]!;
    const found = this.scratchFound;
    clearArray(found);
    for (let j = 0; j < n; j++) found.push(false);
    let keep = 0;
    for (let j = 0; j < held.length; j++) {
      const pane = held[j]!;
      const at = pane < first || pane > last ? -1 : indexOfSorted(panes, pane);
      if (at >= 0) {
        found[at] = true;
        continue;
      }
      held[keep] = pane;
      heldAccs[keep++] = heldAccs[j]!;
    }
    this.heldCount -= held.length - keep;
    truncateArray(held, keep);
    truncateArray(heldAccs, keep);
    let notHeld = 0;
    for (let j = 0; j < n; j++) if (!found[j]) panes[notHeld++] = panes[j]!;
    return notHeld;
  }

  /** Whether `end()` will forget the entries (then their held panes must be written first). */
  forgetsAtEnd(): boolean {
    return this.entries.size > MAX_PENDING_KEYS;
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

  /**
   * The entries of the current batch, in first-record order (an entry again after it was
   * written): those that `holds` are not written yet, each once.
   */
  touchedEntries(): readonly PendingPane<K, ACC>[] {
    return this.touched;
  }

  /**
   * Ends the batch: forgets its accumulators (written or not). Returns whether it forgot the
   * entries too (with what they kept: the operator recounts its kept combiners).
   */
  end(): boolean {
    const touched = this.touched;
    for (let j = 0; j < touched.length; j++) {
      const p = touched[j]!;
      p.batch = -1;
      p.acc = undefined as ACC;
    }
    clearArray(touched);
    this.last = undefined;
    this.lastKey = undefined;
    // One entry per key seen: bounded, so a job with many keys does not keep one per key.
    if (this.forgetsAtEnd() && this.heldCount === 0) {
      this.byString.clear();
      this.entries.clear();
      return true;
    }
    return false;
  }
}

/** A key as `entries` has it: a tuple by its KeyId (compared by content), a primitive as it is. */
function mapKey(key: StateKey): StateKey {
  return typeof key === 'object' ? keyId(key) : key;
}

/** The index of `x` in ascending `sorted`, or -1. */
function indexOfSorted(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
