/**
 * An operator test harness in Flink's verbs: drive one operator subtask by hand, with a real keyed
 * state backend (heap or LMDB), a manual processing-time clock, and captured output.
 *
 *     const h = new OperatorHarness(() => new MyWindowOperator(...), { backend: 'lmdb' });
 *     await h.open();
 *     await h.processElement({ user: 'a' }, 1_000);
 *     await h.processWatermark(5_000);          // event-time timers fire
 *     await h.setProcessingTime(60_000);        // processing-time callbacks (and TTL) move on
 *     h.values();                               // what the operator emitted
 *     const snap = await h.snapshot();          // keyed + operator state handles
 *     await h.close();
 *
 *     const restored = new OperatorHarness(() => new MyWindowOperator(...), { backend: 'heap' });
 *     await restored.initializeState(snap);     // before open, as in Flink
 *     await restored.open();
 *
 * Snapshots go to a local checkpoint storage in a temp directory that lives until the process exits,
 * so a snapshot restores after the harness that took it is closed, into either backend, and at
 * another key-group range (`keyGroupRange` option: simulate a rescale by restoring the same
 * snapshot into two harnesses with halves of the range).
 *
 * The processing-time clock drives both `ctx.processingTime` and the state backend's TTL clock.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Operator, OperatorContext, Output, OutputTag, ProcessingTimeService, SideWork } from 'weir';
import {
  createKeyedStateBackend,
  DEFAULT_MAX_PARALLELISM,
  keyGroupRangeFor,
  LocalCheckpointStorage,
  OperatorStateStore,
  type Clock,
  type KeyedStateBackend,
  type KeyedStateHandle,
  type KeyGroupRange,
  type OperatorStateHandle,
} from '../../state/index.ts';

export interface HarnessOptions {
  /** Keyed state backend; 'none' for operators that are not keyed. Default 'heap'. */
  backend?: 'heap' | 'lmdb' | 'none';
  maxParallelism?: number;
  subtaskIndex?: number;
  parallelism?: number;
  /** Default: the range of `subtaskIndex` of `parallelism`. */
  keyGroupRange?: KeyGroupRange;
  /** Operator uid (names the state files). Default 'op'. */
  uid?: string;
  /** Initial processing time (ms). Default 0. */
  processingTime?: number;
  /** `ctx.sideWork`. Default: runs the module on this thread (a unit-test stand-in for the task manager's pool). */
  sideWork?: SideWork;
  /** What the operator sees of the keyed state backend (e.g. a wrapper counting reads, test/harness/counting-state.ts). */
  wrapKeyedState?: (backend: KeyedStateBackend) => KeyedStateBackend;
}

/** Side work on the calling thread: same contract (module default export, plain data), no pool. */
export const inThreadSideWork: SideWork = {
  async run<I, O>(module: URL | string, input: I): Promise<O> {
    const mod = (await import(typeof module === 'string' ? module : module.href)) as { default?: (input: I) => O | Promise<O> };
    if (typeof mod.default !== 'function') throw new Error(`side-work module ${String(module)} must export a default function (input) => output`);
    return structuredClone(await mod.default(structuredClone(input)));
  },
};

export interface Emitted<T> {
  value: T;
  time: number;
}

/** What `snapshot()` returns; give it to a fresh harness's `initializeState`. */
export interface HarnessSnapshot {
  checkpointId: number;
  keyed: KeyedStateHandle[];
  operator: OperatorStateHandle;
  /** The storage the keyed state files live in. */
  storage: LocalCheckpointStorage;
  processingTime: number;
}

let root: string | undefined;
/** One temp directory per process for every harness's working files and checkpoints. */
function harnessRoot(): string {
  if (!root) {
    root = mkdtempSync(path.join(os.tmpdir(), 'weir-harness-'));
    const dir = root;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return root;
}

let harnessSeq = 0;
let checkpointSeq = 0;

class Recorder<T> implements Output<T> {
  readonly records: Emitted<T>[] = [];
  emit(value: T, time: number): void {
    this.records.push({ value, time });
  }
}

class ManualProcessingTime implements ProcessingTimeService, Clock {
  private readonly scheduled: { time: number; seq: number; callback: () => void | Promise<void> }[] = [];
  private seq = 0;
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  schedule(time: number, callback: () => void | Promise<void>): void {
    this.scheduled.push({ time, seq: this.seq++, callback });
  }
  /** Runs due callbacks in time order, including ones they schedule, until none is due. */
  async advanceTo(time: number): Promise<void> {
    if (time < this.time) throw new RangeError(`processing time cannot go back from ${this.time} to ${time}`);
    this.time = time;
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.scheduled.length; i++) {
        const s = this.scheduled[i]!;
        if (s.time > time) continue;
        const b = this.scheduled[best];
        if (best < 0 || s.time < b!.time || (s.time === b!.time && s.seq < b!.seq)) best = i;
      }
      if (best < 0) return;
      const [due] = this.scheduled.splice(best, 1);
      await due!.callback();
    }
  }
  get pending(): number {
    return this.scheduled.length;
  }
}

export class OperatorHarness<IN, OUT> {
  readonly operator: Operator<IN, OUT>;
  readonly maxParallelism: number;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly keyGroupRange: KeyGroupRange;
  readonly uid: string;
  private readonly backendKind: 'heap' | 'lmdb' | 'none';
  private readonly clock: ManualProcessingTime;
  private readonly sideWork: SideWork;
  private readonly wrapKeyedState: ((backend: KeyedStateBackend) => KeyedStateBackend) | undefined;
  private readonly main = new Recorder<OUT>();
  private readonly sides = new Map<string, Recorder<unknown>>();
  private readonly workDir: string;
  private storage: LocalCheckpointStorage;
  private restore: HarnessSnapshot | undefined;
  private backend: KeyedStateBackend | undefined;
  private operatorState: OperatorStateStore | undefined;
  private watermark = -Infinity;
  private opened = false;
  private closed = false;
  /** Watermarks the runtime would forward after each `processWatermark`. */
  readonly watermarks: number[] = [];

  constructor(createOperator: () => Operator<IN, OUT>, options: HarnessOptions = {}) {
    this.operator = createOperator();
    this.maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM;
    this.subtaskIndex = options.subtaskIndex ?? 0;
    this.parallelism = options.parallelism ?? 1;
    this.sideWork = options.sideWork ?? inThreadSideWork;
    this.wrapKeyedState = options.wrapKeyedState;
    this.keyGroupRange = options.keyGroupRange ?? keyGroupRangeFor(this.subtaskIndex, this.parallelism, this.maxParallelism);
    this.uid = options.uid ?? 'op';
    this.backendKind = options.backend ?? 'heap';
    this.clock = new ManualProcessingTime(options.processingTime ?? 0);
    this.workDir = path.join(harnessRoot(), `h${++harnessSeq}`);
    mkdirSync(this.workDir, { recursive: true });
    this.storage = new LocalCheckpointStorage({ root: path.join(this.workDir, 'checkpoints'), jobId: 'job', retainedCheckpoints: 1000 });
  }

  /** Restore keyed and operator state from a snapshot (of this or another harness). Call before `open`. */
  async initializeState(snapshot: HarnessSnapshot): Promise<void> {
    if (this.opened) throw new Error('initializeState must come before open (as in Flink)');
    this.restore = snapshot;
    this.storage = snapshot.storage;
    if (snapshot.processingTime > this.clock.time) this.clock.time = snapshot.processingTime;
  }

  /** Creates the state backend (restoring `initializeState`'s snapshot) and opens the operator. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    if (this.backendKind !== 'none') {
      this.backend = await createKeyedStateBackend({
        kind: this.backendKind,
        workDir: path.join(this.workDir, 'work'),
        operatorUid: this.uid,
        subtask: this.subtaskIndex,
        keyGroupRange: this.keyGroupRange,
        maxParallelism: this.maxParallelism,
        storage: this.storage,
        clock: this.clock,
        ...(this.restore ? { restore: this.restore.keyed } : {}),
      });
    }
    this.operatorState = new OperatorStateStore(this.uid, this.subtaskIndex, this.restore?.operator);
    const ctx: OperatorContext<OUT> = {
      operatorName: this.operator.name,
      uid: this.uid,
      subtaskIndex: this.subtaskIndex,
      parallelism: this.parallelism,
      maxParallelism: this.maxParallelism,
      output: this.main,
      sideOutput: <S>(tag: OutputTag<S>): Output<S> => this.sideRecorder(tag.id) as Recorder<S>,
      keyedState: this.backend && this.wrapKeyedState ? this.wrapKeyedState(this.backend) : this.backend,
      operatorState: this.operatorState,
      processingTime: this.clock,
      currentWatermark: () => this.watermark,
      metrics: { count: () => {} },
      client: { send: () => {} },
      sideWork: this.sideWork,
    };
    await this.operator.open?.(ctx);
  }

  private sideRecorder(id: string): Recorder<unknown> {
    let r = this.sides.get(id);
    if (!r) {
      r = new Recorder<unknown>();
      this.sides.set(id, r);
    }
    return r;
  }

  private async ensureOpen(): Promise<void> {
    if (this.closed) throw new Error('the harness is closed');
    if (!this.opened) await this.open();
  }

  async processElement(value: IN, time: number = Number.NaN): Promise<void> {
    await this.processBatch([value], [time]);
  }

  /** One batch, as the runtime would hand it over (the arrays are copied, so callers may reuse them). */
  async processBatch(values: readonly IN[], times: ArrayLike<number>, input = 0): Promise<void> {
    await this.ensureOpen();
    await this.operator.processBatch(values.slice(), Float64Array.from(times), input);
  }

  async processWatermark(watermark: number): Promise<void> {
    await this.ensureOpen();
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    await this.operator.processWatermark?.(watermark);
    this.watermarks.push(watermark);
  }

  /** Moves the processing-time clock and runs the callbacks that became due, in time order. */
  async setProcessingTime(time: number): Promise<void> {
    await this.ensureOpen();
    await this.clock.advanceTo(time);
  }

  processingTime(): number {
    return this.clock.time;
  }

  currentWatermark(): number {
    return this.watermark;
  }

  /** Final watermark then end of input, as the runtime does for a bounded input. */
  async endInput(): Promise<void> {
    await this.ensureOpen();
    await this.processWatermark(Number.POSITIVE_INFINITY);
    await this.operator.endInput?.();
  }

  /** Calls the operator's barrier hook, then snapshots keyed state (files in a temp storage) and operator state. */
  async snapshot(): Promise<HarnessSnapshot> {
    await this.ensureOpen();
    const checkpointId = ++checkpointSeq;
    await this.operator.snapshotState?.(checkpointId);
    const keyed = this.backend ? [await this.backend.snapshot(checkpointId)] : [];
    return { checkpointId, keyed, operator: this.operatorState!.snapshot(checkpointId), storage: this.storage, processingTime: this.clock.time };
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await this.operator.notifyCheckpointComplete?.(checkpointId);
  }

  /** Everything emitted on the main output, with timestamps. */
  output(): Emitted<OUT>[] {
    return this.main.records;
  }

  values(): OUT[] {
    return this.main.records.map((r) => r.value);
  }

  sideOutput<S>(tag: OutputTag<S>): Emitted<S>[] {
    return (this.sides.get(tag.id)?.records ?? []) as Emitted<S>[];
  }

  sideValues<S>(tag: OutputTag<S>): S[] {
    return this.sideOutput(tag).map((r) => r.value);
  }

  /** Forget what was captured so far (main and side outputs). */
  clearOutput(): void {
    this.main.records.length = 0;
    for (const r of this.sides.values()) r.records.length = 0;
  }

  /** Processing-time callbacks scheduled and not yet run. */
  pendingProcessingTimeCallbacks(): number {
    return this.clock.pending;
  }

  get keyedState(): KeyedStateBackend | undefined {
    return this.backend;
  }

  /** Closes the operator and disposes the state backend; snapshots taken stay readable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opened) await this.operator.close?.();
    await this.backend?.dispose();
  }
}

/** A snapshot restored into `parts` harnesses that split the key groups, as a rescale would. */
export function rescaledRanges(parts: number, maxParallelism = DEFAULT_MAX_PARALLELISM): KeyGroupRange[] {
  return Array.from({ length: parts }, (_, i) => keyGroupRangeFor(i, parts, maxParallelism));
}
