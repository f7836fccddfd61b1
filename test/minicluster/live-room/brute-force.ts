/**
 * What every output of the live-room job must hold, computed by brute force over the same
 * generated input: plain loops over all events and all dimension changes, no windows, no state,
 * no watermarks. Written apart from the job (only the generator and the record types are shared),
 * so a mistake in the job's operators or wiring shows up as a difference.
 */
import { SeededRandom, type Change } from 'weir';
import {
  anchorChange,
  anchorChangeCount,
  anchorChangeTime,
  liveEvent,
  resolveData,
  roomChange,
  roomChangeCount,
  roomChangeTime,
  type LiveRoomData,
} from '../../../jobs/live-room/generator.ts';
import type { Anchor, LiveEvent, Room } from '../../../jobs/live-room/model.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const minuteOf = (ms: number): string => iso(ms).slice(0, 16) + 'Z';

export interface Expected {
  roomRevenue: string[];
  top10: string[];
  dailyUsers: string[];
  alerts: string[];
  anchorDaily: string[];
  gifts: string[];
  payments: string[];
  rooms: string[];
  anchors: string[];
  alertCount: number;
}

/** The version of a key valid at time t: the last change at or before t (a deletion: none). */
function versionAt<D>(changes: { time: number; change: Change<D> }[], t: number): D | null {
  let found: D | null = null;
  for (const c of changes) {
    if (c.time > t) break;
    if (c.change.kind === '-U') continue;
    found = c.change.kind === '-D' ? null : c.change.row;
  }
  return found;
}

function changelog<D extends { id: number }>(count: number, seed: number, gen: (j: number, r: SeededRandom) => Change<D>, time: (j: number) => number): Map<number, { time: number; change: Change<D> }[]> {
  const byKey = new Map<number, { time: number; change: Change<D> }[]>();
  const random = new SeededRandom();
  for (let j = 0; j < count; j++) {
    const change = gen(j, random.reset(seed, j));
    const list = byKey.get(change.row.id) ?? [];
    list.push({ time: time(j), change });
    byKey.set(change.row.id, list);
  }
  for (const list of byKey.values()) list.sort((a, b) => a.time - b.time);
  return byKey;
}

function add(map: Map<string, number[]>, key: string, values: number[]): void {
  const acc = map.get(key);
  if (!acc) map.set(key, values.slice());
  else for (let i = 0; i < values.length; i++) acc[i]! += values[i]!;
}

export function bruteForce(input: LiveRoomData): Expected {
  const d = resolveData(input);
  const rooms = changelog<Room>(roomChangeCount(d), d.seed + 1, (j, r) => roomChange(j, r, d), (j) => roomChangeTime(j, d));
  const anchors = changelog<Anchor>(anchorChangeCount(d), d.seed + 2, (j, r) => anchorChange(j, r, d), (j) => anchorChangeTime(j, d));
  const events: LiveEvent[] = [];
  const random = new SeededRandom();
  for (let i = 0; i < d.events; i++) events.push(liveEvent(i, random.reset(d.seed, i), d));

  const roomMinute = new Map<string, number[]>(); // minute|room|anchor -> gifts, payments, revenue, cost
  const anchorMinute = new Map<string, number[]>(); // minuteStart|anchor -> revenue, gifts
  const roomSlices = new Map<number, Map<number, number[]>>(); // room -> minuteStart -> revenue, cost
  const users = new Map<string, Set<number>>(); // day|metric -> users
  for (const e of events) {
    const room = versionAt(rooms.get(e.room) ?? [], e.ts);
    if (room === null) continue; // an inner join: every room exists from before the first event, so never
    const anchor = versionAt(anchors.get(room.anchor) ?? [], e.ts);
    const share = anchor === null ? 50 : anchor.sharePct;
    const cost = Math.floor((e.amountCents * share) / 100) + (e.kind === 'gift' ? room.subsidyCents : 0);
    const minute = Math.floor(e.ts / MIN) * MIN;
    add(roomMinute, `${minuteOf(minute)}|${e.room}|${room.anchor}`, [e.kind === 'gift' ? 1 : 0, e.kind === 'payment' ? 1 : 0, e.amountCents, cost]);
    add(anchorMinute, `${minute}|${room.anchor}`, [e.amountCents, e.kind === 'gift' ? 1 : 0]);
    const slices = roomSlices.get(e.room) ?? new Map<number, number[]>();
    roomSlices.set(e.room, slices);
    const s = slices.get(minute) ?? [0, 0];
    s[0]! += e.amountCents;
    s[1]! += cost;
    slices.set(minute, s);
    const day = iso(Math.floor(e.ts / DAY) * DAY).slice(0, 10);
    const paying = e.kind === 'payment' || e.amountCents > 0;
    for (const metric of paying ? ['dau', 'edau'] : ['dau']) {
      const set = users.get(`${day}|${metric}`) ?? new Set<number>();
      set.add(e.user);
      users.set(`${day}|${metric}`, set);
    }
  }

  const roomRevenue = [...roomMinute].map(([k, v]) => `${k}|${v.join('|')}`);

  const perMinute = new Map<number, { anchor: number; revenue: number }[]>();
  const anchorDay = new Map<string, number[]>();
  for (const [k, [revenue, gifts]] of anchorMinute) {
    const [minute, anchor] = k.split('|').map(Number) as [number, number];
    const list = perMinute.get(minute) ?? [];
    list.push({ anchor, revenue: revenue! });
    perMinute.set(minute, list);
    add(anchorDay, `${iso(minute).slice(0, 10)}|${anchor}`, [revenue!, gifts!]);
  }
  const top10: string[] = [];
  for (const [minute, list] of perMinute) {
    list.sort((a, b) => b.revenue - a.revenue || a.anchor - b.anchor);
    list.slice(0, 10).forEach((a, i) => top10.push(`${minuteOf(minute)}|${i + 1}|${a.anchor}|${a.revenue}`));
  }

  const alerts: string[] = [];
  for (const [room, slices] of roomSlices) {
    const starts = new Set<number>();
    for (const m of slices.keys()) for (let k = 0; k < 5; k++) starts.add(m - k * MIN);
    for (const start of starts) {
      let revenue = 0;
      let cost = 0;
      for (let m = start; m < start + 5 * MIN; m += MIN) {
        const s = slices.get(m);
        if (s) {
          revenue += s[0]!;
          cost += s[1]!;
        }
      }
      if (cost > revenue) alerts.push(`${room}|${minuteOf(start)}|${minuteOf(start + 5 * MIN)}|${revenue}|${cost}`);
    }
  }

  const dailyUsers = [...users].map(([k, set]) => {
    const [day] = k.split('|');
    return `${k}|${set.size}|${minuteOf(Date.parse(`${day}T00:00:00Z`) + DAY)}|true`;
  });

  const finalRows = <D extends { id: number }>(log: Map<number, { time: number; change: Change<D> }[]>, text: (row: D) => string): string[] => {
    const out: string[] = [];
    for (const list of log.values()) {
      const last = list[list.length - 1]!.change;
      if (last.kind !== '-D') out.push(text(last.row));
    }
    return out.sort();
  };

  return {
    roomRevenue: roomRevenue.sort(),
    top10: top10.sort(),
    dailyUsers: dailyUsers.sort(),
    alerts: alerts.sort(),
    alertCount: alerts.length,
    anchorDaily: [...anchorDay].map(([k, v]) => `${k}|${v.join('|')}`).sort(),
    gifts: events.filter((e) => e.kind === 'gift').map((e) => `${e.id}|${e.room}|${e.user}|${e.kind === 'gift' ? e.gift : ''}|${e.amountCents}|${e.ts}`).sort(),
    payments: events.filter((e) => e.kind === 'payment').map((e) => `${e.id}|${e.room}|${e.user}|${e.kind === 'payment' ? e.product : ''}|${e.amountCents}|${e.ts}`).sort(),
    rooms: finalRows<Room>(rooms, (r) => `${r.id}|${r.title}|${r.anchor}|${r.subsidyCents}`),
    anchors: finalRows<Anchor>(anchors, (a) => `${a.id}|${a.name}|${a.sharePct}`),
  };
}
