/**
 * Runs a source reader inside its task: restores the reader's splits from operator state (split
 * list state, so a rescale deals them out one by one), registers the reader with its enumerator,
 * hands it the enumerator's assignments, polls it for batches, stamps records with event time and
 * generates watermarks per split (largest timestamp seen minus the out-of-orderness bound, minus 1).
 * The source's watermark is the minimum over splits that are neither finished nor idle; when every
 * split is idle the task says so downstream so that it holds no watermark back. A reader without a
 * split yet holds the watermark back (as in Flink) unless idleness is configured.
 *
 * Watermarks go out at most every `autoWatermarkIntervalMs` of processing time (Flink's
 * `pipeline.auto-watermark-interval`), not after every poll: a source polled ten thousand times a
 * second would otherwise send as many watermarks down every channel, each a message to another
 * thread, a flush of a part-filled batch and a pass over the timers of every operator downstream.
 * A watermark that moved by the interval in event time goes out at once too: a source catching up
 * (event time running a hundred times faster than the clock) would otherwise let downstream state
 * (windows, buffered join sides, pre-aggregation) grow by twenty seconds of events between
 * watermarks. So the watermark trails the data by at most the interval in either clock. A watermark
 * held back goes out once the interval has passed, from the next poll or from a timer when the
 * source has nothing to read (`watermarkDueInMs`); idleness changes go out at once.
 */
import type { Output } from '../../operators/operator.ts';
import type { OperatorStateStore } from '../../state/operator-state.ts';
import type { WatermarkStrategy } from '../graph/watermark-strategy.ts';
import { userFunctionError } from '../errors.ts';
import type { EnumeratorEvent, PollStatus, ReaderEvent, ReaderOutput, Source, SourceReader, SourceSplit, SplitOutput } from '../source/contract.ts';

/** The operator state under which a reader's splits are checkpointed. */
export const READER_SPLITS_STATE = 'source-reader-splits';

export interface WatermarkUpdate {
  watermark?: number;
  idle?: boolean;
}

class SplitWatermarks {
  private readonly maxTs: number[] = [];
  private readonly lastActive: number[] = [];
  private readonly released: boolean[] = [];
  private emitted = -Infinity;
  /** When the last watermark went out (-Infinity: none yet, so the first goes at once). */
  private emittedAt = -Infinity;
  /** A watermark above `emitted` is held back until the interval has passed. */
  private held = false;
  private idle = false;
  private readonly startedAt: number;

  constructor(
    private readonly bound: number,
    private readonly idleTimeoutMs: number | undefined,
    private readonly intervalMs: number,
    now: number,
  ) {
    this.startedAt = now;
  }

  /** With a watermark held back: ms until it may go out (0: now); otherwise undefined. */
  dueInMs(now: number): number | undefined {
    return this.held ? Math.max(0, this.emittedAt + this.intervalMs - now) : undefined;
  }

  addSlot(now: number): number {
    this.maxTs.push(-Infinity);
    this.lastActive.push(now);
    this.released.push(false);
    return this.maxTs.length - 1;
  }

  release(slot: number): void {
    this.released[slot] = true;
  }

  /** Released slots (finished splits) kept so far. */
  get releasedCount(): number {
    let n = 0;
    for (const r of this.released) if (r) n++;
    return n;
  }

  /** Drops released slots; `live` are the slots still in use, in order; returns their new indexes. */
  compact(live: readonly number[]): number[] {
    const keep = (a: number[]): number[] => live.map((s) => a[s]!);
    const maxTs = keep(this.maxTs);
    const lastActive = keep(this.lastActive);
    this.maxTs.length = 0;
    this.lastActive.length = 0;
    this.released.length = 0;
    this.maxTs.push(...maxTs);
    this.lastActive.push(...lastActive);
    for (let i = 0; i < live.length; i++) this.released.push(false);
    return live.map((_, i) => i);
  }

  observe(slot: number, ts: number, now: number): void {
    if (ts > this.maxTs[slot]!) this.maxTs[slot] = ts;
    this.lastActive[slot] = now;
  }

  /** What changed since the last call. */
  update(now: number): WatermarkUpdate {
    let min = Infinity;
    let active = 0;
    let live = 0;
    for (let s = 0; s < this.maxTs.length; s++) {
      if (this.released[s]) continue;
      live++;
      if (this.idleTimeoutMs !== undefined && now - this.lastActive[s]! >= this.idleTimeoutMs) continue;
      active++;
      const wm = this.maxTs[s]! - this.bound - 1;
      if (wm < min) min = wm;
    }
    const out: WatermarkUpdate = {};
    // Without live splits the reader is idle only once the idle timeout passed since it started.
    const idle = live === 0 ? this.idleTimeoutMs !== undefined && now - this.startedAt >= this.idleTimeoutMs : active === 0;
    if (idle !== this.idle) {
      this.idle = idle;
      out.idle = idle;
    }
    this.held = false;
    if (!idle && active > 0 && min > this.emitted) {
      if (now - this.emittedAt < this.intervalMs && min - this.emitted < this.intervalMs) this.held = true;
      else {
        this.emitted = min;
        this.emittedAt = now;
        out.watermark = min;
      }
    }
    return out;
  }
}

class DriverSplitOutput<T> implements SplitOutput<T> {
  constructor(
    private readonly driver: SourceDriver<T>,
    /** Its watermark slot; renumbered when finished splits' slots are dropped. */
    public slot: number,
  ) {}

  collect(value: T, timestamp?: number): void {
    this.driver.collect(value, timestamp, this.slot);
  }
}

export interface SourceDriverContext {
  subtaskIndex: number;
  parallelism: number;
  operatorState: OperatorStateStore;
  /** Sends an event to the source's enumerator on the job manager. */
  sendToEnumerator(event: EnumeratorEvent): void;
}

export class SourceDriver<T> implements ReaderOutput<T> {
  reader!: SourceReader<T, SourceSplit>;
  private watermarks: SplitWatermarks | undefined;
  private readonly outputs = new Map<string, DriverSplitOutput<T>>();
  private now = 0;
  private readonly timestampOf: ((value: T) => number) | undefined;
  private splitsState!: ReturnType<OperatorStateStore['getListState']>;
  private ctx!: SourceDriverContext;

  constructor(
    private readonly source: Source<T, SourceSplit, unknown>,
    private readonly strategy: WatermarkStrategy<T> | undefined,
    private readonly out: Output<T>,
    private readonly name: string,
    /** Shortest processing time between two watermarks (0: after every poll that moved it). */
    private readonly watermarkIntervalMs = 0,
  ) {
    this.timestampOf = strategy?.timestampOf;
  }

  /** Creates the reader and gives it its restored splits; `register` then announces it to the enumerator. */
  open(ctx: SourceDriverContext): void {
    this.ctx = ctx;
    if (this.strategy?.emitsWatermarks) this.watermarks = new SplitWatermarks(this.strategy.outOfOrdernessMs, this.strategy.idleTimeoutMs, this.watermarkIntervalMs, Date.now());
    this.reader = this.source.createReader({
      subtaskIndex: ctx.subtaskIndex,
      parallelism: ctx.parallelism,
      sendSplitRequest: () => ctx.sendToEnumerator({ type: 'split-request' }),
      sendSourceEvent: (event) => ctx.sendToEnumerator({ type: 'source-event', event }),
    });
    this.splitsState = ctx.operatorState.getListState<SourceSplit>(READER_SPLITS_STATE);
    const restored = this.splitsState.get() as SourceSplit[];
    if (restored.length > 0) this.addSplits(restored);
  }

  /**
   * Every split gets its watermark slot when it is assigned, not when it first emits: an assigned
   * split that has not emitted yet holds the watermark back (Flink's per-split watermark outputs),
   * until it emits, goes idle, or the reader releases it.
   */
  private addSplits(splits: readonly SourceSplit[]): void {
    this.now = Date.now();
    for (const s of splits) this.forSplit(s.id);
    this.reader.addSplits(splits);
  }

  register(): void {
    this.ctx.sendToEnumerator({ type: 'register' });
  }

  /** An event from the enumerator (a mail of the task). */
  handle(event: ReaderEvent): void {
    if (event.type === 'add-splits') this.addSplits(event.splits);
    else this.reader.notifyNoMoreSplits();
  }

  forSplit(splitId: string): SplitOutput<T> {
    let o = this.outputs.get(splitId);
    if (!o) {
      o = new DriverSplitOutput(this, this.watermarks ? this.watermarks.addSlot(this.now) : -1);
      this.outputs.set(splitId, o);
    }
    return o;
  }

  releaseSplit(splitId: string): void {
    const o = this.outputs.get(splitId);
    if (!o) return;
    this.outputs.delete(splitId);
    const wm = this.watermarks;
    if (!wm) return;
    wm.release(o.slot);
    // Sources with many short splits (CDC snapshot chunks) would otherwise scan ever more dead slots.
    const released = wm.releasedCount;
    if (released >= 64 && released > this.outputs.size) {
      const live = [...this.outputs.values()].sort((a, b) => a.slot - b.slot);
      const renumbered = wm.compact(live.map((x) => x.slot));
      live.forEach((x, i) => (x.slot = renumbered[i]!));
    }
  }

  collect(value: T, timestamp: number | undefined, slot: number): void {
    let ts: number;
    if (this.timestampOf) {
      try {
        ts = this.timestampOf(value);
      } catch (e) {
        throw userFunctionError(`${this.name} (timestamp assigner)`, value, e);
      }
    } else ts = timestamp ?? Number.NaN;
    this.out.emit(value, ts);
    if (this.watermarks && ts === ts) this.watermarks.observe(slot, ts, this.now);
  }

  poll(max: number): PollStatus {
    this.now = Date.now();
    return this.reader.poll(this, max);
  }

  /** At the barrier: the reader's splits with their positions go into the checkpoint, one element each. */
  snapshotState(checkpointId: number): void {
    this.splitsState.update(this.reader.snapshotState(checkpointId));
  }

  notifyCheckpointComplete(checkpointId: number): void | Promise<void> {
    return this.reader.notifyCheckpointComplete?.(checkpointId);
  }

  /** Watermark and idleness changes after a poll (or a timer, for idleness while nothing arrives). */
  watermarkUpdate(): WatermarkUpdate {
    return this.watermarks ? this.watermarks.update(Date.now()) : {};
  }

  /** With a watermark held back by the interval: ms until it may go out (the task sets a timer when it has nothing to poll). */
  watermarkDueInMs(): number | undefined {
    return this.watermarks?.dueInMs(Date.now());
  }

  get idleTimeoutMs(): number | undefined {
    return this.strategy?.idleTimeoutMs;
  }

  close(): void | Promise<void> {
    return this.reader?.close?.();
  }
}
