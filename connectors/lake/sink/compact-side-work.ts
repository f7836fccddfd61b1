/** Side-work module (runtime/cluster/side-work-pool.ts): runs one compaction task in a pool thread. */
import { runCompactTask, type CompactTask } from '../table/compact.ts';
import type { CommitMessage } from '../table/writer.ts';

export default function compact(task: CompactTask): Promise<CommitMessage> {
  return runCompactTask(task);
}
