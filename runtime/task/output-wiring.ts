/**
 * Where a task's records go next: each output edge of each operator in the chain is either a call
 * into the next chained operator or a record writer over the edge's channels to other tasks.
 */
import type { DataPlane } from '../exchange/data-plane.ts';
import { OutputChannel } from '../exchange/output-channel.ts';
import { RecordWriter } from '../exchange/record-writer.ts';
import type { ExecutionPlan, PlannedTask } from '../graph/execution-plan.ts';
import type { ChainNode } from './operator-chain.ts';

/**
 * Connects the outputs of `nodes` (the chain of `task`, in `chainIds` order); returns the record
 * writers made. `onWritable` is called when an output channel that was full can take batches again.
 */
export function wireOutputs(
  nodes: readonly ChainNode[],
  chainIds: readonly number[],
  task: PlannedTask,
  plan: ExecutionPlan,
  settings: { batchSize: number },
  plane: DataPlane,
  onWritable: () => void,
): RecordWriter[] {
  const byId = new Map(nodes.map((n) => [n.node.id, n]));
  const writers: RecordWriter[] = [];
  for (const cn of nodes) {
    for (const edge of cn.node.outputs) {
      const targets = cn.targets(edge.tag);
      const chained = byId.get(edge.target);
      if (chained && chainIds.includes(edge.target) && edge.target !== chainIds[0]) {
        targets.chained.push({ node: chained, inputIndex: edge.inputIndex });
        continue;
      }
      const channels = plan.channels
        .filter((c) => c.edgeId === edge.id && c.senderTask === task.id)
        .sort((a, b) => a.receiverSubtask - b.receiverSubtask)
        .map((c) => new OutputChannel(c.id, plane, onWritable));
      const writer = new RecordWriter(
        { ...edge.partitioning, kind: plan.edgePartitioning[edge.id]! } as typeof edge.partitioning,
        channels,
        settings.batchSize,
        plan.maxParallelism,
        cn.node.name,
      );
      targets.writers.push(writer);
      writers.push(writer);
    }
  }
  return writers;
}
