/**
 * Keyed process functions (one or two inputs): the backend's current key is set to each record's
 * key before user code runs, so state handles and timers act on that key. Event-time timers fire
 * when the watermark passes them; processing-time timers fire from the task's mailbox.
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
import type { Operator, OperatorContext } from './operator.ts';
import { RecordContext } from './process.ts';

type AnyKeyedFunction<K, OUT> = KeyedProcessFunction<K, unknown, OUT> | KeyedCoProcessFunction<K, unknown, unknown, OUT>;

class KeyedRecordContext<K, OUT> extends RecordContext<OUT> implements OnTimerContext<K>, TimerService {
  key!: K;
  timeDomain: 'event' | 'processing' = 'event';
  readonly timerService: TimerService = this;

  constructor(
    private readonly backend: () => KeyedStateBackend,
    private readonly onProcessingTimer: (time: number) => void,
  ) {
    super();
  }

  registerEventTimeTimer(time: number): void {
    const b = this.backend();
    b.timers.register('event', time, b.currentKey(), b.currentKeyGroup());
  }

  deleteEventTimeTimer(time: number): void {
    const b = this.backend();
    b.timers.delete('event', time, b.currentKey(), b.currentKeyGroup());
  }

  registerProcessingTimeTimer(time: number): void {
    const b = this.backend();
    b.timers.register('processing', time, b.currentKey(), b.currentKeyGroup());
    this.onProcessingTimer(time);
  }

  deleteProcessingTimeTimer(time: number): void {
    const b = this.backend();
    b.timers.delete('processing', time, b.currentKey(), b.currentKeyGroup());
  }
}

export class KeyedProcessOperator<K extends StateKey, OUT> implements Operator<unknown, OUT> {
  private backend!: KeyedStateBackend;
  private op!: OperatorContext<OUT>;
  private readonly ctx: KeyedRecordContext<K, OUT>;
  /** Earliest processing time a wake-up is scheduled for. */
  private wakeUpAt = Infinity;

  constructor(
    readonly name: string,
    private readonly fn: AnyKeyedFunction<K, OUT>,
    /** One key selector per input. */
    private readonly keySelectors: readonly KeySelector<unknown>[],
  ) {
    this.ctx = new KeyedRecordContext<K, OUT>(() => this.backend, (t) => this.scheduleWakeUp(t));
  }

  open(op: OperatorContext<OUT>): void | Promise<void> {
    if (!op.keyedState) throw new Error(`operator '${this.name}' is keyed but has no keyed state backend`);
    this.op = op;
    this.backend = op.keyedState;
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
    const next = b.timers.peekEarliest('processing');
    if (next !== undefined) this.scheduleWakeUp(next);
    return this.fn.open?.(runtime);
  }

  processBatch(values: readonly unknown[], times: ArrayLike<number>, input: number): void {
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
        backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        ctx.key = key as K;
        ctx.timestamp = times[i]!;
        process.call(fn, v, ctx, ctx);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }

  processWatermark(watermark: number): void {
    this.fireTimers('event', watermark);
  }

  private fireTimers(domain: 'event' | 'processing', upTo: number): void {
    const { ctx, backend, fn } = this;
    const onTimer = fn.onTimer;
    for (;;) {
      const due = backend.timers.pollDue(domain, upTo);
      if (due.length === 0) return;
      if (!onTimer) continue;
      for (const t of due) {
        backend.setCurrentKey(t.key, t.keyGroup);
        ctx.key = t.key as K;
        ctx.timeDomain = domain;
        ctx.timestamp = domain === 'event' ? t.time : Number.NaN;
        try {
          onTimer.call(fn, t.time, ctx, ctx as Collector<OUT>);
        } catch (e) {
          throw userFunctionError(this.name, { timer: t.time, domain, key: t.key }, e);
        }
      }
    }
  }

  private scheduleWakeUp(time: number): void {
    if (time >= this.wakeUpAt) return;
    this.wakeUpAt = time;
    this.op.processingTime.schedule(time, () => {
      this.wakeUpAt = Infinity;
      this.fireTimers('processing', Math.max(time, this.op.processingTime.now()));
      const next = this.backend.timers.peekEarliest('processing');
      if (next !== undefined) this.scheduleWakeUp(next);
    });
  }

  close(): void | Promise<void> {
    return this.fn.close?.();
  }
}
