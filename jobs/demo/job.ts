/**
 * The demo: a live-streaming platform's gift stream turned into minute-level revenue per room.
 * Gifts arrive out of order (up to 5 s late); each room's revenue for a minute is emitted once the
 * watermark passes the end of that minute. Runs on embedded defaults: a generator source, keyed
 * state, event-time timers, a collect sink, and (with `lakePath`) an Apache Paimon primary-key table
 * in a local directory, written exactly once at each checkpoint, and (with `duckdbPath`) a DuckDB
 * table that can be queried while the job runs (its read-only copy).
 */
import {
  collectSink,
  datagen,
  defineJob,
  valueState,
  WatermarkStrategy,
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  type OnTimerContext,
  type ValueState,
} from 'weir';
import { duckdbSink } from 'weir/duckdb';
import { lakeSink, T } from 'weir/lake';

export interface Gift {
  room: string;
  user: number;
  gift: string;
  /** Price in cents. */
  amount: number;
  ts: number;
}

export interface RoomMinute {
  room: string;
  minute: string;
  gifts: number;
  revenueCents: number;
}

const GIFTS: [string, number][] = [
  ['rose', 10],
  ['heart', 50],
  ['rocket', 2000],
  ['castle', 10000],
  ['star', 100],
];

const START = Date.UTC(2026, 10, 21, 20, 0, 0);
const MINUTE = 60_000;

/** Gift i: about 200 gifts a second of event time across 40 rooms, a few rooms much hotter. */
export function gift(i: number, random: { next(): number; int(n: number): number }): Gift {
  const hot = random.next() < 0.3;
  const room = hot ? `room-${random.int(3)}` : `room-${3 + random.int(37)}`;
  const [name, price] = GIFTS[random.next() < 0.9 ? random.int(2) * 4 : random.int(GIFTS.length)]!;
  return { room, user: random.int(50_000), gift: name, amount: price, ts: START + i * 5 - random.int(5000) };
}

export const revenue = collectSink<RoomMinute>('room-revenue');

/** The lake table of room-minutes: primary key (room, minute), so a replayed minute overwrites itself. */
export const roomMinuteTable = {
  fields: [
    { name: 'room', type: T.notNull(T.string()) },
    { name: 'minute', type: T.notNull(T.string()) },
    { name: 'gifts', type: T.int() },
    { name: 'revenueCents', type: T.bigint() },
  ],
  primaryKeys: ['room', 'minute'],
  options: { bucket: '2' },
};

class MinuteRevenue implements KeyedProcessFunction<string, Gift, RoomMinute> {
  private minutes!: ValueState<Record<string, [number, number]>>;

  open(ctx: KeyedRuntimeContext): void {
    this.minutes = ctx.getState(valueState<Record<string, [number, number]>>('minutes'));
  }

  processElement(g: Gift, ctx: KeyedContext<string>): void {
    const end = Math.floor(g.ts / MINUTE) * MINUTE + MINUTE - 1;
    const minutes = this.minutes.value() ?? {};
    const [n, cents] = minutes[end] ?? [0, 0];
    minutes[end] = [n + 1, cents + g.amount];
    this.minutes.update(minutes);
    ctx.timerService.registerEventTimeTimer(end);
  }

  onTimer(time: number, ctx: OnTimerContext<string>, out: Collector<RoomMinute>): void {
    const minutes = this.minutes.value() ?? {};
    const [gifts, revenueCents] = minutes[time] ?? [0, 0];
    delete minutes[time];
    this.minutes.update(minutes);
    out.collect({ room: ctx.key, minute: new Date(time + 1 - MINUTE).toISOString().slice(11, 16), gifts, revenueCents });
  }
}

export default defineJob(import.meta.url, (env, params: { gifts: number; lakePath?: string; duckdbPath?: string }) => {
  const minutes = env
    .fromSource(datagen({ name: 'gifts', count: params.gifts, seed: 2026, generate: gift }), {
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Gift>(5000, (g) => g.ts),
    })
    .filter((g) => g.amount > 0, { name: 'valid-gifts' })
    .keyBy((g) => g.room)
    .process(new MinuteRevenue(), { name: 'minute-revenue', uid: 'minute-revenue' });
  minutes.sinkTo(revenue);
  if (params.lakePath) minutes.sinkTo(lakeSink<RoomMinute>({ path: params.lakePath, schema: roomMinuteTable }), { name: 'revenue-lake', uid: 'revenue-lake' });
  if (params.duckdbPath) {
    const olap = duckdbSink<RoomMinute>({ path: params.duckdbPath, table: 'room_revenue', primaryKey: ['room', 'minute'], columns: { gifts: 'INTEGER', revenueCents: 'BIGINT' } });
    minutes.sinkTo(olap, { name: 'revenue-duckdb', uid: 'revenue-duckdb' });
  }
});
