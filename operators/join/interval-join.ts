/**
 * Interval join (Flink's `IntervalJoinOperator`): a left record at time t joins every right record
 * of the same key whose time lies in [t + lowerMs, t + upperMs]. Both sides are buffered by key and
 * time; each record is matched against the other side's buffer when it arrives, so each
 * pair is emitted exactly once, by whichever of the two arrives second, at max(left time, right time).
 *
 * Buffers: between checkpoint barriers each side's records wait in memory (interval-buffer.ts),
 * per join key and time, times ascending: a probe finds its interval by binary search and reads
 * only the buckets inside it. Cleanups wait in an in-memory queue ordered by time, drained when the
 * watermark passes them (a left record at t can only meet right records up to t + upperMs, so its
 * bucket goes once the watermark passes t + upperMs; a right record's at t - lowerMs), instead of
 * a keyed-state bucket and an event-time timer per bucket (Flink's operator registers a timer per
 * record and reads every bucket of the key). With a watermark close behind the records, most
 * records are joined and dropped without touching keyed state at all.
 *
 * Neither the buffers nor the queue are state: at each checkpoint barrier (`snapshotState`) the
 * buckets in memory move to keyed state, a map state per join key whose user keys are the times
 * (appended to a bucket of the same time already there), each with its cleanup timer, so a
 * snapshot holds exactly what it held when every record went to state on arrival, and a restore
 * (at any parallelism, into either backend) probes and cleans them as state. Every bucket in state
 * has its timer, so while the timer service is empty a probe reads no state. Past
 * MAX_BUFFERED_RECORDS in memory (a stalled watermark) new records go to state with their timer
 * on arrival, which bounds memory (LMDB state spills to disk).
 *
 * The join function gets copies of buffered records (as state hands out), so a function that
 * changes its argument does not change what later pairs see.
 *
 * Records behind the watermark on arrival are late: counted and sent to the late side output.
 */
import type { KeySelector } from '../functions.ts';
import { ConfigError, userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { Timer } from '../../state/timers.ts';
import { TimerDriver } from '../timer-driver.ts';
import { mapState } from '../../state/descriptors.ts';
import { keyId, type KeyId } from '../../state/key-codec.ts';
import type { StateKey } from '../../state/key-groups.ts';
import { copyPlainData } from '../../runtime/plain-data.ts';
import { SideBuffer, type TimeBuckets } from './interval-buffer.ts';
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

/** Records buffered in memory at most (both sides); beyond, they go to keyed state on arrival. */
export const MAX_BUFFERED_RECORDS = 1 << 17;

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
  /** Buckets in keyed state: restored, moved there at a barrier, or past MAX_BUFFERED_RECORDS. */
  private left!: MapState<number, L[]>;
  private right!: MapState<number, R[]>;
  /** Buckets in memory since the last barrier (see snapshotState), with their cleanups. */
  private readonly leftBuffer: SideBuffer<L>;
  private readonly rightBuffer: SideBuffer<R>;

  constructor(
    readonly name: string,
    private readonly spec: IntervalJoinSpec<L, R, O>,
    private readonly keySelectors: readonly KeySelector<unknown>[],
    /** Records buffered in memory at most (tests lower it). */
    private readonly maxBuffered = MAX_BUFFERED_RECORDS,
  ) {
    validateInterval(spec.lowerMs, spec.upperMs);
    this.leftBuffer = new SideBuffer<L>(spec.upperMs);
    this.rightBuffer = new SideBuffer<R>(-spec.lowerMs);
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

  processBatch(values: readonly (L | R)[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const watermark = this.ctx.currentWatermark();
    const { lowerMs, upperMs } = this.spec;
    const b = this.backend;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const t = requireTime(this.name, times[i]!, v, input);
      if (t <= watermark) {
        this.late.add(v, t, input);
        continue;
      }
      const key = this.keys.set(v, input, keyGroups?.[i], keyHashes?.[i]);
      const id = keyId(key);
      // Every bucket in state has its cleanup timer: none, nothing in state to probe.
      const inState = b.timers.size('event') > 0;
      if (input === 0) {
        const from = t + lowerMs;
        const to = t + upperMs;
        this.probe(this.rightBuffer.of(id), inState ? this.right : undefined, from, to, v, t, true);
        const cleanupAt = t + upperMs;
        if (cleanupAt > watermark) this.buffer(this.leftBuffer, this.left, id, key, t, v as L, cleanupAt, LEFT);
      } else {
        const from = t - upperMs;
        const to = t - lowerMs;
        this.probe(this.leftBuffer.of(id), inState ? this.left : undefined, from, to, v, t, false);
        const cleanupAt = t - lowerMs;
        if (cleanupAt > watermark) this.buffer(this.rightBuffer, this.right, id, key, t, v as R, cleanupAt, RIGHT);
      }
    }
  }

  /**
   * Meets `arriving` (at `t`; a left record if `arrivingIsLeft`) with the other side's buffered
   * records of its key with times in [from, to], in memory (`mem`) and in `state` (if it may hold
   * any); a pair's time is the later of the two. Buffered records from memory are copied for the
   * join function (state hands out copies itself).
   */
  private probe(mem: TimeBuckets<unknown> | undefined, state: MapState<number, unknown[]> | undefined, from: number, to: number, arriving: L | R, t: number, arrivingIsLeft: boolean): void {
    if (mem !== undefined) {
      for (let k = mem.firstAtOrAfter(from); k < mem.times.length; k++) {
        const ot = mem.times[k]!;
        if (ot > to) break;
        const os = mem.buckets[k]!;
        const time = ot > t ? ot : t;
        for (let j = 0; j < os.length; j++) this.meet(arriving, copyPlainData(os[j]), time, arrivingIsLeft);
      }
    }
    if (state === undefined) return;
    for (const ot of state.keys()) {
      if (ot < from) continue;
      if (ot > to) break;
      const os = state.get(ot)!;
      const time = ot > t ? ot : t;
      for (let j = 0; j < os.length; j++) this.meet(arriving, os[j], time, arrivingIsLeft);
    }
  }

  private meet(arriving: unknown, other: unknown, time: number, arrivingIsLeft: boolean): void {
    if (arrivingIsLeft) this.emit(arriving as L, other as R, time);
    else this.emit(other as L, arriving as R, time);
  }

  /**
   * Buffers the current key's record at `t` until the watermark passes `cleanupAt`: in memory,
   * or past the bound in keyed state with a timer (so every bucket in state has its timer).
   */
  private buffer<T>(mem: SideBuffer<T>, state: MapState<number, T[]>, id: KeyId, key: StateKey, t: number, value: T, cleanupAt: number, side: string): void {
    const b = this.backend;
    if (this.leftBuffer.records + this.rightBuffer.records < this.maxBuffered) {
      mem.add(id, key, b.currentKeyGroup(), t, value);
      return;
    }
    if (add(state, t, value)) b.timers.register('event', cleanupAt, key, b.currentKeyGroup(), side);
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
    // Buckets in state go by their timers; those in memory by the queue.
    this.timers.fire('event', watermark);
    this.leftBuffer.cleanUpTo(watermark);
    this.rightBuffer.cleanUpTo(watermark);
  }

  /**
   * The barrier: the buckets in memory move to keyed state, each with its cleanup timer, so the
   * snapshot about to be taken holds exactly what it held when every record went to state on
   * arrival (a bucket of the same key and time already in state gets the records appended), and
   * a restore (at any parallelism, into either backend) probes and cleans them as state.
   */
  snapshotState(): void {
    this.moveToState(this.leftBuffer, this.left, LEFT, this.spec.upperMs);
    this.moveToState(this.rightBuffer, this.right, RIGHT, -this.spec.lowerMs);
  }

  private moveToState<T>(mem: SideBuffer<T>, state: MapState<number, T[]>, side: string, cleanupAfter: number): void {
    if (mem.records === 0) return;
    const b = this.backend;
    for (const kb of mem.drain()) {
      if (kb.isEmpty) continue;
      b.setCurrentKey(kb.key, kb.keyGroup);
      for (let i = kb.head; i < kb.times.length; i++) {
        const t = kb.times[i]!;
        const records = kb.buckets[i]!;
        const stored = state.get(t);
        state.put(t, stored === undefined ? records : stored.concat(records));
        b.timers.register('event', t + cleanupAfter, kb.key, kb.keyGroup, side);
      }
    }
  }

  /** A due cleanup timer of a bucket in state; the backend's current key is the timer's. */
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
