import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createKeyedStateBackend,
  type Clock,
  type KeyedStateBackend,
  type KeyedStateHandle,
  LocalCheckpointStorage,
  keyGroupOf,
} from '../../../state/index.ts';

export class FakeClock implements Clock {
  constructor(public time = 1_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export const BACKENDS = ['heap', 'lmdb'] as const;
export type BackendKind = (typeof BACKENDS)[number];

export interface Fixture {
  dir: string;
  storage: LocalCheckpointStorage;
  clock: FakeClock;
  open(kind: BackendKind, options?: { start?: number; end?: number; subtask?: number; restore?: KeyedStateHandle[]; flushEvery?: number; cacheEntries?: number; maxParallelism?: number }): Promise<KeyedStateBackend>;
  cleanup(): Promise<void>;
}

export const MAX_PARALLELISM = 128;

export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-state-test-'));
  const storage = new LocalCheckpointStorage({ root: path.join(dir, 'checkpoints'), jobId: 'job', retainedCheckpoints: 100 });
  const clock = new FakeClock();
  const opened: KeyedStateBackend[] = [];
  return {
    dir,
    storage,
    clock,
    async open(kind, o = {}) {
      const b = await createKeyedStateBackend({
        kind,
        workDir: path.join(dir, 'work'),
        operatorUid: 'op',
        subtask: o.subtask ?? 0,
        keyGroupRange: { start: o.start ?? 0, end: o.end ?? (o.maxParallelism ?? MAX_PARALLELISM) - 1 },
        maxParallelism: o.maxParallelism ?? MAX_PARALLELISM,
        storage,
        clock,
        ...(o.restore ? { restore: o.restore } : {}),
        ...(o.flushEvery ? { flushEvery: o.flushEvery } : {}),
        ...(o.cacheEntries ? { cacheEntries: o.cacheEntries } : {}),
      });
      opened.push(b);
      return b;
    },
    async cleanup() {
      for (const b of opened) await b.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function at(backend: KeyedStateBackend, key: string | number | readonly (string | number)[]): void {
  backend.setCurrentKey(key, keyGroupOf(key, backend.maxParallelism));
}
