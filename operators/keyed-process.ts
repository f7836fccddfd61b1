/**
 * Keyed process functions (one or two inputs): the backend's current key is set to each record's
 * key before user code runs, so state handles and timers act on that key. Timers fire through the
 * shared timer loop (timer-driver.ts): one at a time, so a handler's registrations and deletions count.
 */
import type {
  Collector,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeyedRuntimeContext,
  OnTimerContext,
  TimerService,
} from './functions.ts';
import type { KeySelector } from './functions.ts';
import { BadRecordError, describeRecord, userFunctionError } from '../runtime/errors.ts';
import type { KeyedStateBackend } from '../state/backend.ts';
import { isStateKey, keyGroupOf, type StateKey } from '../state/key-groups.ts';
import type { TimeDomain, Timer } from '../state/timers.ts';
import type { Operator, OperatorContext } from './operator.ts';
import { TimerDriver } from './timer-driver.ts';
import { RecordContext } from './process.ts';

type AnyKeyedFunction<K, OUT> = KeyedProcessFunction<K, unknown, OUT> | KeyedCoProcessFunction<K, unknown, unknown, OUT>;

class KeyedRecordContext<K, OUT> extends RecordContext<OUT> implements OnTimerContext<K>, TimerService {
  key!: K;
  timeDomain: 'event' | 'processing' = 'event';
  readonly timerService: TimerService = this;

  constructor(
    private readonly backend: () => KeyedStateBackend,
    private readonly timers: () => TimerDriver,
  ) {
    super();
  }

  registerEventTimeTimer(time: number): void {
    const b = this.backend();
    this.timers().register('event', time, b.currentKey(), b.currentKeyGroup());
  }

  deleteEventTimeTimer(time: number): void {
    const b = this.backend();
    this.timers().delete('event', time, b.currentKey(), b.currentKeyGroup());
  }

  registerProcessingTimeTimer(time: number): void {
    const b = this.backend();
    this.timers().register('processing', time, b.currentKey(), b.currentKeyGroup());
  }

  deleteProcessingTimeTimer(time: number): void {
    const b = this.backend();
    this.timers().delete('processing', time, b.currentKey(), b.currentKeyGroup());
  }
}

export class KeyedProcessOperator<K extends StateKey, OUT> implements Operator<unknown, OUT> {
  private backend!: KeyedStateBackend;
  private timers!: TimerDriver;
  private readonly ctx: KeyedRecordContext<K, OUT>;

  constructor(
    readonly name: string,
    private readonly fn: AnyKeyedFunction<K, OUT>,
    /** One key selector per input. */
    private readonly keySelectors: readonly KeySelector<unknown>[],
  ) {
    this.ctx = new KeyedRecordContext<K, OUT>(() => this.backend, () => this.timers);
  }

  open(op: OperatorContext<OUT>): void | Promise<void> {
    if (!op.keyedState) throw new Error(`operator '${this.name}' is keyed but has no keyed state backend`);
    this.backend = op.keyedState;
    this.timers = new TimerDriver(this.backend, op as OperatorContext<unknown>, (t, domain) => this.onTimer(t, domain));
    this.ctx.bind(op);
    const b = this.backend;
    const runtime: KeyedRuntimeContext = {
      operatorName: op.operatorName,
      subtaskIndex: op.subtaskIndex,
      parallelism: op.parallelism,
      getState: (d) => b.getValueState(d),
      getListState: (d) => b.getListState(d),
      getMapState: (d) => b.getMapState(d),
      getReducingState: (d) => b.getReducingState(d),
      getAggregatingState: (d) => b.getAggregatingState(d),
    };
    this.timers.open();
    return this.fn.open?.(runtime);
  }

  processBatch(values: readonly unknown[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { ctx, backend } = this;
    const select = this.keySelectors[input]!;
    const maxParallelism = backend.maxParallelism;
    const fn = this.fn as Partial<KeyedProcessFunction<K, unknown, OUT> & KeyedCoProcessFunction<K, unknown, unknown, OUT>>;
    const process = input === 0 ? (fn.processElement ?? fn.processElement1)! : fn.processElement2!;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const v = values[i];
        const key = select(v);
        if (typeof key !== 'string' && typeof key !== 'number' && !isStateKey(key)) {
          throw new BadRecordError(`key selector returned ${describeRecord(key)}, not a string, number, boolean, bigint or tuple of them`, describeRecord(v));
        }
        if (keyGroups !== undefined) backend.setCurrentKey(key, keyGroups[i]!, keyHashes?.[i]);
        else backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        ctx.key = key as K;
        ctx.timestamp = times[i]!;
        process.call(fn, v, ctx, ctx);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }

  processWatermark(watermark: number): void {
    this.timers.fire('event', watermark);
  }

  /** One due timer; the driver has set the backend's current key to the timer's. */
  private onTimer(t: Timer, domain: TimeDomain): void {
    const { ctx, fn } = this;
    const onTimer = fn.onTimer;
    if (!onTimer) return;
    ctx.key = t.key as K;
    ctx.timeDomain = domain;
    ctx.timestamp = domain === 'event' ? t.time : Number.NaN;
    try {
      onTimer.call(fn, t.time, ctx, ctx as Collector<OUT>);
    } catch (e) {
      throw userFunctionError(this.name, { timer: t.time, domain, key: t.key }, e);
    }
  }

  close(): void | Promise<void> {
    return this.fn.close?.();
  }
}
