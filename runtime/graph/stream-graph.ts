/**
 * The logical job graph that the DataStream API builds: nodes (sources, operators, sinks) and edges
 * with a partitioning. Every task manager builds the same graph by running the same job module, so
 * node ids are assigned in build order and must come out the same everywhere (checked by
 * `fingerprint`). User functions stay in the nodes as closures; nothing here is sent between threads.
 */
import type { Operator } from '../../operators/operator.ts';
import type { Source } from '../source/contract.ts';
import type { KeySelector } from '../../operators/functions.ts';
import type { WatermarkStrategy } from './watermark-strategy.ts';

export type Partitioning =
  /** Forward when both sides have the same parallelism, else rebalance; resolved by the execution plan. */
  | { kind: 'auto' }
  | { kind: 'forward' }
  | { kind: 'rebalance' }
  | { kind: 'broadcast' }
  | { kind: 'hash'; key: KeySelector<unknown> };

export interface StreamEdge {
  id: number;
  source: number;
  target: number;
  /** Side output id, or null for the main output. */
  tag: string | null;
  partitioning: Partitioning;
  /** Which input of a two-input operator this edge feeds. */
  inputIndex: 0 | 1;
}

export type NodeKind = 'source' | 'operator' | 'sink';

export interface StreamNode {
  id: number;
  kind: NodeKind;
  name: string;
  /** The uid the user gave, if any; see `uidOf`. */
  uid: string | undefined;
  /** undefined: the job's default parallelism. */
  parallelism: number | undefined;
  inputs: StreamEdge[];
  outputs: StreamEdge[];
  /** Keyed operators read keyed state or timers; their inputs must be partitioned by key. */
  keyed: boolean;
  /** For operators and sinks: a fresh instance per subtask. */
  createOperator?: () => Operator<unknown, unknown>;
  /** For sources. */
  source?: Source<unknown, any, any>;
  watermarks?: WatermarkStrategy<unknown>;
  /** Whether this node may run in one task with its input (default true). */
  chainable: boolean;
  /**
   * Tasks of different slot sharing groups go to different task managers (as far as there are
   * enough), like Flink's slot sharing groups; nodes of different groups are never chained.
   */
  slotGroup?: string;
}

export class StreamGraph {
  readonly nodes: StreamNode[] = [];
  readonly edges: StreamEdge[] = [];
  defaultParallelism = 1;
  maxParallelism = 128;

  addNode(node: Omit<StreamNode, 'id' | 'inputs' | 'outputs'>): StreamNode {
    const full: StreamNode = { ...node, id: this.nodes.length, inputs: [], outputs: [] };
    this.nodes.push(full);
    return full;
  }

  connect(source: StreamNode, target: StreamNode, tag: string | null, partitioning: Partitioning, inputIndex: 0 | 1): StreamEdge {
    const edge: StreamEdge = { id: this.edges.length, source: source.id, target: target.id, tag, partitioning, inputIndex };
    this.edges.push(edge);
    source.outputs.push(edge);
    target.inputs.push(edge);
    return edge;
  }

  node(id: number): StreamNode {
    const n = this.nodes[id];
    if (!n) throw new Error(`no node ${id} in the job graph`);
    return n;
  }

  parallelismOf(node: StreamNode): number {
    return node.parallelism ?? this.defaultParallelism;
  }

  /** The node's stable identity for state: the given uid, else derived from its name and position. */
  uidOf(node: StreamNode): string {
    return node.uid ?? `${node.kind}-${node.id}-${node.name.replace(/[^\w.-]+/g, '_')}`;
  }

  /** A description of the graph's shape; every task manager must build the same one. */
  fingerprint(): string {
    return this.nodes
      .map((n) => `${n.id}:${n.kind}:${n.name}:${n.uid ?? ''}:${this.parallelismOf(n)}<${n.inputs.map((e) => `${e.source}/${e.tag ?? ''}/${e.partitioning.kind}/${e.inputIndex}`).join(',')}`)
      .join(';');
  }
}
