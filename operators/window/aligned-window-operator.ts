/**
 * Tumbling and sliding windows (event or processing time) on panes. A pane is gcd(size, slide) ms;
 * each record updates one pane of its key (one state write), and a window fires by combining the
 * panes it covers. Windows end on multiples of the slide (plus offset).
 *
 * State per key: `panes` (MapState pane start -> accumulator) for reduce/aggregate; for process,
 * `elements` (ListState of [timestamp, record]) and `panes` (pane start -> 1) to know which panes
 * exist. Timers (namespaces): 'f' at end - 1 of the next window to fire, chained from window to
 * window while panes remain; 'c' at the last end + allowed lateness of a pane, to drop it; 'e' for
 * early firings. All of it lives in the keyed backend, so it survives failover and rescaling;
 * only what the checkpoint barrier writes there is held in memory between checkpoints (panes not
 * in state yet, pending-panes.ts; the keys' chained 'f' timers of sliding windows, chain-timers.ts).
 *
 * Lateness (event time): a record whose every window ended more than `allowedLatenessMs` ago goes
 * to the late side output (or is dropped); otherwise it is added, and each of its windows that
 * already fired fires again at once with the updated result ('late').
 */
import { BadRecordError, describeRecord, userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import { keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import type { ListState, MapState } from '../../state/handles.ts';
import type { TimeDomain, Timer } from '../../state/timers.ts';
import type { Operator, OperatorContext, OutputTag } from '../operator.ts';
import type { AlignedWindowAssigner } from './assigner.ts';
import { TimerDriver } from '../timer-driver.ts';
import { WindowCollector, floorMod, gcd, type EarlyFiring, type FiringKind, type ProcessWindowFunction, type WindowResultFunction } from './time-window.ts';
import { combine, type IncrementalContents, type WindowContents } from './window-contents.ts';
import { PaneCombiner } from './pane-combiner.ts';
import { PendingPanes, type PendingPane } from './pending-panes.ts';
import { KeptCombiners } from './kept-combiners.ts';
import { ChainTimers } from './chain-timers.ts';
import { clearArray } from './arrays.ts';

/**
 * Up to this many panes per window, an on-time firing reads the window's panes one by one; beyond
 * (e.g. 10 s every 100 ms: 100 panes), it scans the key's panes, which is cheaper when most of
 * them are empty.
 */
const POINT_READ_PANES = 32;

/**
 * Up to this many new panes are held in memory (all keys) instead of state until their last
 * window fired or a checkpoint comes; beyond, new panes go to state as others do.
 */
const MAX_HELD_PANES = 1 << 17;

export interface WindowOperatorOptions<T> {
  allowedLatenessMs?: number;
  lateTag?: OutputTag<T> | undefined;
  earlyFiring?: EarlyFiring | undefined;
}

type Emit<K, ACC, OUT, R> =
  | { contents: IncrementalContents<unknown, ACC, OUT>; fn: WindowResultFunction<K, OUT, R> }
  | { contents: { kind: 'elements' }; fn: ProcessWindowFunction<K, unknown, R> };

export class AlignedWindowOperator<K extends StateKey, T, ACC, OUT, R> implements Operator<T, R> {
  private backend!: KeyedStateBackend;
  private ctx!: OperatorContext<R>;
  private timers!: TimerDriver;
  private out!: WindowCollector<K, R>;
  private panes!: MapState<number, ACC>;
  private elements: ListState<[number, T]> | undefined;
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly pane: number;
  private readonly lateness: number;
  private readonly domain: TimeDomain;
  private readonly emitSpec: Emit<K, ACC, OUT, R>;
  private readonly scratchStarts: number[] = [];
  private readonly scratchAccs: ACC[] = [];
  private readonly scratchEnds: number[] = [];
  /** Per pane in scratchStarts, when some came from memory: whether it is held (not in state). */
  private readonly scratchHeld: boolean[] = [];
  /** The panes a firing evicted whose last window fired (fireDue), oldest first: dropped after it. */
  private readonly scratchDropped: number[] = [];
  /** Per key: its records of one pane in the current batch, folded (processBatch). */
  readonly pending = new PendingPanes<K, ACC>();
  /**
   * Times processBatch worked out a record's pane and window ends (a work count for tests): once
   * per run of records in one pane, not per record.
   */
  paneRuns = 0;
  /**
   * Panes of the incremental path read from state before a record was folded in (a work count for
   * tests): not those after the key's newest pane in state, so records in order read none.
   */
  paneReads = 0;
  /**
   * Whether new panes are held in memory (pending-panes.ts) instead of state until their last
   * window fired or a checkpoint comes: event-time windows of an aggregate without allowed lateness
   * or early firings, whose panes only records not due yet and on-time firings (fireDue) read. A
   * pane created and dropped between two checkpoints then costs no state access at all (on LMDB,
   * it never reaches the backend). A record for a pane with a window fired already (sliding) writes
   * its key's held panes to state first and goes on as without holding.
   */
  private readonly holdPanes: boolean;
  /** 'f' timers a new pane did not register because its key's chained timer reaches its first window (fireDue). */
  chainedPanes = 0;
  /** On-time windows of process window operators fired (a work count for tests). */
  elementFirings = 0;
  /** Per key of a sliding window (on its entry): the panes combined for its next windows (fireDue). */
  private readonly keptPanes: KeptCombiners<ACC>;
  /**
   * With held panes (sliding): the keys' chained 'f' timers, held in memory between checkpoints
   * (chain-timers.ts); the barrier moves them into the backend.
   */
  private readonly chain = new ChainTimers<PendingPane<K, ACC>>();
  /** The timer loop `firedInLoop` counts keys of (fireDue, fireDueElements). */
  private firedLoop = -1;
  /** Keys whose due windows fired in timer loop `firedLoop` (marked on their entries). */
  private firedInLoop = 0;

  constructor(
    readonly name: string,
    private readonly keyOf: (value: T) => K,
    assigner: AlignedWindowAssigner,
    contents: WindowContents<T, ACC, OUT>,
    fn: WindowResultFunction<K, OUT, R> | ProcessWindowFunction<K, T, R>,
    private readonly options: WindowOperatorOptions<T> = {},
  ) {
    this.size = assigner.sizeMs;
    this.slide = assigner.slideMs;
    this.keptPanes = new KeptCombiners<ACC>(this.slide);
    this.offset = assigner.offsetMs;
    this.pane = gcd(this.size, this.slide);
    this.domain = assigner.time;
    this.lateness = assigner.time === 'event' ? (options.allowedLatenessMs ?? 0) : 0;
    this.emitSpec = { contents, fn } as Emit<K, ACC, OUT, R>;
    this.holdPanes = contents.kind === 'incremental' && this.domain === 'event' && this.lateness === 0 && options.earlyFiring === undefined;
    if (contents.kind === 'incremental' && this.size !== this.pane && !contents.merge) {
      // Fails at graph construction rather than at the first firing.
      combine(contents, [undefined as ACC, undefined as ACC], name);
    }
  }

  open(ctx: OperatorContext<R>): void {
    if (!ctx.keyedState) throw new Error(`window operator '${this.name}' must follow keyBy`);
    this.ctx = ctx;
    this.backend = ctx.keyedState;
    const contents = this.emitSpec.contents;
    const serializer = contents.kind === 'incremental' ? contents.serializer : undefined;
    this.panes = this.backend.getMapState<number, ACC>({ kind: 'map', name: 'panes', ...(serializer ? { serializer } : {}) });
    if (this.emitSpec.contents.kind === 'elements') this.elements = this.backend.getListState<[number, T]>({ kind: 'list', name: 'elements' });
    const output = ctx.output;
    this.out = new WindowCollector<K, R>((v, t) => output.emit(v, t), () => ctx.currentWatermark(), () => ctx.processingTime.now());
    this.timers = new TimerDriver(this.backend, ctx as OperatorContext<unknown>, (t, d, upTo) => this.onTimer(t, d, upTo));
    this.timers.open();
  }

  /** The current time of the window's domain: the watermark, or the wall clock. */
  private now(): number {
    return this.domain === 'event' ? this.ctx.currentWatermark() : this.ctx.processingTime.now();
  }

  private paneOf(ts: number): number {
    return ts - floorMod(ts - this.offset, this.pane);
  }

  private firstEnd(pane: number): number {
    return pane - floorMod(pane - this.offset, this.slide) + this.slide;
  }

  private lastEnd(pane: number): number {
    const x = pane + this.size;
    return x - floorMod(x - this.offset, this.slide);
  }

  processBatch(values: readonly T[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { backend, panes, elements, keyOf, pending } = this;
    const maxParallelism = backend.maxParallelism;
    const eventTime = this.domain === 'event';
    const wm = this.now();
    const contents = this.emitSpec.contents;
    const incremental = contents.kind === 'incremental' ? contents : undefined;
    const lateness = this.lateness;
    pending.begin();
    // The pane of the previous record and what follows from it (its window ends, whether it is
    // late or has a window due): records in order fall in runs of one pane, and working these
    // out costs three floating-point remainders, so they are redone only when a record leaves
    // [runStart, runEnd).
    let runStart = Infinity;
    let runEnd = -Infinity;
    let pane = 0;
    let firstEnd = 0;
    let lastEnd = 0;
    let late = false;
    let due = false;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const v = values[i]!;
        const ts = eventTime ? times[i]! : wm;
        if (ts !== ts) throw new BadRecordError(`record has no event time; give the source a WatermarkStrategy with a timestamp assigner, or use processing-time windows`, describeRecord(v));
        if (ts < runStart || ts >= runEnd) {
          this.paneRuns++;
          pane = ts - floorMod(ts - this.offset, this.pane);
          runStart = pane;
          runEnd = pane + this.pane;
          firstEnd = this.firstEnd(pane);
          lastEnd = this.lastEnd(pane);
          late = eventTime && lastEnd - 1 + lateness <= wm;
          due = firstEnd - 1 <= wm;
        }
        if (late) {
          this.dropLate(v, ts);
          continue;
        }
        if (incremental) {
          // The key's entry, and its canonical key (for state and timers: pending-panes.ts).
          // The exchange's key hash (with keyGroups) finds the entry and sets the key without hashing.
          const p = pending.entry(keyOf(v), keyHashes?.[i]);
          const key = p.key;
          if (!due) {
            // No window of the pane is due: fold into the batch's accumulator of (key, pane).
            if (pending.holds(p)) {
              if (p.pane === pane) {
                p.acc = incremental.add(p.acc, v);
                p.index = i;
                continue;
              }
              this.writePending(p, wm);
            }
            // The keyBy exchange computed the key group already (operator.ts); hash only without it.
            const kg = keyGroups !== undefined ? keyGroups[i]! : keyGroupOf(key, maxParallelism);
            // A held pane is taken from memory; a pane after the key's newest in state is new:
            // no read (pending-panes.ts), and the key need not become the backend's current key.
            const h = p.heldStarts === undefined ? -1 : pending.heldIndex(p, pane);
            if (h >= 0) {
              // Folded in its slot, where writePending puts it back.
              pending.open(p, kg, pane, ts, i, incremental.add(p.heldAccs![h], v), false, true, h);
              continue;
            }
            let acc: ACC | undefined;
            if (!(pane > p.newest)) {
              backend.setCurrentKey(key, kg, p.keyHash);
              acc = this.readPane(p, pane);
            }
            pending.open(p, kg, pane, ts, i, incremental.add(acc, v), acc === undefined, acc === undefined);
            // For its timers when written (the run worked them out already).
            p.firstEnd = firstEnd;
            p.lastEnd = lastEnd;
            continue;
          }
          // A window of this pane is due already (late, or processing time catching up): write
          // the key's batch accumulator first, then this record at once.
          if (pending.holds(p)) this.writePending(p, wm);
          if (p.heldStarts !== undefined && p.heldStarts.length > 0) this.writeHeld(p);
          const kg = keyGroups !== undefined ? keyGroups[i]! : keyGroupOf(key, maxParallelism);
          backend.setCurrentKey(key, kg, p.keyHash);
          const acc = panes.get(pane);
          panes.put(pane, incremental.add(acc, v));
          if (pane > p.newest) p.newest = pane;
          this.afterWrite(p, key, kg, pane, ts, wm, firstEnd, lastEnd, acc === undefined);
          continue;
        }
        const key = keyOf(v);
        const kg = keyGroups !== undefined ? keyGroups[i]! : keyGroupOf(key, maxParallelism);
        backend.setCurrentKey(key, kg, keyHashes?.[i]);
        elements!.add([ts, v]);
        const isNew = !panes.contains(pane);
        if (isNew) panes.put(pane, 1 as ACC);
        this.afterWrite(undefined, key, kg, pane, ts, wm, firstEnd, lastEnd, isNew);
      }
    } catch (e) {
      this.endBatch();
      throw userFunctionError(this.name, values[i], e);
    }
    let p: PendingPane<K, ACC> | undefined;
    try {
      const touched = pending.touchedEntries();
      for (let j = 0; j < touched.length; j++) {
        p = touched[j]!;
        if (pending.holds(p)) this.writePending(p, wm);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[p!.index], e);
    } finally {
      // Entries about to be forgotten write their held panes first.
      if (pending.heldCount > 0 && pending.forgetsAtEnd()) this.writeAllHeld();
      this.endBatch();
    }
  }

  /** Ends the batch's folding; entries forgotten take their kept combiners with them. */
  private endBatch(): void {
    // The chained timers are kept on the entries, which are about to be forgotten.
    if (this.chain.size > 0 && this.pending.forgetsAtEnd()) this.chainToBackend();
    if (this.pending.end()) this.keptPanes.forgetAll();
  }

  /** Writes a key's held panes to state (the key becomes the current key). */
  private writeHeld(p: PendingPane<K, ACC>): void {
    this.backend.setCurrentKey(p.key, p.keyGroup, p.keyHash);
    const starts = p.heldStarts!;
    while (starts.length > 0) {
      const pane = starts[starts.length - 1]!;
      this.panes.put(pane, this.pending.takeHeld(p, starts.length - 1));
      if (pane > p.newest) p.newest = pane;
    }
  }

  /** Writes every held pane to state. */
  private writeAllHeld(): void {
    for (const p of this.pending.all()) if (p.heldStarts !== undefined && p.heldStarts.length > 0) this.writeHeld(p);
  }

  /** The checkpoint barrier: held panes go to state, which the backend snapshots next. */
  snapshotState(_checkpointId: number): void {
    if (this.pending.heldCount > 0) this.writeAllHeld();
    if (this.chain.size > 0) this.chainToBackend();
  }

  /** Moves the chained timers held in memory into the backend's timer service. */
  private chainToBackend(): void {
    this.chain.drain((time, e) => this.timers.register('event', time, e.key, e.keyGroup, 'f'));
  }

  /**
   * After a record was written to a pane with a window due already (late, or processing time
   * catching up; always for process windows, which keep elements): drops a kept combiner that
   * holds the pane, registers a new pane's timers, fires the windows that fired already again.
   */
  private afterWrite(entry: PendingPane<K, ACC> | undefined, key: K, kg: number, pane: number, ts: number, wm: number, firstEnd: number, lastEnd: number, isNew: boolean): void {
    const due = firstEnd - 1 <= wm;
    if (due && entry !== undefined) this.keptPanes.forgetPanesBefore(entry, pane);
    if (isNew) this.registerPane(entry, key, kg, pane, ts, wm, firstEnd, lastEnd);
    if (this.domain === 'event' && due) this.fireLate(key, firstEnd, lastEnd, wm);
  }

  /**
   * Writes a batch accumulator to state (the key becomes the current key), or holds it in memory if
   * the pane is not in state and panes are held; registers a new pane's timers.
   */
  private writePending(p: PendingPane<K, ACC>, wm: number): void {
    const pending = this.pending;
    pending.written(p);
    if (this.holdPanes && p.fresh && (p.slot >= 0 || pending.heldCount < MAX_HELD_PANES)) pending.hold(p);
    else {
      this.backend.setCurrentKey(p.key, p.keyGroup, p.keyHash);
      this.panes.put(p.pane, p.acc);
      if (p.pane > p.newest) p.newest = p.pane;
    }
    if (p.isNew) this.registerPane(p, p.key, p.keyGroup, p.pane, p.ts, wm, p.firstEnd, p.lastEnd);
  }

  /**
   * The current key's pane `pane` from state. The key's first read (its entry knows no newest pane
   * yet) lists its panes once to learn the newest; a pane after it is not read.
   */
  private readPane(p: PendingPane<K, ACC>, pane: number): ACC | undefined {
    if (p.newest !== p.newest) {
      let newest = -Infinity;
      for (const q of this.panes.keys()) if (q > newest) newest = q;
      p.newest = newest;
      if (pane > newest) return undefined;
    }
    this.paneReads++;
    return this.panes.get(pane);
  }

  private dropLate(v: T, ts: number): void {
    this.ctx.metrics.count('numLateRecordsDropped');
    if (this.options.lateTag) this.ctx.sideOutput(this.options.lateTag).emit(v, ts);
  }

  /** Registers a new pane's timers; `entry`: its key's, whose kept combiner may make its 'f' timer unneeded (process windows have none). */
  private registerPane(entry: PendingPane<K, ACC> | undefined, key: K, kg: number, pane: number, ts: number, now: number, firstEnd: number, lastEnd: number): void {
    const { timers, domain } = this;
    // The first window of the pane that has not fired yet; later ones follow by chaining.
    let end = firstEnd;
    if (this.domain === 'event' && end - 1 <= now) end += Math.ceil((now + 2 - end) / this.slide) * this.slide;
    if (end <= lastEnd) {
      if (entry !== undefined && this.keptPanes.coveredByChain(entry, end, lastEnd)) this.chainedPanes++;
      else timers.register(domain, end - 1, key, kg, 'f');
    }
    if (this.lateness > 0) timers.register('event', lastEnd - 1 + this.lateness, key, kg, 'c');
    const early = this.options.earlyFiring;
    if (early && end <= lastEnd) {
      const t = early.time === 'event' ? Math.max(ts, this.ctx.currentWatermark()) : this.ctx.processingTime.now();
      timers.register(early.time, Math.floor(t / early.everyMs) * early.everyMs + early.everyMs, key, kg, 'e');
    }
  }

  /** A record was added to windows that already fired and are within allowed lateness: fire them again. */
  private fireLate(key: K, firstEnd: number, lastEnd: number, wm: number): void {
    const ends: number[] = [];
    for (let end = firstEnd; end <= lastEnd && end - 1 <= wm; end += this.slide) {
      if (end - 1 + this.lateness > wm) ends.push(end);
    }
    if (ends.length > 0) this.fire(key, ends, 'late');
  }

  private onTimer(t: Timer, _domain: TimeDomain, upTo: number): void {
    const key = t.key as K;
    try {
      if (t.namespace === 'f' && this.emitSpec.contents.kind === 'incremental') {
        this.fireDue(key, t.time + 1, upTo, t.keyGroup);
      } else if (t.namespace === 'f') {
        this.fireDueElements(key, t.time + 1, upTo, t.keyGroup);
      } else if (t.namespace === 'c') {
        this.purge(this.paneStarts(), t.time);
      } else if (t.namespace === 'e') {
        this.fireEarly(t);
      }
    } catch (e) {
      throw userFunctionError(this.name, { timer: t.time, namespace: t.namespace, key: t.key }, e);
    }
  }

  /**
   * The on-time firings of an incremental window operator, at a key's first due 'f' timer of a
   * timer loop (all timers up to `upTo`): every window of the key from the timer's end `from` to
   * the last end due at `upTo` fires now, in end order. The key's other 'f' timers of the loop
   * (the first windows of its newer panes) then find their windows fired and do nothing. The next
   * 'f' timer is registered when a pane is also in the window after the last one fired (newer
   * panes registered their own first window); without allowed lateness, panes whose last window
   * fired are dropped.
   *
   * Sliding windows combine their panes in a PaneCombiner kept per key between firings (see
   * kept-combiners.ts): a pane is read from state once, when the first window that covers it fires,
   * and a window costs a few merges, however many panes it covers.
   *
   * Windows of different keys interleave differently than one timer per window would order them;
   * all of them are complete at `upTo`, and each key's come in end order.
   */
  private fireDue(key: K, from: number, upTo: number, keyGroup: number): void {
    const { panes, pane, size, slide, offset } = this;
    // The last window end due: end - 1 <= upTo.
    let lastDue = upTo === Infinity ? Infinity : upTo + 1 - floorMod(upTo + 1 - offset, slide);
    // A key's timers of one loop come in time order: if an earlier one fired several windows
    // (through lastDue), this one's are among them. One window due: no later 'f' timer of the key
    // can be due in this loop.
    const sliding = size !== pane;
    // The key's entry: its held panes, its kept combiner, whether it fired in this loop. A sliding
    // window keeps a combiner on it, so one is made for a key without (after a restore).
    const marks = lastDue > from;
    let keyEntry = this.holdPanes || sliding || marks || this.firedInLoop > 0 ? this.pending.find(key) : undefined;
    if (keyEntry === undefined && (sliding || marks)) keyEntry = this.pending.timerEntry(key);
    if (keyEntry !== undefined && this.firedBefore(keyEntry, marks)) return;
    let kept = sliding ? keyEntry!.kept : undefined;
    if (kept !== undefined && from <= kept.through) {
      this.keptPanes.forget(keyEntry!);
      kept = undefined;
    }
    // The panes not held yet that windows from..lastDue cover, in order.
    const starts = this.scratchStarts;
    const accs = this.scratchAccs;
    clearArray(starts);
    clearArray(accs);
    const low = kept === undefined ? from - size : Math.max(from - size, kept.through);
    // Held panes: the key's entry knows them, and whether state can have a pane here.
    const entry = this.holdPanes ? keyEntry : undefined;
    if (entry !== undefined && entry.newest < low) {
      // No pane of the key in state at or after `low`: nothing to read.
    } else if ((lastDue - low) / pane <= POINT_READ_PANES) {
      for (let p = low; p < lastDue; p += pane) {
        const a = panes.get(p);
        if (a === undefined) continue;
        starts.push(p);
        accs.push(a);
      }
    } else {
      // Keys only, then the values of the panes needed (not those kept, nor later ones).
      for (const p of panes.keys()) {
        if (p < low) continue;
        if (p >= lastDue) break;
        const a = panes.get(p);
        if (a === undefined) continue;
        starts.push(p);
        accs.push(a);
      }
    }
    const inState = starts.length;
    // The panes to fire: src[first .. n), in start order, and their accumulators in srcAccs.
    let src = starts;
    let srcAccs = accs;
    let first = 0;
    let n: number;
    /** Tumbling: how many of the panes are held (takeHeld). */
    let held = 0;
    const heldStarts = entry?.heldStarts;
    if (sliding && inState === 0 && heldStarts !== undefined && entry!.heldInOrder) {
      // Only held panes, in order (records in order): the ones in [low, lastDue) are a run of
      // the entry's own arrays, pushed from there. They stay held until evicted (dropped after
      // the loop, which is what changes the arrays).
      while (first < heldStarts.length && heldStarts[first]! < low) first++;
      n = first;
      while (n < heldStarts.length && heldStarts[n]! < lastDue) n++;
      src = heldStarts;
      srcAccs = entry!.heldAccs!;
    } else {
      // Tumbling: a pane's one window fires, so it is taken. Sliding: it stays held until evicted.
      held = entry !== undefined && heldStarts !== undefined && heldStarts.length > 0 ? this.takeHeld(entry, low, lastDue, !sliding) : 0;
      n = starts.length;
    }
    if (n === first && kept === undefined) return;
    if (lastDue === Infinity) lastDue = this.lastEnd(n > first ? src[n - 1]! : kept!.newest);
    const contents = this.emitSpec.contents as IncrementalContents<unknown, ACC, OUT>;
    const fn = this.emitSpec.fn as WindowResultFunction<K, OUT, R>;
    const out = this.out;
    const nextFrom = lastDue + slide - size;
    if (!sliding) {
      // Tumbling: a window is one pane.
      for (let j = 0; j < n; j++) {
        const p = starts[j]!;
        fn(contents.result(accs[j]!), out.set(key, p, p + size, 'on-time'), out);
        // A held pane was never in state.
        if (this.lateness === 0 && (held === 0 || (inState > 0 && !this.scratchHeld[j]))) panes.remove(p);
      }
      if (n > 0 && starts[n - 1]! >= nextFrom) this.timers.register(this.domain, lastDue + slide - 1, key, keyGroup, 'f');
      clearArray(accs);
      return;
    }
    const combiner = kept?.combiner ?? new PaneCombiner<ACC>(contents);
    const before = combiner.size;
    const drop = this.lateness === 0;
    const dropped = this.scratchDropped;
    clearArray(dropped);
    // Window [end - size, end) holds the combiner's panes once those before it are evicted and
    // src[.. hi) pushed.
    let hi = first;
    for (let end = from; end <= lastDue; ) {
      while (hi < n && src[hi]! < end) combiner.push(src[hi]!, srcAccs[hi++]!);
      while (combiner.size > 0 && combiner.oldest() < end - size) {
        const p = combiner.evict();
        if (drop) dropped.push(p);
      }
      if (combiner.size === 0) {
        // No pane in this window: on to the first window of the next pane.
        if (hi === n) break;
        end = Math.max(end + slide, this.firstEnd(src[hi]!));
        continue;
      }
      fn(contents.result(combiner.result() as ACC), out.set(key, end - size, end, 'on-time'), out);
      end += slide;
    }
    while (hi < n) combiner.push(src[hi]!, srcAccs[hi++]!);
    while (combiner.size > 0 && combiner.oldest() < nextFrom) {
      const p = combiner.evict();
      if (drop) dropped.push(p);
    }
    clearArray(accs);
    if (dropped.length > 0) this.dropPanes(entry, dropped);
    // What is left is in the window after lastDue.
    if (combiner.size === 0) {
      if (kept !== undefined) this.keptPanes.emptied(keyEntry!, before);
      return;
    }
    if (this.holdPanes) {
      // The entry carries the timer: its key group too (an entry made for a timer has none yet).
      keyEntry!.keyGroup = keyGroup;
      this.chain.add(lastDue + slide - 1, keyEntry!);
    } else this.timers.register(this.domain, lastDue + slide - 1, key, keyGroup, 'f');
    this.keptPanes.fired(keyEntry!, combiner, before, lastDue, this.lastEnd(combiner.newest()));
  }

  /**
   * Moves the entry's held panes in [low, lastDue) into scratchStarts/scratchAccs after the panes
   * read from state, keeping them in start order; returns how many. When some were read from state
   * too, scratchHeld marks which are held.
   */
  private takeHeld(entry: PendingPane<K, ACC>, low: number, lastDue: number, take: boolean): number {
    const starts = this.scratchStarts;
    const accs = this.scratchAccs;
    const inState = starts.length;
    const taken = this.pending.takeRange(entry, low, lastDue, starts, accs, take);
    const n = starts.length;
    let sorted = true;
    for (let j = inState > 0 ? inState : 1; j < n && sorted; j++) sorted = starts[j - 1]! < starts[j]!;
    if (inState === 0 && sorted) return taken;
    // Panes from state and held ones interleaved (or records out of order): sort, marking the held.
    const isHeld = this.scratchHeld;
    isHeld.length = n;
    for (let j = 0; j < n; j++) isHeld[j] = j >= inState;
    if (sorted) return taken;
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => starts[a]! - starts[b]!);
    const s = order.map((j) => starts[j]!);
    const a = order.map((j) => accs[j]!);
    const h = order.map((j) => isHeld[j]!);
    for (let j = 0; j < n; j++) {
      starts[j] = s[j]!;
      accs[j] = a[j]!;
      isHeld[j] = h[j]!;
    }
    return taken;
  }

  /**
   * Drops panes of the current key whose last window fired (ascending starts): those `entry`
   * holds from memory, the others from state.
   */
  private dropPanes(entry: PendingPane<K, ACC> | undefined, dropped: number[]): void {
    const inState = entry !== undefined && entry.heldStarts !== undefined && entry.heldStarts.length > 0 ? this.pending.dropAll(entry, dropped) : dropped.length;
    for (let j = 0; j < inState; j++) this.panes.remove(dropped[j]!);
    clearArray(dropped);
  }

  /**
   * Whether the key's due windows fired already in this timer loop; else, with `mark`, marks them
   * fired (the key's later 'f' timers of the loop then do nothing).
   */
  private firedBefore(entry: PendingPane<K, ACC>, mark: boolean): boolean {
    const loop = this.timers.loop;
    if (loop !== this.firedLoop) {
      this.firedLoop = loop;
      this.firedInLoop = 0;
    }
    if (entry.firedLoop === loop) return true;
    if (mark) {
      entry.firedLoop = loop;
      this.firedInLoop++;
    }
    return false;
  }

  /**
   * The on-time firings of a process window operator (all elements), at a key's first due 'f'
   * timer of a timer loop, as fireDue does for incremental ones: every window of the key that has
   * elements, from the timer's end `from` to the last end due at `upTo`, fires now in end order,
   * from one read of the key's elements; the key's later 'f' timers of the loop find it fired.
   * The next timer is registered when a pane is in the window after the last one fired (newer
   * panes registered their own); without allowed lateness, panes whose last window fired are
   * dropped with their elements.
   */
  private fireDueElements(key: K, from: number, upTo: number, keyGroup: number): void {
    const { size, slide } = this;
    const lastDue = upTo === Infinity ? Infinity : upTo + 1 - floorMod(upTo + 1 - this.offset, slide);
    const marks = lastDue > from;
    if (marks || this.firedInLoop > 0) {
      const entry = marks ? this.pending.timerEntry(key) : this.pending.find(key);
      if (entry !== undefined && this.firedBefore(entry, marks)) return;
    }
    // The ends from..lastDue of windows that hold a pane (not every slide: the watermark may
    // jump far), in order.
    const ends = this.scratchEnds;
    ends.length = 0;
    for (const p of this.panes.keys()) {
      for (let end = Math.max(this.firstEnd(p), from), last = Math.min(this.lastEnd(p), lastDue); end <= last; end += slide) ends.push(end);
    }
    if (ends.length === 0) return;
    ends.sort((a, b) => a - b);
    let n = 0;
    for (let j = 0; j < ends.length; j++) if (j === 0 || ends[j] !== ends[n - 1]) ends[n++] = ends[j]!;
    ends.length = n;
    this.elementFirings += n;
    const fired = ends[n - 1]!;
    const present = this.fire(key, ends, 'on-time');
    const next = fired + slide;
    for (let j = 0; j < present.length; j++) {
      if (present[j]! >= next - size && present[j]! < next) {
        this.timers.register(this.domain, next - 1, key, keyGroup, 'f');
        break;
      }
    }
    if (this.lateness === 0) this.purge(present, fired - 1);
  }

  private fireEarly(t: Timer): void {
    const early = this.options.earlyFiring!;
    // Windows that have not had their on-time firing, as of the timer (same domain) or now.
    const asOf = early.time === this.domain ? t.time : this.now();
    const present = this.paneStarts();
    const ends = new Set<number>();
    for (const p of present) {
      for (let end = this.firstEnd(p), last = this.lastEnd(p); end <= last; end += this.slide) if (end - 1 > asOf) ends.add(end);
    }
    if (ends.size === 0) return;
    this.fire(t.key as K, [...ends].sort((a, b) => a - b), 'early');
    this.timers.register(early.time, t.time + early.everyMs, t.key, t.keyGroup, 'e');
  }

  private paneStarts(): number[] {
    return [...this.panes.keys()];
  }

  /** Emits the windows ending at `ends` of the current key (those with data); returns the key's pane starts (a scratch array). */
  private fire(key: K, ends: readonly number[], firing: FiringKind): number[] {
    const spec = this.emitSpec;
    const size = this.size;
    const out = this.out;
    const starts = this.scratchStarts;
    starts.length = 0;
    if (spec.contents.kind === 'incremental') {
      const contents = spec.contents;
      const accs = this.scratchAccs;
      accs.length = 0;
      for (const [p, acc] of this.panes.entries()) {
        starts.push(p);
        accs.push(acc);
      }
      for (const end of ends) {
        // Combine the window's panes; one pane is used as it is (no merge, no copy).
        let acc: ACC | undefined;
        let n = 0;
        for (let j = 0; j < starts.length; j++) {
          const p = starts[j]!;
          if (p < end - size || p >= end) continue;
          if (n === 0) acc = accs[j];
          else {
            if (n === 1) acc = this.combineFirst(acc as ACC);
            acc = contents.merge!(acc as ACC, accs[j]!);
          }
          n++;
        }
        if (n === 0) continue;
        (spec.fn as WindowResultFunction<K, OUT, R>)(contents.result(acc as ACC), out.set(key, end - size, end, firing), out);
      }
      accs.length = 0;
      return starts;
    }
    const all = this.elements!.get();
    for (const end of ends) {
      const inWindow: T[] = [];
      for (const [ts, v] of all) if (ts >= end - size && ts < end) inWindow.push(v);
      if (inWindow.length === 0) continue;
      (spec.fn as ProcessWindowFunction<K, T, R>)(inWindow, out.set(key, end - size, end, firing), out);
    }
    for (const p of this.panes.keys()) starts.push(p);
    return starts;
  }

  /** The left side of a merge: a fresh accumulator merged with the first pane, so no pane (state) is modified. */
  private combineFirst(first: ACC): ACC {
    const c = this.emitSpec.contents as IncrementalContents<unknown, ACC, OUT>;
    if (!c.merge) combine(c, [first, first], this.name);
    const empty = c.empty();
    return empty === undefined ? first : c.merge!(empty, first);
  }

  /** Drops the panes of the current key whose last window is past allowed lateness at `time`. */
  private purge(starts: readonly number[], time: number): void {
    let any = false;
    for (let j = 0; j < starts.length; j++) {
      const p = starts[j]!;
      if (this.lastEnd(p) - 1 + this.lateness > time) continue;
      this.panes.remove(p);
      any = true;
    }
    if (any && this.elements) {
      const kept: [number, T][] = [];
      for (const e of this.elements.get()) if (this.lastEnd(this.paneOf(e[0])) - 1 + this.lateness > time) kept.push(e);
      this.elements.update(kept);
    }
  }

  processWatermark(watermark: number): void {
    const chain = this.chain;
    if (chain.size > 0 && chain.earliest() <= watermark) {
      // A key's timers fire in time order: with a backend timer due too, the backend's loop orders them all.
      const next = this.backend.timers.peekEarliest('event');
      if (next !== undefined && next <= watermark) this.chainToBackend();
      else this.fireChain(watermark);
    }
    this.timers.fire('event', watermark);
  }

  /** Fires the chained timers due at `watermark` as one timer loop, as the backend's would. */
  private fireChain(watermark: number): void {
    this.timers.nextLoop();
    this.chain.fireDue(watermark, (time, e) => {
      try {
        this.backend.setCurrentKey(e.key, e.keyGroup, e.keyHash);
        this.fireDue(e.key, time + 1, watermark, e.keyGroup);
      } catch (err) {
        throw userFunctionError(this.name, { timer: time, namespace: 'f', key: e.key }, err);
      }
    });
  }

  /** A bounded input ended: processing-time windows fire what they hold (event time had the final watermark). */
  endInput(): void {
    this.timers.fire('processing', Infinity);
  }
}
