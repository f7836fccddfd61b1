/**
 * Automatic tags, with Java Paimon's options and rules (TagAutoCreation):
 *
 *   tag.automatic-creation  none | process-time | watermark
 *   tag.creation-period     daily | hourly | two-hours
 *   tag.creation-delay      extra time after a period's end before its tag is made (default 0)
 *   tag.period-formatter    with_dashes (2026-12-04, 2026-12-04 13) | without_dashes (20261204, 20261204 13)
 *   tag.num-retained-max    auto tags kept (the oldest go first)
 *   tag.default-time-retained  time to live written into each tag
 *   sink.watermark-time-zone   the zone watermarks are read in (default UTC)
 *
 * After each commit the committer runs `run()`: for every new snapshot, the time is its watermark
 * (or its commit time for process-time, in this process's zone); once that time minus the delay
 * reaches the end of the next period to tag, the previous full period is tagged on this snapshot. So
 * the tag of day D is the first snapshot whose watermark passed the end of D: it holds every row of
 * day D that arrived before the watermark, which is what a T+1 batch job must read.
 */
import { ConfigError } from '../errors.ts';
import { parseDuration } from './options.ts';
import type { Snapshot } from '../format/snapshot.ts';
import type { FileStoreTable } from './table.ts';
import { TagManager } from './tags.ts';

type Mode = 'none' | 'process-time' | 'watermark';
type Period = 'daily' | 'hourly' | 'two-hours';

export interface TagCreationSettings {
  mode: Mode;
  period: Period;
  delayMs: number;
  withDashes: boolean;
  numRetainedMax: number | null;
  timeRetainedMs: number | null;
  watermarkTimeZone: string;
}

const PERIOD_MS: Record<Period, number> = { daily: 86_400_000, hourly: 3_600_000, 'two-hours': 7_200_000 };

export function tagCreationSettings(options: Record<string, string>): TagCreationSettings {
  const mode = (options['tag.automatic-creation'] ?? 'none').toLowerCase();
  if (mode === 'batch') throw new ConfigError('tag.automatic-creation', `'batch' is not supported by Weir; use process-time or watermark`);
  if (!['none', 'process-time', 'watermark'].includes(mode)) {
    throw new ConfigError('tag.automatic-creation', `'${mode}' is not valid; use none, process-time or watermark`);
  }
  const period = (options['tag.creation-period'] ?? 'daily').toLowerCase();
  if (!(period in PERIOD_MS)) throw new ConfigError('tag.creation-period', `'${period}' is not valid; use daily, hourly or two-hours`);
  const delayMs = parseDuration(options['tag.creation-delay'] ?? '0 ms', 'tag.creation-delay');
  if (delayMs >= PERIOD_MS[period as Period]) throw new ConfigError('tag.creation-delay', `must be shorter than one ${period} period`);
  const formatter = (options['tag.period-formatter'] ?? 'with_dashes').toLowerCase();
  if (formatter !== 'with_dashes' && formatter !== 'without_dashes') {
    throw new ConfigError('tag.period-formatter', `'${formatter}' is not valid; use with_dashes or without_dashes`);
  }
  const max = options['tag.num-retained-max'];
  const numRetainedMax = max === undefined ? null : Number(max);
  if (numRetainedMax !== null && !(Number.isInteger(numRetainedMax) && numRetainedMax > 0)) {
    throw new ConfigError('tag.num-retained-max', `'${max}' is not a positive integer`);
  }
  const ttl = options['tag.default-time-retained'];
  const zone = options['sink.watermark-time-zone'] ?? 'UTC';
  zoneOffsetMs(zone, 0); // validates the zone
  return {
    mode: mode as Mode,
    period: period as Period,
    delayMs,
    withDashes: formatter === 'with_dashes',
    numRetainedMax,
    timeRetainedMs: ttl === undefined ? null : parseDuration(ttl, 'tag.default-time-retained'),
    watermarkTimeZone: zone,
  };
}

/** Offset of `zone` from UTC at an instant, in ms ('UTC', an IANA name, or +hh:mm). */
export function zoneOffsetMs(zone: string, epochMs: number): number {
  const fixed = /^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$/.exec(zone);
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 3_600_000 + Number(fixed[3] ?? 0) * 60_000);
  if (zone === 'UTC' || zone === 'GMT' || zone === 'Z') return 0;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    throw new ConfigError('sink.watermark-time-zone', `'${zone}' is not a time zone; use UTC, +08:00 or an IANA name such as Asia/Shanghai`);
  }
  const p = Object.fromEntries(fmt.formatToParts(new Date(epochMs)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/** Tag names and period arithmetic on local times (epoch ms shifted by the zone's offset). */
export class TagPeriods {
  readonly periodMs: number;
  constructor(private readonly s: TagCreationSettings) {
    this.periodMs = PERIOD_MS[s.period];
  }

  /** Start of the last full period before `localMs`. */
  previousPeriod(localMs: number): number {
    return Math.floor(localMs / this.periodMs) * this.periodMs - this.periodMs;
  }

  name(localStart: number): string {
    const d = new Date(localStart);
    const y = String(d.getUTCFullYear());
    const mo = String(d.getUTCMonth() + 1).padStart(2, '0');
    const day = String(d.getUTCDate()).padStart(2, '0');
    const date = this.s.withDashes || this.s.period === 'two-hours' ? `${y}-${mo}-${day}` : `${y}${mo}${day}`;
    return this.s.period === 'daily' ? date : `${date} ${String(d.getUTCHours()).padStart(2, '0')}`;
  }

  /** The period start a tag name stands for, or null if it is not an automatic tag of this period. */
  parse(name: string): number | null {
    const m = /^(\d{4})-?(\d{2})-?(\d{2})(?: (\d{2}))?$/.exec(name);
    if (!m) return null;
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0));
    return this.name(t) === name ? t : null;
  }
}

export class TagAutoCreation {
  private readonly tags: TagManager;
  private readonly periods: TagPeriods;
  /** Start (local) of the period whose end must pass before the next tag; null before the first tag. */
  private nextTag: number | null = null;
  private nextSnapshot = 1;

  private constructor(private readonly table: FileStoreTable, private readonly s: TagCreationSettings) {
    this.tags = new TagManager(table.io, table.path);
    this.periods = new TagPeriods(s);
  }

  /** null when the table does not create tags automatically. */
  static async create(table: FileStoreTable): Promise<TagAutoCreation | null> {
    const s = tagCreationSettings(table.schema.options);
    if (s.mode === 'none') return null;
    const auto = new TagAutoCreation(table, s);
    await auto.init();
    return auto;
  }

  private async init(): Promise<void> {
    const auto = (await this.tags.list()).filter((t) => this.periods.parse(t.name) !== null);
    const last = auto[auto.length - 1];
    if (last) {
      this.nextSnapshot = last.snapshot.id + 1;
      this.nextTag = this.periods.parse(last.name)! + this.periods.periodMs;
    } else {
      this.nextSnapshot = (await this.table.snapshots.earliestId()) ?? 1;
    }
  }

  /** The snapshot's time as local ms, or null (no watermark yet). */
  private timeOf(s: Snapshot): number | null {
    if (this.s.mode === 'process-time') return s.timeMillis - new Date(s.timeMillis).getTimezoneOffset() * 60_000;
    const wm = s.watermark;
    // no watermark yet, or the end of input (which completes every period but names none)
    if (wm === undefined || wm === null || wm < 0 || wm >= Number.MAX_SAFE_INTEGER) return null;
    return wm + zoneOffsetMs(this.s.watermarkTimeZone, wm);
  }

  /** Looks at the snapshots committed since the last call; returns the tags it created. */
  async run(): Promise<string[]> {
    const created: string[] = [];
    const sm = this.table.snapshots;
    for (;;) {
      if (await sm.exists(this.nextSnapshot)) {
        const name = await this.consider(await sm.snapshot(this.nextSnapshot));
        if (name) created.push(name);
        this.nextSnapshot++;
        continue;
      }
      const earliest = await sm.earliestId();
      if (earliest !== null && earliest > this.nextSnapshot) this.nextSnapshot = earliest;
      else break;
    }
    if (created.length > 0) await this.expireTags();
    return created;
  }

  private async consider(s: Snapshot): Promise<string | null> {
    const time = this.timeOf(s);
    if (time === null) return null;
    if (this.nextTag !== null && time - this.s.delayMs < this.nextTag + this.periods.periodMs) return null;
    const thisTag = this.periods.previousPeriod(time - this.s.delayMs);
    this.nextTag = thisTag + this.periods.periodMs;
    const name = this.periods.name(thisTag);
    if (await this.tags.exists(name)) return null;
    await this.tags.create(s, name, this.s.timeRetainedMs === null ? {} : { timeRetainedMs: this.s.timeRetainedMs });
    return name;
  }

  private async expireTags(): Promise<void> {
    const max = this.s.numRetainedMax;
    if (max === null) return;
    const auto = (await this.tags.list()).filter((t) => this.periods.parse(t.name) !== null);
    for (const t of auto.slice(0, Math.max(0, auto.length - max))) await this.tags.delete(t.name);
  }
}
