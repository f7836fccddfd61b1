/**
 * Scripted operator runs for harness tests: a list of steps (elements, watermarks, processing
 * time) played into an operator straight through, or with a snapshot after step `k` restored into
 * a fresh harness (optionally another backend, or split over key-group ranges as a rescale), so a
 * test can assert that a restore changes nothing.
 */
import type { Operator, OutputTag } from 'weir';
import { DEFAULT_MAX_PARALLELISM, keyGroupOf, rangeContains, type StateKey } from '../../state/index.ts';
import { OperatorHarness, rescaledRanges, type Emitted, type HarnessOptions } from './operator-harness.ts';

export type Step<IN> = { element: IN; ts: number } | { watermark: number } | { processingTime: number } | { endInput: true };

export interface ScriptResult<OUT> {
  output: Emitted<OUT>[];
  side: Map<string, Emitted<unknown>[]>;
}

async function play<IN, OUT>(hs: OperatorHarness<IN, OUT>[], steps: readonly Step<IN>[], keyOf?: (element: IN) => StateKey): Promise<void> {
  for (const s of steps) {
    if ('element' in s) {
      const owner = hs.length === 1 ? hs[0]! : hs.find((h) => rangeContains(h.keyGroupRange, keyGroupOf(keyOf!(s.element), h.maxParallelism)))!;
      await owner.processElement(s.element, s.ts);
    } else for (const h of hs) {
      if ('watermark' in s) await h.processWatermark(s.watermark);
      else if ('processingTime' in s) await h.setProcessingTime(s.processingTime);
      else await h.endInput();
    }
  }
}

function collect<IN, OUT>(hs: OperatorHarness<IN, OUT>[], tags: readonly OutputTag<unknown>[], into: ScriptResult<OUT>): void {
  for (const h of hs) {
    into.output.push(...h.output());
    for (const t of tags) into.side.set(t.id, [...(into.side.get(t.id) ?? []), ...h.sideOutput(t)]);
  }
}

/** Plays `steps`; with `restoreAt`, snapshots after that many steps and continues in `restoreInto` fresh harnesses (default 1) of `restoreBackend`. */
export async function runScript<IN, OUT>(
  create: () => Operator<IN, OUT>,
  steps: readonly Step<IN>[],
  options: HarnessOptions & {
    restoreAt?: number;
    restoreBackend?: 'heap' | 'lmdb';
    /** Restore into this many harnesses splitting the key groups (a rescale); needs `keyOf`. */
    restoreInto?: number;
    keyOf?: (element: IN) => StateKey;
    sideTags?: readonly OutputTag<unknown>[];
  } = {},
): Promise<ScriptResult<OUT>> {
  const tags = options.sideTags ?? [];
  const result: ScriptResult<OUT> = { output: [], side: new Map() };
  const first = new OperatorHarness(create, options);
  await first.open();
  if (options.restoreAt === undefined) {
    await play([first], steps);
    collect([first], tags, result);
    await first.close();
    return result;
  }
  await play([first], steps.slice(0, options.restoreAt));
  const snap = await first.snapshot();
  collect([first], tags, result);
  await first.close();
  const parts = options.restoreInto ?? 1;
  const ranges = rescaledRanges(parts, options.maxParallelism ?? DEFAULT_MAX_PARALLELISM);
  const next = ranges.map((keyGroupRange, i) => new OperatorHarness(create, { ...options, backend: options.restoreBackend ?? options.backend ?? 'heap', keyGroupRange, subtaskIndex: i, parallelism: parts }));
  for (const h of next) {
    await h.initializeState(snap);
    await h.open();
  }
  if (parts > 1 && !options.keyOf) throw new Error('restoreInto > 1 routes elements by key: give keyOf');
  await play(next, steps.slice(options.restoreAt), options.keyOf);
  collect(next, tags, result);
  for (const h of next) await h.close();
  return result;
}
