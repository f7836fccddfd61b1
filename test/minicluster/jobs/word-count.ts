/** Word count over generated sentences: flatMap, keyBy, a keyed process function with ValueState. */
import {
  type Collector,
  collectSink,
  datagen,
  defineJob,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  valueState,
  type ValueState,
} from 'weir';

export const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];

/** The sentence datagen makes for index i (shared with the test's plain computation). */
export function sentence(i: number, random: { int(n: number): number }): string {
  const n = 1 + random.int(6);
  const words: string[] = [];
  for (let k = 0; k < n; k++) words.push(WORDS[random.int(WORDS.length)]!);
  return words.join(' ');
}

export interface WordCount {
  word: string;
  count: number;
}

export const counts = collectSink<WordCount>('word-counts');

class Count implements KeyedProcessFunction<string, string, WordCount> {
  private count!: ValueState<number>;
  open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.getState(valueState<number>('count'));
  }
  processElement(word: string, _ctx: unknown, out: Collector<WordCount>): void {
    const next = (this.count.value() ?? 0) + 1;
    this.count.update(next);
    out.collect({ word, count: next });
  }
}

export default defineJob(import.meta.url, (env, params: { lines: number; seed: number }) => {
  env
    .fromSource(datagen({ count: params.lines, seed: params.seed, generate: sentence }))
    .flatMap<string>((line, out) => {
      for (const w of line.split(' ')) out.collect(w);
    })
    .keyBy((w) => w)
    .process(new Count(), { uid: 'count' })
    .sinkTo(counts);
});
