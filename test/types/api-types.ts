/**
 * Type tests: checked by `tsc --noEmit` (CI), never run. Each `@ts-expect-error` line must fail to
 * compile: if a change to the API lets it compile, tsc reports the directive as unused and CI fails.
 * The other lines must compile. `Expect<Equal<A, B>>` fails unless A and B are the same type
 * (`any` included: `Equal<any, X>` is false), which proves record types flow without `any`.
 */
import {
  collectSink,
  datagen,
  defineJob,
  MiniCluster,
  OutputTag,
  sharedPlainData,
  valueState,
  type Change,
  type Collector,
  type DataStream,
  type JobHandle,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedStream,
  type LocalAggregationOptions,
  tumblingEventTimeWindows,
  type Operator,
  type OperatorContext,
  type ProcessFunction,
  type RestartPhase,
  type Sink,
  type SingleOutputStream,
} from 'weir';

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

interface Click {
  user: string;
  page: number;
  ts: number;
}
interface Purchase {
  user: string;
  amount: number;
}
interface PageCount {
  page: number;
  count: number;
}

declare const clicks: DataStream<Click>;
declare const events: DataStream<Click | Purchase>;
declare const clickSink: Sink<Click>;
declare const anySink: Sink<Click | Purchase>;

// --- Sinks: a sink must accept every record of the stream (Sink is contravariant). ---
clicks.sinkTo(clickSink);
clicks.sinkTo(anySink); // a sink of a wider type takes the narrower stream
events.sinkTo(anySink);
// @ts-expect-error a stream of Click | Purchase into a sink that only takes Click
events.sinkTo(clickSink);
// @ts-expect-error the same through a collect sink class (structural, not only the Sink interface)
events.sinkTo(collectSink<Click>('clicks'));
// @ts-expect-error a sink of another record type
clicks.sinkTo(collectSink<Purchase>('purchases'));

// --- Operators: the input type of a custom operator is checked against the stream. ---
class PageOf implements Operator<Click, number> {
  readonly name = 'page-of';
  private ctx!: OperatorContext<number>;
  open(ctx: OperatorContext<number>): void {
    this.ctx = ctx;
  }
  processBatch(values: readonly Click[], times: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.ctx.output.emit(values[i]!.page, times[i]!);
  }
}
const pages = clicks.transform('pages', () => new PageOf());
type _pages = Expect<Equal<typeof pages, SingleOutputStream<number>>>;
// @ts-expect-error an operator that reads only Click on a stream of Click | Purchase
events.transform('pages', () => new PageOf());
class EmitsString implements Operator<Click, string> {
  readonly name = 'emits-string';
  open(_ctx: OperatorContext<string>): void {}
  processBatch(): void {}
}
// @ts-expect-error an operator that emits strings is not an Operator<Click, number>
const _wrongOut: Operator<Click, number> = new EmitsString();

// --- Process functions: element, output and key types. ---
const byUser: KeyedStream<string, Click> = clicks.keyBy((c) => c.user);
const counter: KeyedProcessFunction<string, Click, PageCount> = {
  processElement(click, ctx, out) {
    type _key = Expect<Equal<typeof ctx.key, string>>;
    out.collect({ page: click.page, count: 1 });
  },
};
const counted = byUser.process(counter);
type _counted = Expect<Equal<typeof counted, SingleOutputStream<PageCount>>>;
declare const byPageCounter: KeyedProcessFunction<number, Click, PageCount>;
// @ts-expect-error the function's key type (number) is not the stream's key type (string, from keyBy)
byUser.process(byPageCounter);
declare const purchaseCounter: KeyedProcessFunction<string, Purchase, PageCount>;
// @ts-expect-error the function reads Purchase, the stream carries Click
byUser.process(purchaseCounter);
byUser.process<PageCount>({
  processElement(_click, _ctx, out) {
    // @ts-expect-error the collector takes PageCount, not a string
    out.collect('one');
  },
});
declare const narrowProcess: ProcessFunction<Click, number>;
// @ts-expect-error a process function of Click on a stream of Click | Purchase
events.process(narrowProcess);
class KeyedByNumber implements KeyedProcessFunction<number, Click, number> {
  processElement(click: Click, ctx: KeyedContext<number>, out: Collector<number>): void {
    out.collect(ctx.key + click.page);
  }
}
// @ts-expect-error a class keyed by number on a stream keyed by string
byUser.process(new KeyedByNumber());
clicks.keyBy((c) => c.page).process(new KeyedByNumber());

// --- Keyed state and side outputs keep their types. ---
const late = new OutputTag<Click>('late');
const lateClicks = clicks.process<number>({ processElement: (c, ctx, out) => (c.ts < 0 ? ctx.output(late, c) : out.collect(c.page)) }).getSideOutput(late);
type _late = Expect<Equal<typeof lateClicks, DataStream<Click>>>;
byUser.process<number>({
  open(ctx) {
    const total = ctx.getState(valueState<number>('total'));
    type _total = Expect<Equal<ReturnType<typeof total.value>, number | undefined>>;
    // @ts-expect-error the state holds numbers
    total.update('ten');
    const shared = ctx.getState(valueState<number[]>('shared', { serializer: sharedPlainData() }));
    type _shared = Expect<Equal<ReturnType<typeof shared.value>, number[] | undefined>>;
    // @ts-expect-error a serializer of strings for a state of number arrays
    valueState<number[]>('wrong', { serializer: sharedPlainData<string>() });
    // knownPlain sees the state's value type, and the key's value so far.
    valueState<number[]>('known', { serializer: sharedPlainData({ knownPlain: (v: number[], prev: number[] | undefined) => v.length > 0 && prev !== v }) });
    // @ts-expect-error knownPlain of strings for a state of number arrays
    valueState<number[]>('known-wrong', { serializer: sharedPlainData({ knownPlain: (v: string) => v.length > 0 }) });
  },
  processElement() {},
});

// --- Temporal joins: only a left join may see a missing dimension row. ---
declare const rates: DataStream<Change<{ currency: string; rate: number }>>;
declare const orders: DataStream<{ currency: string; amount: number }>;
const converted = orders
  .temporalJoin(rates)
  .where((o) => o.currency)
  .equalTo((r) => r.currency)
  .apply((o, rate) => o.amount * rate.rate);
type _converted = Expect<Equal<typeof converted, SingleOutputStream<number>>>;
orders
  .temporalJoin(rates)
  .where((o) => o.currency)
  .equalTo((r) => r.currency)
  // @ts-expect-error a left join's dimension row may be null
  .apply((o, rate) => o.amount * rate.rate, { kind: 'left' });
orders
  .temporalJoin(rates)
  .where((o) => o.currency)
  .equalTo((r) => r.currency)
  .apply((o, rate) => o.amount * (rate?.rate ?? 1), { kind: 'left' });

// --- A job: record types flow from the source to the sink without `any`; params may be an interface. ---
interface JobParams {
  clicks: number;
  pages?: number[];
}
export const pageCounts = collectSink<PageCount>('page-counts');
const job = defineJob(import.meta.url, (env, params: JobParams) => {
  const source = env.fromSource(datagen({ count: params.clicks, generate: (i): Click => ({ user: `u${i % 7}`, page: i % 5, ts: i }) }));
  type _source = Expect<Equal<typeof source, DataStream<Click>>>;
  const keyed = source.keyBy((c) => c.page);
  type _keyed = Expect<Equal<typeof keyed, KeyedStream<number, Click>>>;
  const counts = keyed.process<PageCount>({
    processElement(click, ctx, out) {
      type _click = Expect<Equal<typeof click, Click>>;
      type _key = Expect<Equal<typeof ctx.key, number>>;
      out.collect({ page: ctx.key, count: 1 });
    },
  });
  counts.sinkTo(pageCounts);
  // @ts-expect-error page counts are not clicks
  counts.sinkTo(collectSink<Click>('clicks'));
});
void new MiniCluster().execute(job, { params: { clicks: 10 } });
// @ts-expect-error the job's params are JobParams
void new MiniCluster().execute(job, { params: { clicks: 'ten' } });
type _params = Expect<Equal<Parameters<typeof job.buildGraph>[0], JobParams>>;
new MiniCluster({ workers: 2, transport: 'in-process' });
// @ts-expect-error task managers run on worker threads or in process; there is no socket transport yet
new MiniCluster({ transport: 'sockets' });
void new MiniCluster().submit(job, { params: { clicks: 1 }, checkpoints: { intervalMs: 100 }, restartStrategy: { kind: 'none' } });
// @ts-expect-error a job's checkpoint interval is a number of milliseconds
void new MiniCluster().submit(job, { params: { clicks: 1 }, checkpoints: { intervalMs: '100' } });
// A failover's step, for tests and diagnostics: a closed set of names.
declare const running: JobHandle;
type _phase = Expect<Equal<typeof running.restartPhase, RestartPhase | undefined>>;
const phase: RestartPhase | undefined = running.restartPhase;
// @ts-expect-error there is no 'waiting' step: the restart delay is 'delay'
if (phase === 'waiting') void running.attemptNumber;
// @ts-expect-error job params must be JSON data: a Date does not survive the trip to a worker thread
defineJob(import.meta.url, (_env, _params: { since: Date }) => {});
// @ts-expect-error job params must be JSON data: no functions
defineJob(import.meta.url, (_env, _params: { score: (x: number) => number }) => {});
type Point = { x: number; y: number };
defineJob(import.meta.url, (_env, _params: { points: Point[]; label: string | null }) => {});

// Two-phase (local-global) window aggregation: the same result type as one phase.
declare const clicksByUser: KeyedStream<string, Click>;
const localOptions: LocalAggregationOptions = { maxEntries: 1000 };
const pageSums = clicksByUser
  .window(tumblingEventTimeWindows(1000))
  .localAggregation(localOptions)
  .aggregate({ createAccumulator: () => 0, add: (c, a) => a + c.page, merge: (a, b) => a + b, getResult: (a) => a }, (sum, ctx) => ({ user: ctx.key, sum }));
type _pageSums = Expect<Equal<typeof pageSums, SingleOutputStream<{ user: string; sum: number }>>>;
// @ts-expect-error maxEntries is a number of accumulators
clicksByUser.window(tumblingEventTimeWindows(1000)).localAggregation({ maxEntries: 'many' });

// Two-phase group aggregate: an option of aggregateChangelog.
declare const changesByUser: KeyedStream<string, Change<Click>>;
const pagesPerUser = changesByUser.aggregateChangelog(
  { createAccumulator: () => 0, add: (_c, a) => a + 1, retract: (_c, a) => a - 1, merge: (a, b) => a + b, getResult: (a, user) => ({ user, pages: a }) },
  { localAggregation: true },
);
type _pagesPerUser = Expect<Equal<typeof pagesPerUser, SingleOutputStream<Change<{ user: string; pages: number }>>>>;
// @ts-expect-error localAggregation is on or off
changesByUser.aggregateChangelog({ createAccumulator: () => 0, add: (_c, a) => a + 1, retract: (_c, a) => a - 1, getResult: (a) => a }, { localAggregation: 'yes' });
