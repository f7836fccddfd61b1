/**
 * Checkpoint storage for a job started from another job's savepoint or checkpoint: state files of
 * the restored checkpoint are read from the other job's storage; everything else (new
 * checkpoints) goes to this job's own.
 */
import type { CheckpointStorage, StateFileHandle } from '../../state/index.ts';

function fileKey(f: StateFileHandle): string {
  return `${f.scope}/${f.checkpointId}/${f.name}`;
}

export function restoringStorage(own: CheckpointStorage, restoredFrom: CheckpointStorage, restoredFiles: readonly StateFileHandle[]): CheckpointStorage {
  const restored = new Set(restoredFiles.map(fileKey));
  return new Proxy(own, {
    get(target, prop, receiver) {
      if (prop === 'readFile') {
        return (file: StateFileHandle, range?: { offset: number; length: number }) =>
          restored.has(fileKey(file)) ? restoredFrom.readFile(file, range) : target.readFile(file, range);
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
