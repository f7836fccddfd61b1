/**
 * Failure injection for chaos tests: task-manager kills at seeded random times, or when checkpoints
 * start or complete. One place for the rules every chaos test follows: kill only a running job with
 * all its task managers up (a kill during a restart would only stack failovers), and let the test
 * count the kills it asked for.
 */
import type { JobHandle, SeededRandom } from 'weir';

/**
 * Whether a kill now costs the job one restart: it runs (no failover under way: during one, the
 * attempt being stopped or the restart delay holds no tasks, and a kill there only loses a thread
 * the restart replaces anyway) with all its task managers up.
 */
function canKill(handle: JobHandle, workers: number): boolean {
  return handle.status === 'running' && !handle.restarting && handle.liveTaskManagers === workers;
}

/** Two kills at seeded times: the first `from` + up to `spread` ms after the start, the second `gap` + up to `gapSpread` ms later. */
export function killAtSeededTimes(
  handle: JobHandle,
  random: SeededRandom,
  { from, spread, gap, gapSpread, workers = 2 }: { from: number; spread: number; gap: number; gapSpread: number; workers?: number },
): void {
  const first = from + random.int(spread);
  const second = first + gap + random.int(gapSpread);
  for (const at of [first, second]) {
    const worker = random.int(workers);
    setTimeout(() => {
      if (canKill(handle, workers)) handle.killTaskManager(worker);
    }, at);
  }
}

/**
 * Kills when a checkpoint whose id is `remainder` modulo `every` starts ('checkpoint-triggered') or
 * completes ('checkpoint-completed', a commit in flight), at most `max` times, worker `id % workers`.
 * Returns the number of kills so far.
 */
export function killAtCheckpoints(
  handle: JobHandle,
  event: 'checkpoint-triggered' | 'checkpoint-completed',
  { every, remainder, max = 3, workers = 2 }: { every: number; remainder: number; max?: number; workers?: number },
): () => number {
  let kills = 0;
  handle.on(event, (id: number) => {
    if (kills < max && id % every === remainder && canKill(handle, workers)) {
      kills++;
      handle.killTaskManager(id % workers);
    }
  });
  return () => kills;
}

/**
 * Two kills at seeded counts of completed checkpoints (the first after 1-3, the second 2-4 later):
 * points in the job's progress rather than wall-clock times, which a loaded machine lets a job outrun.
 */
export function killAtCompletedCounts(handle: JobHandle, random: SeededRandom, workers = 2): void {
  const first = 1 + random.int(3);
  const at = new Set([first, first + 2 + random.int(3)]);
  let completed = 0;
  handle.on('checkpoint-completed', () => {
    if (at.has(++completed) && canKill(handle, workers)) handle.killTaskManager(random.int(workers));
  });
}
