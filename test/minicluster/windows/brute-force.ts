/** Plain in-memory computations of what the window and changelog jobs should produce. */
import { type Change, SeededRandom } from 'weir';
import { event, type Event, type WindowResult } from './jobs/windows-job.ts';

export function generate(count: number, seed: number, keys: number): Event[] {
  const r = new SeededRandom();
  return Array.from({ length: count }, (_, i) => event(i, r.reset(seed, i), keys));
}

export const eventId = (e: Event): string => `${e.id}@${e.ts}`;

const put = (m: Map<string, [number, number]>, id: string, v: number): void => {
  const x = m.get(id) ?? [0, 0];
  m.set(id, [x[0] + v, x[1] + 1]);
};

/** "key@start-end=sum/n" for every aligned window (size, slide) of the events. */
export function alignedWindows(events: readonly Event[], size: number, slide: number): string[] {
  const m = new Map<string, [number, number]>();
  for (const e of events) {
    for (let end = Math.floor(e.ts / slide) * slide + slide; end - size <= e.ts; end += slide) put(m, `${e.k}@${end - size}-${end}`, e.v);
  }
  return [...m].map(([id, [s, n]]) => `${id}=${s}/${n}`).sort();
}

export function sessionWindows(events: readonly Event[], gap: number): string[] {
  const byKey = new Map<string, Event[]>();
  for (const e of events) byKey.set(e.k, [...(byKey.get(e.k) ?? []), e]);
  const out: string[] = [];
  for (const [k, es] of byKey) {
    es.sort((a, b) => a.ts - b.ts);
    let start = es[0]!.ts;
    let end = start + gap;
    let sum = 0;
    let n = 0;
    for (const e of es) {
      if (e.ts > end) {
        out.push(`${k}@${start}-${end}=${sum}/${n}`);
        start = e.ts;
        sum = 0;
        n = 0;
      }
      end = Math.max(end, e.ts + gap);
      sum += e.v;
      n++;
    }
    out.push(`${k}@${start}-${end}=${sum}/${n}`);
  }
  return out.sort();
}

/** Last result per window; for sessions, windows replaced by a later larger one of the same key are left out. */
export function finalWindows(results: readonly WindowResult[], sessions = false): string[] {
  const last = new Map<string, WindowResult>();
  for (const w of results) last.set(`${w.key}@${w.start}-${w.end}`, w);
  let all = [...last.values()];
  if (sessions) all = all.filter((w) => !all.some((o) => o !== w && o.key === w.key && o.start <= w.start && o.end >= w.end));
  return all.map((w) => `${w.key}@${w.start}-${w.end}=${w.sum}/${w.n}`).sort();
}

/** Applies a changelog to a table keyed by `key` (what an upsert sink does). */
export function applyChangelog<T>(changes: readonly Change<T>[], key: (row: T) => string): Map<string, T> {
  const table = new Map<string, T>();
  for (const c of changes) {
    if (c.kind === '+I' || c.kind === '+U') table.set(key(c.row), c.row);
    else table.delete(key(c.row));
  }
  return table;
}
