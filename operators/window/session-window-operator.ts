/**
 * Session windows (event or processing time). Per key, `sessions` (ValueState) holds the open
 * sessions as [start, end, accumulator] (no accumulator for process, whose records are in
 * `elements`, a ListState of [timestamp, record]: a record belongs to the session whose interval
 * holds its timestamp, so merging sessions never moves records).
 *
 * A record at t makes [t, t + gap) and merges with every session it touches, accumulators combined
 * with the function's merge. As in Flink, lateness is judged after merging: the record is late
 * only if the merged session ended more than `allowedLatenessMs` before the watermark. A merged
 * session that already fired fires again at once ('late'). Timers (namespaces): 'f' at end - 1,
 * 'c' at end - 1 + allowed lateness (drop the session), 'e' early firings.
 */
import type { StateSerializer } from '../../state/value-serializer.ts';
import { BadRecordError, ConfigError, describeRecord, userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { ListState, ValueState } from '../../state/handles.ts';
import { keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import type { TimeDomain, Timer } from '../../state/timers.ts';
import type { Operator, OperatorContext } from '../operator.ts';
import type { WindowOperatorOptions } from './aligned-window-operator.ts';
import type { SessionWindowAssigner } from './assigner.ts';
import { TimerDriver } from '../timer-driver.ts';
import { WindowCollector, type FiringKind, type ProcessWindowFunction, type WindowResultFunction } from './time-window.ts';
import type { IncrementalContents, WindowContents } from './window-contents.ts';

/** [start, end, accumulator]: a tuple so state stays compact in msgpack. */
type Session<ACC> = [number, number, ACC | null];

/** The sessions' tuples with the aggregate's own accumulator serializer (default state serializer otherwise). */
function sessionsSerializer<ACC>(acc: StateSerializer<ACC>): StateSerializer<Session<ACC>[]> {
  return {
    copy: (sessions) => sessions.map(([start, end, a]): Session<ACC> => [start, end, a === null ? null : acc.copy(a)]),
    check: (sessions) => {
      for (const [, , a] of sessions) if (a !== null) acc.check(a);
    },
  };
}


export class SessionWindowOperator<K extends StateKey, T, ACC, OUT, R> implements Operator<T, R> {
  private backend!: KeyedStateBackend;
  private ctx!: OperatorContext<R>;
  private timers!: TimerDriver;
  private out!: WindowCollector<K, R>;
  private sessions!: ValueState<Session<ACC>[]>;
  private elements: ListState<[number, T]> | undefined;
  private readonly gap: number;
  private readonly lateness: number;
  private readonly domain: TimeDomain;
  private readonly incremental: IncrementalContents<T, ACC, OUT> | undefined;

  constructor(
    readonly name: string,
    private readonly keyOf: (value: T) => K,
    assigner: SessionWindowAssigner,
    contents: WindowContents<T, ACC, OUT>,
    private readonly fn: WindowResultFunction<K, OUT, R> | ProcessWindowFunction<K, T, R>,
    private readonly options: WindowOperatorOptions<T> = {},
  ) {
    this.gap = assigner.gapMs;
    this.domain = assigner.time;
    this.lateness = assigner.time === 'event' ? (options.allowedLatenessMs ?? 0) : 0;
    this.incremental = contents.kind === 'incremental' ? contents : undefined;
    if (this.incremental && !this.incremental.merge) {
      throw new ConfigError(`session window aggregate of '${name}'`, 'has no merge(a, b), which session windows need when sessions merge: add merge to the AggregateFunction');
    }
  }

  open(ctx: OperatorContext<R>): void {
    if (!ctx.keyedState) throw new Error(`window operator '${this.name}' must follow keyBy`);
    this.ctx = ctx;
    this.backend = ctx.keyedState;
    const acc = this.incremental?.serializer;
    this.sessions = this.backend.getValueState<Session<ACC>[]>({ kind: 'value', name: 'sessions', ...(acc ? { serializer: sessionsSerializer(acc) } : {}) });
    if (!this.incremental) this.elements = this.backend.getListState<[number, T]>({ kind: 'list', name: 'elements' });
    const output = ctx.output;
    this.out = new WindowCollector<K, R>((v, t) => output.emit(v, t), () => ctx.currentWatermark(), () => ctx.processingTime.now());
    this.timers = new TimerDriver(this.backend, ctx as OperatorContext<unknown>, (t, d) => this.onTimer(t, d));
    this.timers.open();
  }

  private now(): number {
    return this.domain === 'event' ? this.ctx.currentWatermark() : this.ctx.processingTime.now();
  }

  processBatch(values: readonly T[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>): void {
    const { backend, keyOf } = this;
    const maxParallelism = backend.maxParallelism;
    const eventTime = this.domain === 'event';
    const now = this.now();
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const v = values[i]!;
        const ts = eventTime ? times[i]! : now;
        if (ts !== ts) throw new BadRecordError('record has no event time; give the source a WatermarkStrategy with a timestamp assigner, or use processing-time windows', describeRecord(v));
        const key = keyOf(v);
        // The keyBy exchange computed the key group already (operator.ts); hash only without it.
        const kg = keyGroups !== undefined ? keyGroups[i]! : keyGroupOf(key, maxParallelism);
        backend.setCurrentKey(key, kg);
        this.add(key, kg, v, ts, now);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }

  private add(key: K, kg: number, v: T, ts: number, now: number): void {
    const sessions = this.sessions.value() ?? [];
    let start = ts;
    let end = ts + this.gap;
    const kept: Session<ACC>[] = [];
    const merged: Session<ACC>[] = [];
    for (const s of sessions) {
      if (s[0] <= end && s[1] >= start) {
        merged.push(s);
        if (s[0] < start) start = s[0];
        if (s[1] > end) end = s[1];
      } else kept.push(s);
    }
    if (this.domain === 'event' && end - 1 + this.lateness <= now) {
      this.ctx.metrics.count('numLateRecordsDropped');
      if (this.options.lateTag) this.ctx.sideOutput(this.options.lateTag).emit(v, ts);
      return;
    }
    let acc: ACC | null = null;
    if (this.incremental) {
      const { merge } = this.incremental;
      let a: ACC | undefined;
      for (const s of merged) a = a === undefined ? (s[2] as ACC) : merge!(a, s[2] as ACC);
      acc = this.incremental.add(a, v);
    } else {
      this.elements!.add([ts, v]);
    }
    kept.push([start, end, acc]);
    kept.sort((a, b) => a[0] - b[0]);
    this.sessions.update(kept);

    const { timers, domain } = this;
    let sameEnd = false;
    for (const s of merged) {
      if (s[1] === end) {
        sameEnd = true;
        continue;
      }
      timers.delete(domain, s[1] - 1, key, kg, 'f');
      if (this.lateness > 0) timers.delete('event', s[1] - 1 + this.lateness, key, kg, 'c');
    }
    if (!sameEnd) {
      if (end - 1 > now || domain === 'processing') timers.register(domain, end - 1, key, kg, 'f');
      if (this.lateness > 0) timers.register('event', end - 1 + this.lateness, key, kg, 'c');
      const early = this.options.earlyFiring;
      if (early && end - 1 > now) {
        const t = early.time === 'event' ? Math.max(ts, this.ctx.currentWatermark()) : this.ctx.processingTime.now();
        timers.register(early.time, Math.floor(t / early.everyMs) * early.everyMs + early.everyMs, key, kg, 'e');
      }
    }
    if (domain === 'event' && end - 1 <= now) this.emit(key, [[start, end, acc]], 'late');
  }

  private onTimer(t: Timer, _domain: TimeDomain): void {
    const key = t.key as K;
    try {
      const sessions = this.sessions.value() ?? [];
      if (t.namespace === 'f') {
        const due = sessions.filter((s) => s[1] - 1 === t.time);
        this.emit(key, due, 'on-time');
        if (this.lateness === 0) this.drop(sessions, (s) => s[1] - 1 <= t.time);
      } else if (t.namespace === 'c') {
        this.drop(sessions, (s) => s[1] - 1 + this.lateness <= t.time);
      } else if (t.namespace === 'e') {
        const early = this.options.earlyFiring!;
        const asOf = early.time === this.domain ? t.time : this.now();
        const open = sessions.filter((s) => s[1] - 1 > asOf);
        if (open.length === 0) return;
        this.emit(key, open, 'early');
        this.timers.register(early.time, t.time + early.everyMs, t.key, t.keyGroup, 'e');
      }
    } catch (e) {
      throw userFunctionError(this.name, { timer: t.time, namespace: t.namespace, key: t.key }, e);
    }
  }

  private emit(key: K, sessions: readonly Session<ACC>[], firing: FiringKind): void {
    if (sessions.length === 0) return;
    const out = this.out;
    if (this.incremental) {
      for (const [start, end, acc] of sessions) {
        (this.fn as WindowResultFunction<K, OUT, R>)(this.incremental.result(acc as ACC), out.set(key, start, end, firing), out);
      }
      return;
    }
    const all = this.elements!.get();
    for (const [start, end] of sessions) {
      const inSession: T[] = [];
      for (const [ts, v] of all) if (ts >= start && ts < end) inSession.push(v);
      if (inSession.length > 0) (this.fn as ProcessWindowFunction<K, T, R>)(inSession, out.set(key, start, end, firing), out);
    }
  }

  private drop(sessions: Session<ACC>[], expired: (s: Session<ACC>) => boolean): void {
    const gone = sessions.filter(expired);
    if (gone.length === 0) return;
    const kept = sessions.filter((s) => !expired(s));
    if (kept.length === 0) this.sessions.clear();
    else this.sessions.update(kept);
    if (this.elements) {
      const inGone = (ts: number): boolean => gone.some((s) => ts >= s[0] && ts < s[1]);
      this.elements.update(this.elements.get().filter(([ts]) => !inGone(ts)));
    }
  }

  processWatermark(watermark: number): void {
    this.timers.fire('event', watermark);
  }

  endInput(): void {
    this.timers.fire('processing', Infinity);
  }
}
