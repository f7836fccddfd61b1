/**
 * The live-room job's generated input: gift and payment events and the changelogs of the `rooms`
 * and `anchors` tables. Every record is a pure function of (configuration, seed, index), so a test
 * can regenerate exactly what the job read, and so can any subtask at any parallelism (datagen
 * reseeds its random per record).
 *
 * Events: `eventsPerSecond` of event time from `start`, each up to 3 s early (out of order), about
 * 10% payments and 90% gifts (45% of gifts are free likes). A few hot rooms get 40% of the events.
 * Dimension changelogs: every row inserted one minute before the first event, then changes spread
 * evenly over the events' time span, in time order (a CDC stream is ordered per table): rooms change
 * anchor and subsidy (+U), anchors change share (+U) or leave (-D, and may come back with a +U).
 */
import { deletion, insert, updateAfter, type Change, type SeededRandom } from 'weir';
import { MINUTE_MS, type Anchor, type LiveEvent, type Room } from './model.ts';

export interface LiveRoomData {
  /** Events in total. */
  events: number;
  /** Events per second of event time (default 400): sets how many minutes the events span. */
  eventsPerSecond?: number;
  rooms?: number;
  anchors?: number;
  users?: number;
  /** Changes after the initial rows (defaults: one per room, one per two anchors). */
  roomChanges?: number;
  anchorChanges?: number;
  seed?: number;
  /** Event time of the first event (epoch ms; default 2026-11-21 23:55 UTC, so the events cross midnight). */
  start?: number;
}

export type ResolvedData = Required<LiveRoomData>;

/** How far before its place in the sequence an event's time may be (the watermark's bound). */
export const MAX_EARLY_MS = 3000;

export function resolveData(d: LiveRoomData): ResolvedData {
  const rooms = d.rooms ?? 40;
  const anchors = d.anchors ?? 60;
  return {
    events: d.events,
    eventsPerSecond: d.eventsPerSecond ?? 400,
    rooms,
    anchors,
    users: d.users ?? 100_000,
    roomChanges: d.roomChanges ?? rooms,
    anchorChanges: d.anchorChanges ?? Math.ceil(anchors / 2),
    seed: d.seed ?? 2026,
    start: d.start ?? Date.UTC(2026, 10, 21, 23, 55, 0),
  };
}

/** The event time the events span: [start - MAX_EARLY_MS, start + spanMs). */
export function spanMs(d: ResolvedData): number {
  return Math.ceil((d.events * 1000) / d.eventsPerSecond);
}

const GIFTS: readonly (readonly [string, number, number])[] = [
  // name, price in cents, cumulative probability
  ['like', 0, 0.45],
  ['rose', 10, 0.8],
  ['heart', 50, 0.9],
  ['star', 100, 0.96],
  ['rocket', 2000, 0.99],
  ['castle', 10_000, 1],
];
const PRODUCTS: readonly (readonly [string, number])[] = [
  ['effect', 300],
  ['fan-club', 600],
  ['super-chat', 1000],
];

/** Event i. */
export function liveEvent(i: number, random: SeededRandom, d: ResolvedData): LiveEvent {
  const ts = d.start + Math.floor((i * 1000) / d.eventsPerSecond) - random.int(MAX_EARLY_MS);
  const room = random.next() < 0.4 ? random.int(Math.min(5, d.rooms)) : random.int(d.rooms);
  const user = random.next() < 0.5 ? random.int(Math.max(1, Math.floor(d.users / 20))) : random.int(d.users);
  if (random.next() < 0.1) {
    const [product, amountCents] = random.pick(PRODUCTS);
    return { kind: 'payment', id: i, room, user, product, amountCents, ts };
  }
  const p = random.next();
  const [gift, amountCents] = GIFTS.find((g) => p < g[2])!;
  return { kind: 'gift', id: i, room, user, gift, amountCents, ts };
}

/** The time of the k-th change (0-based) of `changes`: spread over the events' span, strictly increasing. */
function changeTime(k: number, changes: number, d: ResolvedData): number {
  return d.start + Math.floor(((k + 1) * spanMs(d)) / (changes + 1)) + 1;
}

export function roomChangeCount(d: ResolvedData): number {
  return d.rooms + d.roomChanges;
}

export function anchorChangeCount(d: ResolvedData): number {
  return d.anchors + d.anchorChanges;
}

/** The time of change j of the `rooms` changelog: its version is valid from then on. */
export function roomChangeTime(j: number, d: ResolvedData): number {
  return j < d.rooms ? d.start - MINUTE_MS : changeTime(j - d.rooms, d.roomChanges, d);
}

/** Change j of the `rooms` changelog. */
export function roomChange(j: number, random: SeededRandom, d: ResolvedData): Change<Room> {
  if (j < d.rooms) return insert({ id: j, title: `room ${j}`, anchor: j % d.anchors, subsidyCents: j % 7 === 3 ? 80 : 0 });
  const id = random.int(d.rooms);
  const subsidyCents = random.next() < 0.25 ? 40 + 20 * random.int(4) : 0;
  return updateAfter({ id, title: `room ${id}`, anchor: random.int(d.anchors), subsidyCents });
}

const NAMES = ['Luna', 'Milo', 'Aria', 'Kai', 'Nova', 'Leo', 'Iris', 'Finn', 'Zoe', 'Remy', 'Sage', 'Ivy'];

export function anchorName(id: number): string {
  return `${NAMES[id % NAMES.length]}-${Math.floor(id / NAMES.length) + 1}`;
}

export function anchorChangeTime(j: number, d: ResolvedData): number {
  return j < d.anchors ? d.start - MINUTE_MS : changeTime(j - d.anchors, d.anchorChanges, d);
}

/** Change j of the `anchors` changelog. */
export function anchorChange(j: number, random: SeededRandom, d: ResolvedData): Change<Anchor> {
  if (j < d.anchors) return insert({ id: j, name: anchorName(j), sharePct: 40 + random.int(31) });
  const id = random.int(d.anchors);
  const row = { id, name: anchorName(id), sharePct: 40 + random.int(31) };
  return random.next() < 0.15 ? deletion(row) : updateAfter(row);
}
