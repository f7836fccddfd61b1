/**
 * The T+1 cumulative table, replaced: instead of a nightly batch job that recomputes yesterday's
 * per-user counters and sums (and the day's distinct users) from the raw events, the stream keeps
 * two Paimon aggregation tables up to date (tables.ts), and a batch query reads a day once the
 * tables' watermark has passed its end (`weir lake wait`, query.ts). See README.md.
 *
 *   events (datagen, event time) --+--> one row per event ---------------------> user_daily
 *                                  +--> one row per event --+
 *                                  +--> keyBy(day).countDistinct(user) ------+--> daily_totals
 */
import { datagen, defineJob, WatermarkStrategy } from 'weir';
import { lakeSink } from 'weir/lake';
import { dayOf, generateEvent, type EventParams, type UserEvent } from './events.ts';
import { DAILY_TOTALS, USER_DAILY, type DailyTotalsRow, type UserDailyRow } from './tables.ts';

export interface AggTableParams extends EventParams {
  /** The lake warehouse: tables at <warehouse>/user_daily and <warehouse>/daily_totals. */
  warehouse: string;
  /** Events per second over all subtasks (omit: as fast as possible). */
  ratePerSecond?: number;
}

export default defineJob(import.meta.url, (env, p: AggTableParams) => {
  const events = env.fromSource(
    datagen<UserEvent>({ name: 'user-events', count: p.count, seed: p.seed, splits: 6, ...(p.ratePerSecond ? { ratePerSecond: p.ratePerSecond } : {}), generate: (i, r) => generateEvent(p, i, r) }),
    { uid: 'user-events', watermarks: WatermarkStrategy.forMonotonousTimestamps<UserEvent>((e) => e.ts) },
  );

  events
    .map<UserDailyRow>((e) => {
      const amount = BigInt(e.amountCents);
      const ts = BigInt(e.ts);
      return { dt: dayOf(e.ts), user_id: e.userId, events: 1n, purchases: e.type === 'purchase' ? 1n : 0n, amount_cents: amount, max_amount_cents: amount, first_ts: ts, last_ts: ts };
    }, { name: 'user-daily-row' })
    .sinkTo(lakeSink<UserDailyRow>({ path: `${p.warehouse}/user_daily`, schema: USER_DAILY }), { uid: 'user-daily' });

  const perEvent = events.map<DailyTotalsRow>((e) => ({ dt: dayOf(e.ts), events: 1n, amount_cents: BigInt(e.amountCents), users: null }), { name: 'daily-totals-row' });
  const distinctUsers = events
    .keyBy((e) => dayOf(e.ts))
    .countDistinct((e) => e.userId, { uid: 'daily-distinct-users' })
    .flatMap<DailyTotalsRow>((c, out) => {
      // the running count only grows: +I/+U carry it, -U is the old value (the table keeps the max)
      if (c.kind === '+I' || c.kind === '+U') out.collect({ dt: c.row.key, events: null, amount_cents: null, users: BigInt(c.row.count) });
    }, { name: 'daily-users-row' });
  perEvent.union(distinctUsers).sinkTo(lakeSink<DailyTotalsRow>({ path: `${p.warehouse}/daily_totals`, schema: DAILY_TOTALS }), { uid: 'daily-totals' });
});
