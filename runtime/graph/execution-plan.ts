/**
 * From the logical graph to what runs: nodes fused into chains (forward edge, equal parallelism,
 * single input, both chainable), each chain instantiated once per subtask as a task, tasks placed
 * on task managers, and one channel per (sending task, receiving task) pair of every edge that
 * leaves a chain. The plan is plain data: it is sent to every task manager with the deployment.
 */
import type { Partitioning, StreamEdge, StreamGraph, StreamNode } from './stream-graph.ts';

export interface PlannedChain {
  id: number;
  /** Node ids in topological order, head first. */
  nodeIds: number[];
  parallelism: number;
}

export interface PlannedTask {
  id: number;
  chainId: number;
  subtask: number;
  /** Index of the task manager it runs on. */
  worker: number;
}

export interface PlannedChannel {
  id: number;
  edgeId: number;
  senderTask: number;
  receiverTask: number;
  senderWorker: number;
  receiverWorker: number;
  senderSubtask: number;
  receiverSubtask: number;
  inputIndex: 0 | 1;
}

export interface ExecutionPlan {
  fingerprint: string;
  maxParallelism: number;
  workers: number;
  chains: PlannedChain[];
  tasks: PlannedTask[];
  channels: PlannedChannel[];
  /** Resolved partitioning kind per edge id ('auto' replaced). */
  edgePartitioning: Record<number, Partitioning['kind']>;
}

export function resolvePartitioning(graph: StreamGraph, edge: StreamEdge): Partitioning['kind'] {
  const kind = edge.partitioning.kind;
  if (kind !== 'auto') return kind;
  const same = graph.parallelismOf(graph.node(edge.source)) === graph.parallelismOf(graph.node(edge.target));
  return same ? 'forward' : 'rebalance';
}

function isChainedEdge(graph: StreamGraph, edge: StreamEdge): boolean {
  const source = graph.node(edge.source);
  const target = graph.node(edge.target);
  return (
    target.inputs.length === 1 &&
    source.kind !== 'sink' &&
    target.kind !== 'source' &&
    source.chainable &&
    target.chainable &&
    (source.slotGroup ?? 'default') === (target.slotGroup ?? 'default') &&
    resolvePartitioning(graph, edge) === 'forward' &&
    graph.parallelismOf(source) === graph.parallelismOf(target)
  );
}

export function planExecution(graph: StreamGraph, workers: number): ExecutionPlan {
  const chainOf = new Map<number, PlannedChain>();
  const chains: PlannedChain[] = [];
  // Node ids are in build order, and an edge always goes from an older node to a newer one.
  for (const node of graph.nodes) {
    const input = node.inputs[0];
    if (node.inputs.length === 1 && input && isChainedEdge(graph, input)) {
      const chain = chainOf.get(input.source)!;
      chain.nodeIds.push(node.id);
      chainOf.set(node.id, chain);
    } else {
      const chain: PlannedChain = { id: chains.length, nodeIds: [node.id], parallelism: graph.parallelismOf(node) };
      chains.push(chain);
      chainOf.set(node.id, chain);
    }
  }

  const tasks: PlannedTask[] = [];
  const taskOf = new Map<string, PlannedTask>();
  const groupOffsets = new Map<string, number>();
  for (const chain of chains) {
    const group = graph.node(chain.nodeIds[0]!).slotGroup ?? 'default';
    if (!groupOffsets.has(group)) groupOffsets.set(group, groupOffsets.size);
    const offset = groupOffsets.get(group)!;
    for (let s = 0; s < chain.parallelism; s++) {
      // Subtask i of every chain of a slot sharing group shares worker (i + group) mod W, as in
      // Flink's slot sharing: forward edges stay local, and groups spread over task managers.
      const task: PlannedTask = { id: tasks.length, chainId: chain.id, subtask: s, worker: (s + offset) % workers };
      tasks.push(task);
      taskOf.set(`${chain.id}/${s}`, task);
    }
  }

  const channels: PlannedChannel[] = [];
  const edgePartitioning: Record<number, Partitioning['kind']> = {};
  for (const edge of graph.edges) {
    const kind = resolvePartitioning(graph, edge);
    edgePartitioning[edge.id] = kind;
    if (isChainedEdge(graph, edge)) continue;
    const from = chainOf.get(edge.source)!;
    const to = chainOf.get(edge.target)!;
    for (let s = 0; s < from.parallelism; s++) {
      for (let r = 0; r < to.parallelism; r++) {
        if (kind === 'forward' && r !== s) continue;
        const sender = taskOf.get(`${from.id}/${s}`)!;
        const receiver = taskOf.get(`${to.id}/${r}`)!;
        channels.push({
          id: channels.length,
          edgeId: edge.id,
          senderTask: sender.id,
          receiverTask: receiver.id,
          senderWorker: sender.worker,
          receiverWorker: receiver.worker,
          senderSubtask: s,
          receiverSubtask: r,
          inputIndex: edge.inputIndex,
        });
      }
    }
  }
  return { fingerprint: graph.fingerprint(), maxParallelism: graph.maxParallelism, workers, chains, tasks, channels, edgePartitioning };
}

/** The nodes of the graph whose edges the plan chains, for display. */
/**
 * Whether the tasks the plan places on task manager `worker` (or on any task manager, without
 * `worker`: a spare may stand in for any of them) run a keyed operator, i.e. open a keyed state
 * backend. Only those need the LMDB writer thread.
 */
export function runsKeyedOperators(graph: StreamGraph, plan: ExecutionPlan, worker?: number): boolean {
  return plan.tasks.some((t) => (worker === undefined || t.worker === worker) && plan.chains[t.chainId]!.nodeIds.some((id) => graph.node(id).keyed));
}

export function describePlan(graph: StreamGraph, plan: ExecutionPlan): string {
  return plan.chains
    .map((c) => `[${c.nodeIds.map((id) => graph.node(id).name).join(' -> ')}] x${c.parallelism}`)
    .join('\n');
}

export type { StreamNode };
