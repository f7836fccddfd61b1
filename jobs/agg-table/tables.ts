/**
 * The two Paimon aggregation tables of the agg-table job (merge-engine = aggregation: rows with
 * one primary key are merged field by field by each field's aggregate function, at write, at
 * compaction and at read):
 *
 *   user_daily (dt, user_id)   events sum (of 1 per event), purchases sum, amount_cents sum,
 *                              max_amount_cents max, first_ts min, last_ts max
 *   daily_totals (dt)          events sum, amount_cents sum, users max (the running exact
 *                              distinct-user count of the day, which only grows)
 */
import { T, type SchemaDefinition } from 'weir/lake';

export const USER_DAILY: SchemaDefinition = {
  fields: [
    { name: 'dt', type: T.notNull(T.string()) },
    { name: 'user_id', type: T.notNull(T.int()) },
    { name: 'events', type: T.bigint() },
    { name: 'purchases', type: T.bigint() },
    { name: 'amount_cents', type: T.bigint() },
    { name: 'max_amount_cents', type: T.bigint() },
    { name: 'first_ts', type: T.bigint() },
    { name: 'last_ts', type: T.bigint() },
  ],
  primaryKeys: ['dt', 'user_id'],
  options: {
    bucket: '2',
    'merge-engine': 'aggregation',
    'fields.events.aggregate-function': 'sum',
    'fields.purchases.aggregate-function': 'sum',
    'fields.amount_cents.aggregate-function': 'sum',
    'fields.max_amount_cents.aggregate-function': 'max',
    'fields.first_ts.aggregate-function': 'min',
    'fields.last_ts.aggregate-function': 'max',
  },
};

export const DAILY_TOTALS: SchemaDefinition = {
  fields: [
    { name: 'dt', type: T.notNull(T.string()) },
    { name: 'events', type: T.bigint() },
    { name: 'amount_cents', type: T.bigint() },
    { name: 'users', type: T.bigint() },
  ],
  primaryKeys: ['dt'],
  options: {
    bucket: '1',
    'merge-engine': 'aggregation',
    'fields.events.aggregate-function': 'sum',
    'fields.amount_cents.aggregate-function': 'sum',
    'fields.users.aggregate-function': 'max',
  },
};

/** A row of user_daily as the job writes it: one per event (the table sums them up). */
export interface UserDailyRow {
  dt: string;
  user_id: number;
  events: bigint;
  purchases: bigint;
  amount_cents: bigint;
  max_amount_cents: bigint;
  first_ts: bigint;
  last_ts: bigint;
}

/** A row of daily_totals as the job writes it: an event's contribution, or a new distinct-user count. */
export interface DailyTotalsRow {
  dt: string;
  events: bigint | null;
  amount_cents: bigint | null;
  users: bigint | null;
}
