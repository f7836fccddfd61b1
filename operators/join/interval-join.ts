/**
 * Interval join (Flink's `IntervalJoinOperator`): a left record at time t joins every right record
 * of the same key whose time lies in [t + lowerMs, t + upperMs]. Both sides are buffered in keyed
 * state, by time; each record is matched against the other side's buffer when it arrives, so each
 * pair is emitted exactly once, by whichever of the two arrives second, at max(left time, right time).
 *
 * Probe: each side's buffer is a map state per join key whose user keys are the records' times, in
 * order; a probe walks the other side's times (numbers, no values read) and reads only the buckets
 * inside its interval, so buffered records it does not join with are never read or copied (Flink's
 * operator iterates and deserializes every bucket of the key).
 *
 * Cleanup: a left record at t can only meet right records up to t + upperMs, so once the watermark
 * passes t + upperMs its bucket goes (a right record at t: once it passes t - lowerMs). Cleanups
 * wait in an in-memory queue ordered by time, drained when the watermark passes them, instead of
 * one event-time timer per bucket (Flink's operator registers a timer per record): a timer costs
 * an id string, an index entry and, on LMDB past the timer index, an LMDB write, a read and a
 * delete. The queue is not state: at each checkpoint barrier (`snapshotState`) the cleanups still
 * queued become timers, so a snapshot holds exactly what a timer per bucket would have held, and
 * a restore (at any parallelism, into either backend) fires them as timers. Past
 * MAX_QUEUED_CLEANUPS (a stalled watermark) new cleanups go to the timer service directly, which
 * bounds memory (LMDB timers spill to disk).
 * Records behind the watermark on arrival are late: counted and sent to the late side output.
 */
import type { KeySelector } from '../functions.ts';
import { ConfigError, userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { Timer } from '../../state/timers.ts';
import { TimerDriver } from '../timer-driver.ts';
import { TimerMinHeap } from '../../state/timer-heap.ts';
import { mapState } from '../../state/descriptors.ts';
import type { MapState } from '../../state/handles.ts';
import type { Operator, OperatorContext, Output, OutputTag } from '../operator.ts';
import { JoinKeys, LateRecords, requireKeyedState, requireTime, type LateRecord } from './join-keys.ts';

export interface IntervalJoinSpec<L, R, O> {
  /** Right time - left time must be >= lowerMs ... */
  lowerMs: number;
  /** ... and <= upperMs. */
  upperMs: number;
  join(left: L, right: R): O;
  lateOutput?: OutputTag<LateRecord<L, R>>;
}

const LEFT = 'L';
const RIGHT = 'R';

/** Cleanups queued in memory at most; beyond, they are registered as timers. */
export const MAX_QUEUED_CLEANUPS = 1 << 17;

export function validateInterval(lowerMs: number, upperMs: number): void {
  if (!Number.isFinite(lowerMs) || !Number.isFinite(upperMs)) {
    throw new ConfigError('intervalJoin.between', `bounds must be finite numbers of ms, got [${lowerMs}, ${upperMs}]`);
  }
  if (lowerMs > upperMs) {
    throw new ConfigError('intervalJoin.between', `lower bound ${lowerMs} ms is above upper bound ${upperMs} ms: swap them`);
  }
}

export class IntervalJoinOperator<L, R, O> implements Operator<L | R, O> {
  private backend!: KeyedStateBackend;
  private timers!: TimerDriver;
  private keys!: JoinKeys;
  private ctx!: OperatorContext<O>;
  private out!: Output<O>;
  private late!: LateRecords<L, R>;
  private left!: MapState<number, L[]>;
  private right!: MapState<number, R[]>;
  /** Cleanups not yet due, by time (namespace LEFT or RIGHT); memory only, see snapshotState. */
  private cleanups = new TimerMinHeap();

  constructor(
    readonly name: string,
    private readonly spec: IntervalJoinSpec<L, R, O>,
    private readonly keySelectors: readonly KeySelector<unknown>[],
  ) {
    validateInterval(spec.lowerMs, spec.upperMs);
  }

  open(ctx: OperatorContext<O>): void {
    this.ctx = ctx;
    this.out = ctx.output;
    this.backend = requireKeyedState(this.name, ctx as OperatorContext<unknown>);
    this.timers = new TimerDriver(this.backend, ctx as OperatorContext<unknown>, (t) => this.onTimer(t));
    this.keys = new JoinKeys(this.name, this.backend, this.keySelectors);
    this.late = new LateRecords(ctx as OperatorContext<unknown>, this.spec.lateOutput);
    this.left = this.backend.getMapState(mapState<number, L[]>('interval-join-left'));
    this.right = this.backend.getMapState(mapState<number, R[]>('interval-join-right'));
  }

  processBatch(values: readonly (L | R)[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>): void {
    const watermark = this.ctx.currentWatermark();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const t = requireTime(this.name, times[i]!, v, input);
      if (t <= watermark) {
        this.late.add(v, t, input);
        continue;
      }
      this.keys.set(v, input, keyGroups?.[i]);
      if (input === 0) this.onLeft(v as L, t, watermark);
      else this.onRight(v as R, t, watermark);
    }
  }

  private onLeft(l: L, t: number, watermark: number): void {
    const { lowerMs, upperMs } = this.spec;
    const from = t + lowerMs;
    const to = t + upperMs;
    for (const rt of this.right.keys()) {
      if (rt < from) continue;
      if (rt > to) break;
      const rs = this.right.get(rt)!;
      const time = rt > t ? rt : t;
      for (let j = 0; j < rs.length; j++) this.emit(l, rs[j]!, time);
    }
    const cleanupAt = t + upperMs;
    if (cleanupAt > watermark && add(this.left, t, l)) this.scheduleCleanup(cleanupAt, LEFT);
  }

  private onRight(r: R, t: number, watermark: number): void {
    const { lowerMs, upperMs } = this.spec;
    const from = t - upperMs;
    const to = t - lowerMs;
    for (const lt of this.left.keys()) {
      if (lt < from) continue;
      if (lt > to) break;
      const ls = this.left.get(lt)!;
      const time = lt > t ? lt : t;
      for (let j = 0; j < ls.length; j++) this.emit(ls[j]!, r, time);
    }
    const cleanupAt = t - lowerMs;
    if (cleanupAt > watermark && add(this.right, t, r)) this.scheduleCleanup(cleanupAt, RIGHT);
  }

  /** The current key's new bucket on `side` goes once the watermark passes `at`. */
  private scheduleCleanup(at: number, side: string): void {
    const b = this.backend;
    if (this.cleanups.items.length < MAX_QUEUED_CLEANUPS) this.cleanups.push({ time: at, key: b.currentKey(), keyGroup: b.currentKeyGroup(), namespace: side });
    else b.timers.register('event', at, b.currentKey(), b.currentKeyGroup(), side);
  }

  private emit(l: L, r: R, time: number): void {
    let o: O;
    try {
      o = this.spec.join(l, r);
    } catch (e) {
      throw userFunctionError(this.name, { left: l, right: r }, e);
    }
    this.out.emit(o, time);
  }

  processWatermark(watermark: number): void {
    // Restored and overflowing cleanups are timers; the rest wait in the queue.
    this.timers.fire('event', watermark);
    const q = this.cleanups;
    const { backend } = this;
    while (q.items.length > 0 && q.items[0]!.time <= watermark) {
      const c = q.pop()!;
      backend.setCurrentKey(c.key, c.keyGroup);
      this.onTimer(c);
    }
  }

  /**
   * The barrier: the queued cleanups become timers, so the snapshot about to be taken holds them
   * (the queue itself is not state). After that they are timers like restored ones.
   */
  snapshotState(): void {
    const q = this.cleanups.items;
    if (q.length === 0) return;
    const timers = this.backend.timers;
    for (let i = 0; i < q.length; i++) {
      const c = q[i]!;
      timers.register('event', c.time, c.key, c.keyGroup, c.namespace);
    }
    this.cleanups = new TimerMinHeap();
  }

  /** A due cleanup (timer or queued); the backend's current key is the cleanup's. */
  private onTimer(timer: Timer): void {
    if (timer.namespace === LEFT) this.left.remove(timer.time - this.spec.upperMs);
    else if (timer.namespace === RIGHT) this.right.remove(timer.time + this.spec.lowerMs);
  }
}

/**
 * Appends to the bucket of time `t`; true if the bucket is new (and so needs its cleanup timer).
 * State hands out copies (state/value-serializer.ts), so the bucket read can be changed and put back.
 */
function add<T>(buffer: MapState<number, T[]>, t: number, value: T): boolean {
  const bucket = buffer.get(t);
  if (bucket === undefined) {
    buffer.put(t, [value]);
    return true;
  }
  bucket.push(value);
  buffer.put(t, bucket);
  return false;
}
