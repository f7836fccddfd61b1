/**
 * Window join (Flink's `JoinedStreams.window(...)`): records of both sides with the same key that
 * fall into the same event-time window (tumbling or sliding) are joined pairwise when the watermark
 * passes the window's end; the pairs are emitted at the window's last millisecond (end - 1).
 *
 * State is kept per (key, window), as Flink keeps it per key and window namespace: the backend's
 * current key is the tuple [...joinKey, windowStart] in the join key's key group, so it is
 * redistributed with the join key on rescale, and a window's two lists are read once and cleared
 * when it fires. A record all of whose windows have already fired is late.
 *
 * Timers: one per (window, key group), not per (key, window): every key's window ends at the same
 * time, and thousands of timers at one time are what timer indexes handle worst. Under the current
 * key [WINDOW_INDEX, keyGroup, windowStart] a map lists the join keys of that key group with records
 * in that window; the timer reads it, joins each key's lists and clears everything.
 */
import type { KeySelector } from '../functions.ts';
import { ConfigError, userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { Timer } from '../../state/timers.ts';
import { TimerDriver } from '../timer-driver.ts';
import { listState, mapState } from '../../state/descriptors.ts';
import type { ListState, MapState } from '../../state/handles.ts';
import type { StateKey } from '../../state/key-groups.ts';
import type { Operator, OperatorContext, Output, OutputTag } from '../operator.ts';
import { JoinKeys, LateRecords, requireKeyedState, requireTime, type LateRecord } from './join-keys.ts';

/** Event-time windows of `sizeMs`, starting every `slideMs` (= sizeMs for tumbling), shifted by `offsetMs`. */
export interface JoinWindows {
  sizeMs: number;
  slideMs: number;
  offsetMs: number;
}

export function tumblingWindows(sizeMs: number, offsetMs = 0): JoinWindows {
  return checkWindows({ sizeMs, slideMs: sizeMs, offsetMs });
}

export function slidingWindows(sizeMs: number, slideMs: number, offsetMs = 0): JoinWindows {
  return checkWindows({ sizeMs, slideMs, offsetMs });
}

function checkWindows(w: JoinWindows): JoinWindows {
  if (!(Number.isInteger(w.sizeMs) && w.sizeMs > 0)) throw new ConfigError('window.sizeMs', `must be a whole number of ms > 0, got ${w.sizeMs}`);
  if (!(Number.isInteger(w.slideMs) && w.slideMs > 0 && w.slideMs <= w.sizeMs)) {
    throw new ConfigError('window.slideMs', `must be a whole number of ms in (0, size ${w.sizeMs}], got ${w.slideMs}`);
  }
  if (!Number.isInteger(w.offsetMs)) throw new ConfigError('window.offsetMs', `must be a whole number of ms, got ${w.offsetMs}`);
  return w;
}

/** Start of the last window that contains t (Flink's TimeWindow.getWindowStartWithOffset). */
export function lastWindowStart(t: number, w: JoinWindows): number {
  const r = (t - w.offsetMs) % w.slideMs;
  return t - (r < 0 ? r + w.slideMs : r);
}

export interface WindowInfo {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface WindowJoinSpec<L, R, O> {
  windows: JoinWindows;
  join(left: L, right: R, window: WindowInfo): O;
  lateOutput?: OutputTag<LateRecord<L, R>>;
}

export class WindowJoinOperator<L, R, O> implements Operator<L | R, O> {
  private backend!: KeyedStateBackend;
  private timers!: TimerDriver;
  private keys!: JoinKeys;
  private ctx!: OperatorContext<O>;
  private out!: Output<O>;
  private late!: LateRecords<L, R>;
  private lists!: [ListState<L>, ListState<R>];
  /** Under [WINDOW_INDEX, keyGroup, windowStart]: the join keys of the key group with records in the window. */
  private windowKeys!: MapState<StateKey, 1>;

  constructor(
    readonly name: string,
    private readonly spec: WindowJoinSpec<L, R, O>,
    private readonly keySelectors: readonly KeySelector<unknown>[],
  ) {
    checkWindows(spec.windows);
  }

  open(ctx: OperatorContext<O>): void {
    this.ctx = ctx;
    this.out = ctx.output;
    this.backend = requireKeyedState(this.name, ctx as OperatorContext<unknown>);
    this.timers = new TimerDriver(this.backend, ctx as OperatorContext<unknown>, (t) => this.onTimer(t));
    this.keys = new JoinKeys(this.name, this.backend, this.keySelectors);
    this.late = new LateRecords(ctx as OperatorContext<unknown>, this.spec.lateOutput);
    this.lists = [this.backend.getListState(listState<L>('window-join-left')), this.backend.getListState(listState<R>('window-join-right'))];
    this.windowKeys = this.backend.getMapState(mapState<StateKey, 1>('window-join-keys'));
  }

  processBatch(values: readonly (L | R)[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { backend } = this;
    const { sizeMs, slideMs } = this.spec.windows;
    const watermark = this.ctx.currentWatermark();
    const list = this.lists[input] as ListState<L | R>;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const t = requireTime(this.name, times[i]!, v, input);
      const key = this.keys.set(v, input, keyGroups?.[i], keyHashes?.[i]);
      const keyGroup = backend.currentKeyGroup();
      let assigned = false;
      for (let start = lastWindowStart(t, this.spec.windows); start > t - sizeMs; start -= slideMs) {
        const last = start + sizeMs - 1;
        if (last <= watermark) continue;
        backend.setCurrentKey(withWindow(key, start), keyGroup);
        list.add(v);
        // The key group is part of the key: backends identify state by key alone.
        const index: StateKey = [WINDOW_INDEX, keyGroup, start];
        backend.setCurrentKey(index, keyGroup);
        if (!this.windowKeys.contains(key)) {
          this.windowKeys.put(key, 1);
          backend.timers.register('event', last, index, keyGroup);
        }
        assigned = true;
      }
      if (!assigned) this.late.add(v, t, input);
    }
  }

  processWatermark(watermark: number): void {
    this.timers.fire('event', watermark);
  }

  /** A window's end timer: join and drop its records (the driver has set the current key to the window's index key). */
  private onTimer(timer: Timer): void {
    const { backend } = this;
    const [lefts, rights] = this.lists;
    const start = timer.time + 1 - this.spec.windows.sizeMs;
    const keys = [...this.windowKeys.keys()];
    this.windowKeys.clear();
    const window: WindowInfo = { start, end: timer.time + 1 };
    for (const key of keys) {
      backend.setCurrentKey(withWindow(key, start), timer.keyGroup);
      const ls = lefts.get();
      const rs = rights.get();
      for (let a = 0; a < ls.length; a++) {
        for (let b = 0; b < rs.length; b++) {
          let o: O;
          try {
            o = this.spec.join(ls[a]!, rs[b]!, window);
          } catch (e) {
            throw userFunctionError(this.name, { left: ls[a], right: rs[b], window }, e);
          }
          this.out.emit(o, timer.time);
        }
      }
      if (ls.length > 0) lefts.clear();
      if (rs.length > 0) rights.clear();
    }
  }
}

/** First part of the current key under which a window's key list lives (no join key starts with it). */
const WINDOW_INDEX = '\u0000window-keys';

/** The state key of a join key's window: the key's parts followed by the window start. */
function withWindow(key: StateKey, start: number): StateKey {
  return typeof key === 'object' ? [...key, start] : [key, start];
}
