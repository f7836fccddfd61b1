import { ConfigError } from 'weir';

/**
 * Settings of the Nexmark generator. Defaults are those of the reference NexmarkConfiguration,
 * except where the reference reads the wall clock (`baseTime`) or draws from an unseeded random
 * source: here every event is a pure function of (config, event number).
 */
export interface NexmarkConfig {
  /** Mixed into every event's random draws and into the string pools; same seed, same stream. */
  readonly seed: number;
  /** Event time of event number 0, epoch ms. The reference uses "now"; a fixed time keeps runs equal. */
  readonly baseTime: number;
  /** Events per second of event time; event n is at baseTime + n / firstEventRate seconds. */
  readonly firstEventRate: number;
  readonly personProportion: number;
  readonly auctionProportion: number;
  readonly bidProportion: number;
  /** Average sizes the `extra` field pads each record to (the reference's idealized byte sizes). */
  readonly avgPersonByteSize: number;
  readonly avgAuctionByteSize: number;
  readonly avgBidByteSize: number;
  /** 1 - 1/ratio of bids go to the hot auction of the current batch of 100 auctions. */
  readonly hotAuctionRatio: number;
  /** 1 - 1/ratio of auctions are opened by the hot seller of the current batch of 100 people. */
  readonly hotSellersRatio: number;
  /** 1 - 1/ratio of bids are placed by the hot bidder of the current batch of 100 people. */
  readonly hotBiddersRatio: number;
  /** Average number of auctions open at a time; sets auction lengths and the ids bids pick from. */
  readonly numInFlightAuctions: number;
  /** How many of the most recent people are picked as sellers and bidders. */
  readonly numActivePeople: number;
  /**
   * Out-of-order delay: with probability `probDelayedEvent` an event's time is moved back by a
   * uniform 0..occasionalDelaySec seconds, so it arrives late relative to the events around it.
   * (The reference holds such events back in its unbounded source; moving the time back keeps
   * event n at position n, which a split source needs.)
   */
  readonly occasionalDelaySec: number;
  readonly probDelayedEvent: number;
  /** Events are permuted within groups of this many (1 = in order), as in the reference. */
  readonly outOfOrderGroupSize: number;
  /** Added to every event number to form the event id that decides kind and ids (reference: firstEventId). */
  readonly firstEventId: number;
}

export const DEFAULT_NEXMARK_CONFIG: NexmarkConfig = Object.freeze({
  seed: 0,
  baseTime: Date.UTC(2026, 0, 1),
  firstEventRate: 10_000,
  personProportion: 1,
  auctionProportion: 3,
  bidProportion: 46,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  numInFlightAuctions: 100,
  numActivePeople: 1000,
  occasionalDelaySec: 3,
  probDelayedEvent: 0.1,
  outOfOrderGroupSize: 1,
  firstEventId: 0,
});

export type NexmarkConfigInput = Partial<NexmarkConfig>;

/** Ids start above zero so small runs still find matches, as in the reference. */
export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
export const NUM_CATEGORIES = 5;
/** Hot sellers, bidders and auctions are the first of each batch of this many ids. */
export const HOT_BATCH = 100;
/** How far past the last created person or auction an id may point (not yet created). */
export const ID_LEAD = 10;

function check(ok: boolean, setting: string, why: string): void {
  if (!ok) throw new ConfigError(`nexmark.${setting}`, why);
}

const isInt = (v: number) => Number.isSafeInteger(v);

/** Defaults overlaid with `input`, validated; throws ConfigError naming the bad setting. */
export function nexmarkConfig(input: NexmarkConfigInput = {}): NexmarkConfig {
  for (const key of Object.keys(input)) {
    check(key in DEFAULT_NEXMARK_CONFIG, key, `unknown setting; known settings are ${Object.keys(DEFAULT_NEXMARK_CONFIG).join(', ')}`);
  }
  const c: NexmarkConfig = { ...DEFAULT_NEXMARK_CONFIG, ...input };
  check(isInt(c.seed), 'seed', `must be a safe integer, got ${c.seed}`);
  check(isInt(c.baseTime) && c.baseTime >= 0, 'baseTime', `must be epoch milliseconds (integer >= 0), got ${c.baseTime}`);
  check(Number.isFinite(c.firstEventRate) && c.firstEventRate > 0, 'firstEventRate', `must be > 0 events per second, got ${c.firstEventRate}`);
  for (const k of ['personProportion', 'auctionProportion', 'bidProportion'] as const) {
    check(isInt(c[k]) && c[k] >= 1, k, `must be an integer >= 1, got ${c[k]}`);
  }
  for (const k of ['avgPersonByteSize', 'avgAuctionByteSize', 'avgBidByteSize', 'numInFlightAuctions', 'occasionalDelaySec', 'firstEventId'] as const) {
    check(isInt(c[k]) && c[k] >= 0, k, `must be an integer >= 0, got ${c[k]}`);
  }
  for (const k of ['hotAuctionRatio', 'hotSellersRatio', 'hotBiddersRatio', 'numActivePeople', 'outOfOrderGroupSize'] as const) {
    check(isInt(c[k]) && c[k] >= 1, k, `must be an integer >= 1, got ${c[k]}`);
  }
  check(c.outOfOrderGroupSize % 953 !== 0, 'outOfOrderGroupSize', 'must not be a multiple of 953 (the permutation within a group would repeat events)');
  check(c.probDelayedEvent >= 0 && c.probDelayedEvent <= 1, 'probDelayedEvent', `must be within [0, 1], got ${c.probDelayedEvent}`);
  return Object.freeze(c);
}

export function totalProportion(c: NexmarkConfig): number {
  return c.personProportion + c.auctionProportion + c.bidProportion;
}

/** Microseconds of event time between consecutive event numbers. */
export function interEventDelayUs(c: NexmarkConfig): number {
  return 1_000_000 / c.firstEventRate;
}

/** Event time of event number n before any out-of-order delay (the reference's timestampForEvent). */
export function timestampForEvent(c: NexmarkConfig, n: number): number {
  return c.baseTime + Math.floor(Math.floor(n * interEventDelayUs(c)) / 1000);
}

/**
 * Bound on disorder: every event's time is >= (largest time of any earlier event) - this. A watermark
 * of (largest time seen) - maxOutOfOrderMs - 1 therefore never makes an event late.
 */
export function maxOutOfOrderMs(c: NexmarkConfig): number {
  const delay = c.probDelayedEvent > 0 ? c.occasionalDelaySec * 1000 : 0;
  const jitter = Math.ceil(((c.outOfOrderGroupSize - 1) * interEventDelayUs(c)) / 1000);
  return delay + jitter + 1;
}

/** The reference's adjusted event number: events are permuted within groups of outOfOrderGroupSize. */
export function adjustedEventNumber(c: NexmarkConfig, n: number): number {
  const g = c.outOfOrderGroupSize;
  if (g === 1) return n;
  const base = n - (n % g);
  // (n * 953) % g without leaving the safe-integer range for large n.
  return base + (((n % g) * 953) % g);
}
