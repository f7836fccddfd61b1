/**
 * The live-room job's records: what the platform's apps send (gift and payment events), the two
 * dimension tables (`rooms`, `anchors`) as the changelog a CDC source would give, and the rows the
 * job writes. Money is in cents (integers), times in epoch ms (UTC).
 */

/** A user sent a gift in a room. Free gifts (`amountCents` 0, e.g. a like) count as activity, not as paying. */
export interface GiftEvent {
  kind: 'gift';
  id: number;
  room: number;
  user: number;
  gift: string;
  amountCents: number;
  ts: number;
}

/** A user paid in a room (a fan-club membership, a paid effect): always paying. */
export interface PaymentEvent {
  kind: 'payment';
  id: number;
  room: number;
  user: number;
  product: string;
  amountCents: number;
  ts: number;
}

export type LiveEvent = GiftEvent | PaymentEvent;

/** The `rooms` table: which anchor hosts the room, and the platform's subsidy paid per gift (promotions). */
export interface Room {
  id: number;
  title: string;
  anchor: number;
  subsidyCents: number;
}

/** The `anchors` table: the anchor's share of the revenue of their rooms. */
export interface Anchor {
  id: number;
  name: string;
  sharePct: number;
}

/** An event joined with the versions of its room and anchor valid at the event's time. */
export interface RoomEvent {
  kind: 'gift' | 'payment';
  room: number;
  anchor: number;
  user: number;
  amountCents: number;
  /** What the event costs the platform: the anchor's share of it plus, for gifts, the room's subsidy. */
  costCents: number;
  ts: number;
}

/** Revenue per room and anchor per event-time minute (`minute` is the minute's start, ISO UTC). */
export interface RoomMinute {
  minute: string;
  room: number;
  anchor: number;
  gifts: number;
  payments: number;
  revenueCents: number;
  costCents: number;
}

/** One anchor's revenue in one minute: the input of the ranking and of the daily aggregation table. */
export interface AnchorMinute {
  minuteStart: number;
  anchor: number;
  revenueCents: number;
  gifts: number;
}

/** Rank `rank` of the minute's top-10 anchors by revenue. */
export interface AnchorRank {
  minute: string;
  rank: number;
  anchor: number;
  revenueCents: number;
}

/** Distinct users of a UTC day: `dau` (any event) or `edau` (a paying one), as of `asOf`; `final` once the day is complete. */
export interface DailyUsers {
  day: string;
  metric: 'dau' | 'edau';
  users: number;
  asOf: string;
  final: boolean;
}

/** A room whose cost exceeded its revenue over the sliding window [windowStart, windowEnd). */
export interface PnlAlert {
  room: number;
  windowStart: string;
  windowEnd: string;
  revenueCents: number;
  costCents: number;
}

/** One anchor-minute's contribution to the anchor's day in the Paimon aggregation table (which sums them). */
export interface AnchorDay {
  day: string;
  anchor: number;
  revenueCents: number;
  gifts: number;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
/** The ranking's length. */
export const TOP_N = 10;
/** The profit-and-loss window: 5 minutes, sliding by 1. */
export const PNL_WINDOW_MS = 5 * MINUTE_MS;
export const PNL_SLIDE_MS = MINUTE_MS;

export function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Paying actions make a user count towards eDAU: a payment, or a gift that is not free. */
export function isPaying(e: { kind: 'gift' | 'payment'; amountCents: number }): boolean {
  return e.kind === 'payment' || e.amountCents > 0;
}

/** The cost of an event to the platform (see RoomEvent.costCents). */
export function costOf(e: { kind: 'gift' | 'payment'; amountCents: number }, room: Room, anchor: Anchor | null): number {
  const share = anchor?.sharePct ?? DEFAULT_SHARE_PCT;
  return Math.floor((e.amountCents * share) / 100) + (e.kind === 'gift' ? room.subsidyCents : 0);
}

/** The share of an anchor missing from the `anchors` table (deleted, or not yet there). */
export const DEFAULT_SHARE_PCT = 50;
