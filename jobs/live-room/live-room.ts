/**
 * The live-room job: a live-streaming platform's real-time lakehouse (jobs/live-room/README.md).
 *
 *     gift + payment events ──┬─> ODS lake tables (raw events)
 *                             ├─> DAU / eDAU per day, early result every minute ─> OLAP `daily_users`
 *                             └─> temporal join rooms ─> temporal join anchors ─┬─> revenue per room+anchor per minute ─> OLAP `room_revenue`
 *     rooms changelog ───────────> ODS `ods_rooms` (and the join's versioned table)  │     └─> per anchor per minute ─┬─> top-10 per minute ─> OLAP `anchor_top10`
 *     anchors changelog ─────────> ODS `ods_anchors` (and the join's versioned table)│                                └─> lake aggregation table `dws_anchor_daily`
 *                                                                              └─> 5-min sliding P&L per room ─> alerts (side output) ─> console/Kafka + OLAP `pnl_alerts`
 *
 * Everything is event time: the windows fire when the watermark passes their end, the temporal
 * joins pick the dimension versions valid at each event's time, so results do not depend on
 * parallelism, arrival order or restarts (tests compare them with a brute-force computation).
 */
import {
  continuousEventTimeTrigger,
  countDistinct,
  defineJob,
  OutputTag,
  slidingEventTimeWindows,
  tumblingEventTimeWindows,
  type AggregateFunction,
  weirHome,
} from 'weir';
import path from 'node:path';
import { resolveData, type LiveRoomData } from './generator.ts';
import { dimensionChangelogs, liveEvents, type DimensionSourceConfig, type EventSourceConfig } from './inputs.ts';
import {
  costOf,
  DAY_MS,
  isoDay,
  isoMinute,
  isPaying,
  MINUTE_MS,
  PNL_SLIDE_MS,
  PNL_WINDOW_MS,
  TOP_N,
  type AnchorDay,
  type AnchorMinute,
  type AnchorRank,
  type DailyUsers,
  type LiveEvent,
  type PnlAlert,
  type RoomEvent,
  type RoomMinute,
} from './model.ts';
import { anchorDailyTable, anchorTable, giftTable, LAKE_TABLES, OLAP_SCHEMAS, paymentTable, roomTable, toAlerts, toBadEvents, toLake, toOlap, type AlertConfig, type BadEventsConfig, type OlapConfig } from './sinks.ts';

export interface LiveRoomParams extends LiveRoomData {
  /** Events per second of wall-clock time over all source subtasks (default: as fast as possible; the generator only). */
  ratePerSecond?: number;
  /** Where the gift and payment events come from (default the generator: `events` of them). */
  eventSource?: EventSourceConfig;
  /** Where the `rooms` and `anchors` tables come from (default the generated changelogs). */
  dimensions?: DimensionSourceConfig;
  /** Where Kafka records that are not valid events go (default the console). */
  badEvents?: BadEventsConfig;
  /** The lake: a directory holding one Paimon table per name in LAKE_TABLES (default `$WEIR_HOME/live-room/lake`). */
  lake?: string;
  /** The OLAP store of the aggregates (default DuckDB files in the lake's sibling directory `olap`). */
  olap?: OlapConfig;
  /** Where alerts go besides the OLAP table (default the console). */
  alerts?: AlertConfig;
}

export const PNL_ALERTS = new OutputTag<PnlAlert>('pnl-alerts');

interface Totals {
  gifts: number;
  payments: number;
  revenueCents: number;
  costCents: number;
}

/** Sums of a room's (or room and anchor's) events; the accumulator is a fresh object per add, as window state wants. */
const totals: AggregateFunction<RoomEvent, Totals, Totals> = {
  createAccumulator: () => ({ gifts: 0, payments: 0, revenueCents: 0, costCents: 0 }),
  add: (e, a) => ({
    gifts: a.gifts + (e.kind === 'gift' ? 1 : 0),
    payments: a.payments + (e.kind === 'payment' ? 1 : 0),
    revenueCents: a.revenueCents + e.amountCents,
    costCents: a.costCents + e.costCents,
  }),
  merge: (a, b) => ({ gifts: a.gifts + b.gifts, payments: a.payments + b.payments, revenueCents: a.revenueCents + b.revenueCents, costCents: a.costCents + b.costCents }),
  getResult: (a) => a,
};

const anchorTotals: AggregateFunction<RoomMinute, { revenueCents: number; gifts: number }, { revenueCents: number; gifts: number }> = {
  createAccumulator: () => ({ revenueCents: 0, gifts: 0 }),
  add: (r, a) => ({ revenueCents: a.revenueCents + r.revenueCents, gifts: a.gifts + r.gifts }),
  merge: (a, b) => ({ revenueCents: a.revenueCents + b.revenueCents, gifts: a.gifts + b.gifts }),
  getResult: (a) => a,
};

/** Highest revenue first; ties by anchor id, so the ranking does not depend on arrival order. */
export function byRevenue(a: AnchorMinute, b: AnchorMinute): number {
  return b.revenueCents - a.revenueCents || a.anchor - b.anchor;
}

export default defineJob(import.meta.url, (env, given: LiveRoomParams) => {
  const lake = given.lake ?? path.join(weirHome(), 'live-room', 'lake');
  const params = { ...given, lake, olap: given.olap ?? ({ type: 'duckdb', dir: path.join(path.dirname(lake), 'olap') } as const) };
  const d = resolveData(params);
  const { events, bad } = liveEvents(env, d, params.eventSource ?? { type: 'generator', ...(params.ratePerSecond ? { ratePerSecond: params.ratePerSecond } : {}) });
  if (bad) toBadEvents(bad, params.badEvents ?? { type: 'console' });
  // The dimension tables' changelogs, each change stamped with the time from which its version is valid.
  const { rooms: roomChanges, anchors: anchorChanges } = dimensionChangelogs(env, d, params.dimensions ?? { type: 'generator' });

  // ODS: raw events and the dimension tables, as they came.
  toLake(
    events.flatMap<{ id: number; room: number; user: number; gift: string; amountCents: number; ts: number }>((e, out) => {
      if (e.kind === 'gift') out.collect({ id: e.id, room: e.room, user: e.user, gift: e.gift, amountCents: e.amountCents, ts: e.ts });
    }, { name: 'gift-events' }),
    params.lake, LAKE_TABLES.gifts, giftTable,
  );
  toLake(
    events.flatMap<{ id: number; room: number; user: number; product: string; amountCents: number; ts: number }>((e, out) => {
      if (e.kind === 'payment') out.collect({ id: e.id, room: e.room, user: e.user, product: e.product, amountCents: e.amountCents, ts: e.ts });
    }, { name: 'payment-events' }),
    params.lake, LAKE_TABLES.payments, paymentTable,
  );
  toLake(roomChanges, params.lake, LAKE_TABLES.rooms, roomTable, 1);
  toLake(anchorChanges, params.lake, LAKE_TABLES.anchors, anchorTable, 1);

  // Each event with the room and anchor valid at its time (versioned tables in keyed state: LMDB by default).
  const enriched = events
    .temporalJoin(roomChanges)
    .where((e) => e.room)
    .equalTo((r) => r.id)
    .apply((e, room) => ({ e, room }), { name: 'join-rooms', uid: 'join-rooms' })
    .temporalJoin(anchorChanges)
    .where((x) => x.room.anchor)
    .equalTo((a) => a.id)
    .apply(
      ({ e, room }, anchor): RoomEvent => ({ kind: e.kind, room: e.room, anchor: room.anchor, user: e.user, amountCents: e.amountCents, costCents: costOf(e, room, anchor), ts: e.ts }),
      { kind: 'left', name: 'join-anchors', uid: 'join-anchors' },
    );

  // Revenue per room and anchor per minute.
  const roomMinutes = enriched
    .keyBy((e) => `${e.room}/${e.anchor}`)
    .window(tumblingEventTimeWindows(MINUTE_MS))
    .aggregate(
      totals,
      (t, ctx): RoomMinute => {
        const [room, anchor] = ctx.key.split('/').map(Number) as [number, number];
        return { minute: isoMinute(ctx.window.start), room, anchor, ...t };
      },
      { name: 'room-revenue-per-minute', uid: 'room-revenue-per-minute' },
    );
  toOlap(roomMinutes, params.olap, { table: 'room_revenue', ...OLAP_SCHEMAS.room_revenue });

  // Per anchor per minute: the ranking's input and the daily aggregation table's.
  const anchorMinutes = roomMinutes
    .keyBy((r) => r.anchor)
    .window(tumblingEventTimeWindows(MINUTE_MS))
    .aggregate(anchorTotals, (t, ctx): AnchorMinute => ({ minuteStart: ctx.window.start, anchor: ctx.key, ...t }), { name: 'anchor-revenue-per-minute', uid: 'anchor-revenue-per-minute' });
  const ranking = anchorMinutes
    .keyBy((a) => a.minuteStart)
    .window(tumblingEventTimeWindows(MINUTE_MS))
    .topN(TOP_N, byRevenue, { name: 'anchor-top10', uid: 'anchor-top10' })
    .map((r): AnchorRank => ({ minute: isoMinute(r.windowStart), rank: r.rank, anchor: r.row.anchor, revenueCents: r.row.revenueCents }), { name: 'anchor-rank-rows' });
  toOlap(ranking, params.olap, { table: 'anchor_top10', ...OLAP_SCHEMAS.anchor_top10 });
  toLake(
    anchorMinutes.map((a): AnchorDay => ({ day: isoDay(a.minuteStart), anchor: a.anchor, revenueCents: a.revenueCents, gifts: a.gifts }), { name: 'anchor-day-rows' }),
    params.lake, LAKE_TABLES.anchorDaily, anchorDailyTable,
  );

  // DAU (users with any event) and eDAU (users with a paying one) per UTC day, exact, with an
  // early result at every minute of event time before the day is complete.
  const dailyUsers = events
    .flatMap<{ metric: 'dau' | 'edau'; user: number }>((e, out) => {
      out.collect({ metric: 'dau', user: e.user });
      if (isPaying(e)) out.collect({ metric: 'edau', user: e.user });
    }, { name: 'user-activity' })
    .keyBy((u) => u.metric)
    .window(tumblingEventTimeWindows(DAY_MS))
    .earlyFiring(continuousEventTimeTrigger(MINUTE_MS))
    .aggregate(
      countDistinct<{ metric: 'dau' | 'edau'; user: number }>('user'),
      (users, ctx): DailyUsers => {
        const final = ctx.firing !== 'early';
        const asOf = final ? ctx.window.end : Math.min(ctx.window.end, Math.floor((ctx.currentWatermark() + 1) / MINUTE_MS) * MINUTE_MS);
        return { day: isoDay(ctx.window.start), metric: ctx.key, users, asOf: isoMinute(asOf), final };
      },
      { name: 'daily-users', uid: 'daily-users' },
    );
  toOlap(dailyUsers, params.olap, { table: 'daily_users', ...OLAP_SCHEMAS.daily_users });

  // Profit and loss per room over 5 minutes, every minute; a loss is an alert, on a side output.
  const pnl = enriched
    .keyBy((e) => e.room)
    .window(slidingEventTimeWindows(PNL_WINDOW_MS, PNL_SLIDE_MS))
    .aggregate(totals, (t, ctx) => ({ room: ctx.key, windowStart: ctx.window.start, windowEnd: ctx.window.end, ...t }), { name: 'room-pnl-5min', uid: 'room-pnl-5min' })
    .process<never>(
      {
        processElement(p, ctx) {
          if (p.costCents > p.revenueCents) {
            ctx.output(PNL_ALERTS, { room: p.room, windowStart: isoMinute(p.windowStart), windowEnd: isoMinute(p.windowEnd), revenueCents: p.revenueCents, costCents: p.costCents });
          }
        },
      },
      { name: 'pnl-alerts' },
    );
  const alerts = pnl.getSideOutput(PNL_ALERTS);
  toOlap(alerts, params.olap, { table: 'pnl_alerts', ...OLAP_SCHEMAS.pnl_alerts });
  toAlerts(alerts, params.alerts ?? { type: 'console' });
});
