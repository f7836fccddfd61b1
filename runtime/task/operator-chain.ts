/**
 * The operators of one task, fused: each node's output is a buffer, and after every call into a
 * node the chain hands that buffer to the nodes chained after it (plain function calls) and to the
 * record writers of edges that leave the task. Nodes are kept in topological order, so walking them
 * in order delivers watermarks and end-of-input after the records that precede them.
 */
import type { ClientChannel, Operator, OperatorContext, Output, OutputTag, ProcessingTimeService, SideWork } from '../../operators/operator.ts';
import type { OperatorStateStore } from '../../state/operator-state.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { StreamNode } from '../graph/stream-graph.ts';
import type { RecordWriter } from '../exchange/record-writer.ts';
import { WeirError } from '../errors.ts';

/**
 * What one node emitted since its last flush. Built without growing arrays record by record
 * (pushing onto an emptied array reallocates its store about log(n) times, some 30 bytes per
 * record and array): values go into an array sized like the last batch, times into a Float64Array
 * kept between batches (what receives it only borrows it for the call, as Operator says).
 */
export class OutputBuffer<T = unknown> implements Output<T> {
  private values: T[] = [];
  private times = new Float64Array(64);
  /** Records emitted since the last take. */
  size = 0;

  emit(value: T, time: number): void {
    const i = this.size++;
    this.values[i] = value;
    if (i >= this.times.length) this.growTimes();
    this.times[i] = time;
  }

  private growTimes(): void {
    const grown = new Float64Array(this.times.length * 2);
    grown.set(this.times);
    this.times = grown;
  }

  /**
   * The batch emitted so far, emptying the buffer: `values` is the caller's; `times` is a view
   * valid until the next emit.
   */
  take(): { values: T[]; times: Float64Array } {
    const n = this.size;
    const values = this.values;
    if (values.length !== n) values.length = n;
    // Sized like this batch (the next is likely alike); capped, as V8 makes very long `new Array(n)` slow dictionaries.
    this.values = new Array<T>(n < 16 ? 16 : n > 16_384 ? 16_384 : n);
    this.size = 0;
    return { values, times: this.times.subarray(0, n) };
  }
}

const discard: Output<unknown> = { emit: () => {} };

interface Targets {
  buffer: OutputBuffer;
  chained: { node: ChainNode; inputIndex: number }[];
  writers: RecordWriter[];
}

export interface NodeMetrics {
  recordsIn: number;
  recordsOut: number;
  counters: Record<string, number>;
}

export class ChainNode {
  readonly outputs = new Map<string | null, Targets>();
  readonly metrics: NodeMetrics = { recordsIn: 0, recordsOut: 0, counters: {} };
  operator: Operator<unknown, unknown> | undefined;
  keyedState: KeyedStateBackend | undefined;

  constructor(
    readonly node: StreamNode,
    readonly uid: string,
  ) {}

  targets(tag: string | null): Targets {
    let t = this.outputs.get(tag);
    if (!t) {
      t = { buffer: new OutputBuffer(), chained: [], writers: [] };
      this.outputs.set(tag, t);
    }
    return t;
  }

  get mainOutput(): OutputBuffer {
    return this.targets(null).buffer;
  }
}

export interface ChainEnvironment {
  subtaskIndex: number;
  parallelism: number;
  maxParallelism: number;
  processingTime: ProcessingTimeService;
  currentWatermark(): number;
  operatorState(node: ChainNode): OperatorStateStore;
  client: ClientChannel;
  sideWork: SideWork;
}

export class OperatorChain {
  /** In topological order; the head first. */
  readonly nodes: ChainNode[];

  constructor(
    nodes: ChainNode[],
    readonly subtaskIndex: number,
  ) {
    this.nodes = nodes;
  }

  get head(): ChainNode {
    return this.nodes[0]!;
  }

  writers(): RecordWriter[] {
    return this.nodes.flatMap((n) => [...n.outputs.values()].flatMap((t) => t.writers));
  }

  contextFor<OUT>(cn: ChainNode, env: ChainEnvironment): OperatorContext<OUT> {
    return {
      operatorName: cn.node.name,
      uid: cn.uid,
      subtaskIndex: env.subtaskIndex,
      parallelism: env.parallelism,
      maxParallelism: env.maxParallelism,
      output: cn.mainOutput as Output<OUT>,
      sideOutput: <S>(tag: OutputTag<S>): Output<S> => (cn.outputs.has(tag.id) ? (cn.outputs.get(tag.id)!.buffer as Output<S>) : (discard as Output<S>)),
      keyedState: cn.keyedState,
      operatorState: env.operatorState(cn),
      processingTime: env.processingTime,
      currentWatermark: () => env.currentWatermark(),
      client: env.client,
      sideWork: env.sideWork,
      metrics: {
        count: (name: string, delta = 1) => {
          cn.metrics.counters[name] = (cn.metrics.counters[name] ?? 0) + delta;
        },
      },
    };
  }

  async open(env: ChainEnvironment): Promise<void> {
    for (const cn of this.nodes) {
      if (!cn.operator?.open) continue;
      try {
        await cn.operator.open(this.contextFor(cn, env));
      } catch (e) {
        throw asOperatorError(e, cn, env.subtaskIndex, 'open');
      }
    }
  }

  /**
   * Runs a batch through `cn` and everything chained after it. `keyGroups` and `keyHashes` (the
   * records' key groups and key hashes from a keyBy exchange) go to `cn` only: what it emits is
   * other records.
   */
  async processBatch(cn: ChainNode, values: readonly unknown[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): Promise<void> {
    cn.metrics.recordsIn += values.length;
    try {
      const r = cn.operator!.processBatch(values, times, input, keyGroups, keyHashes);
      if (r) await r;
    } catch (e) {
      throw asOperatorError(e, cn, this.subtaskIndex);
    }
    await this.flushNode(cn);
  }

  /** Hands what `cn` emitted to its targets. */
  async flushNode(cn: ChainNode): Promise<void> {
    for (const t of cn.outputs.values()) {
      const buf = t.buffer;
      if (buf.size === 0) continue;
      const { values, times } = buf.take();
      cn.metrics.recordsOut += values.length;
      for (const w of t.writers) w.write(values, times);
      for (const c of t.chained) await this.processBatch(c.node, values, times, c.inputIndex);
    }
  }

  /** After a mail (e.g. a processing-time timer) ran operator code: deliver what it emitted. */
  async flushAll(): Promise<void> {
    for (const cn of this.nodes) await this.flushNode(cn);
  }

  async processWatermark(watermark: number): Promise<void> {
    for (const cn of this.nodes) {
      const op = cn.operator;
      if (op?.processWatermark) {
        try {
          const r = op.processWatermark(watermark);
          if (r) await r;
        } catch (e) {
          throw asOperatorError(e, cn, this.subtaskIndex);
        }
      }
      await this.flushNode(cn);
    }
  }

  async endInput(): Promise<void> {
    for (const cn of this.nodes) {
      const op = cn.operator;
      if (op?.endInput) {
        try {
          const r = op.endInput();
          if (r) await r;
        } catch (e) {
          throw asOperatorError(e, cn, this.subtaskIndex, 'end of input');
        }
      }
      await this.flushNode(cn);
    }
  }

  async close(): Promise<void> {
    for (const cn of this.nodes) {
      await cn.operator?.close?.();
      await cn.keyedState?.dispose();
    }
  }
}

/** Names the operator and subtask on an error leaving it. */
export function asOperatorError(e: unknown, cn: ChainNode, subtask: number, phase?: string): WeirError {
  const err = e instanceof WeirError ? e : new WeirError(`${phase ? `${phase}: ` : ''}${e instanceof Error ? e.message : String(e)}`, { domain: 'user', cause: e, retriable: true });
  if (err.stack === undefined && e instanceof Error) err.stack = e.stack;
  return err.withOperator(cn.node.name, subtask);
}
