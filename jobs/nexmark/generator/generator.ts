import { ConfigError } from 'weir';
import type { Auction, Bid, Event, NumberedBid, Person } from '../model.ts';
import {
  FIRST_AUCTION_ID as FIRST_AUCTION_ID_,
  FIRST_CATEGORY_ID as FIRST_CATEGORY_ID_,
  FIRST_PERSON_ID as FIRST_PERSON_ID_,
  HOT_BATCH as HOT_BATCH_,
  ID_LEAD as ID_LEAD_,
  NUM_CATEGORIES as NUM_CATEGORIES_,
  interEventDelayUs,
  nexmarkConfig,
  totalProportion,
  type NexmarkConfig,
  type NexmarkConfigInput,
} from './config.ts';
import * as pools from './pools.ts';
import { poolsForSeed, type Pools } from './pools.ts';

// Module-local copies of imported constants: if this module graph is loaded as CommonJS (e.g.
// required from a .ts file outside an ESM package), tsx turns each use of an import into a getter
// call, which cut generation from 9M to 5M events/s. Under ESM the copies cost nothing.
const FIRST_AUCTION_ID = FIRST_AUCTION_ID_;
const FIRST_CATEGORY_ID = FIRST_CATEGORY_ID_;
const FIRST_PERSON_ID = FIRST_PERSON_ID_;
const HOT_BATCH = HOT_BATCH_;
const ID_LEAD = ID_LEAD_;
const NUM_CATEGORIES = NUM_CATEGORIES_;
const CARD_GROUPS = pools.CARD_GROUPS;
const CHANNELS = pools.CHANNELS;
const HOT_CHANNELS: readonly string[] = [...pools.HOT_CHANNELS];
const LETTERS_POOL_SIZE = pools.LETTERS_POOL_SIZE;
const WORDS_POOL_SIZE = pools.WORDS_POOL_SIZE;
const flatten = pools.flatten;

/**
 * Which event numbers a generator produces: n in [from, to) with n % parallelism === subtask.
 * A source at parallelism N gives subtask k the range {subtask: k, parallelism: N}; the union over
 * all subtasks is exactly the events a single generator yields, each identical.
 */
export interface GeneratorRange {
  from?: number;
  /** Exclusive; defaults to unbounded. */
  to?: number;
  subtask?: number;
  parallelism?: number;
}

/** What the generator makes besides the reference's events. */
export interface GeneratorOptions {
  /**
   * Bids carry their event number as `seq` (NumberedBid), made in the bid's own object literal:
   * q18 and q19 need it, and copying each bid to add it cost those jobs 4% of their CPU time
   * (adding it to the generated object afterwards, a change of its shape, cost more still).
   */
  numberBids?: boolean;
}

const INV32 = 1 / 4294967296;
const LN10_X6 = Math.LN10 * 6;

const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const FULL_NAMES = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => flatten(`${f} ${l}`)));

/**
 * The Nexmark event generator. Event number n is a pure function of (config, n): its random draws
 * come from a PRNG seeded by the event id and `config.seed`, so any thread, at any parallelism,
 * produces the same event n. Rules follow the reference generator (ids, hot ratios, proportions,
 * sizes, auction lengths); strings are slices of seeded random pools (see pools.ts).
 */
export class NexmarkGenerator {
  readonly config: NexmarkConfig;
  private n: number;
  private readonly step: number;
  private readonly end: number;

  // Hot-path copies of the config, so the per-event code reads fields of one object shape.
  private readonly total: number;
  private readonly personProp: number;
  private readonly personAuctionProp: number;
  private readonly auctionProp: number;
  private readonly delayUs: number;
  private readonly baseTime: number;
  private readonly firstEventId: number;
  private readonly groupSize: number;
  private readonly seedMix: number;
  private readonly probDelayed: number;
  private readonly delayMs: number;
  private readonly auctionHorizonEvents: number;
  private readonly pools: Pools;
  private readonly letters: string;
  private readonly words: string;
  private readonly numberBids: boolean;
  private s = 0;

  constructor(config: NexmarkConfigInput = {}, range: GeneratorRange = {}, options: GeneratorOptions = {}) {
    this.config = nexmarkConfig(config);
    this.numberBids = options.numberBids ?? false;
    const c = this.config;
    const from = range.from ?? 0;
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    const parallelism = range.parallelism ?? 1;
    const subtask = range.subtask ?? 0;
    if (!Number.isSafeInteger(from) || from < 0) throw new ConfigError('nexmark.range.from', `must be an integer >= 0, got ${from}`);
    if (!Number.isSafeInteger(to) || to < from) throw new ConfigError('nexmark.range.to', `must be an integer >= from (${from}), got ${to}`);
    if (!Number.isSafeInteger(parallelism) || parallelism < 1) throw new ConfigError('nexmark.range.parallelism', `must be an integer >= 1, got ${parallelism}`);
    if (!Number.isSafeInteger(subtask) || subtask < 0 || subtask >= parallelism) {
      throw new ConfigError('nexmark.range.subtask', `must be an integer in [0, ${parallelism - 1}], got ${subtask}`);
    }
    this.n = from + ((((subtask - from) % parallelism) + parallelism) % parallelism);
    this.step = parallelism;
    this.end = to;

    this.total = totalProportion(c);
    this.personProp = c.personProportion;
    this.auctionProp = c.auctionProportion;
    this.personAuctionProp = c.personProportion + c.auctionProportion;
    this.delayUs = interEventDelayUs(c);
    this.baseTime = c.baseTime;
    this.firstEventId = c.firstEventId;
    this.groupSize = c.outOfOrderGroupSize;
    this.seedMix = Math.imul(c.seed | 0, 0x9e3779b1) ^ Math.imul(Math.floor(c.seed / 4294967296) | 0, 0x85ebca6b);
    this.probDelayed = c.probDelayedEvent;
    this.delayMs = c.occasionalDelaySec * 1000;
    this.auctionHorizonEvents = Math.floor((c.numInFlightAuctions * this.total) / c.auctionProportion);
    this.pools = poolsForSeed(c.seed);
    this.letters = this.pools.letters;
    this.words = this.pools.words;
  }

  /** The event number the next call to `next()` returns (past the end when done). */
  get nextEventNumber(): number {
    return this.n;
  }

  hasNext(): boolean {
    return this.n < this.end;
  }

  /** The next event of this generator's range, or undefined when the range is exhausted. */
  next(): Event | undefined {
    const n = this.n;
    if (n >= this.end) return undefined;
    this.n = n + this.step;
    return this.eventAt(n);
  }

  /**
   * Fill out[0..k) with the next k <= max events and return k (0 when exhausted). The array is
   * reused by the caller across batches; entries past k are left as they were.
   */
  nextBatch(out: Event[], max: number = out.length): number {
    let k = 0;
    let n = this.n;
    const end = this.end;
    const step = this.step;
    while (k < max && n < end) {
      out[k++] = this.eventAt(n);
      n += step;
    }
    this.n = n;
    return k;
  }

  [Symbol.iterator](): IterableIterator<Event> {
    return {
      next: (): IteratorResult<Event> => {
        const e = this.next();
        return e === undefined ? { done: true, value: undefined } : { done: false, value: e };
      },
      [Symbol.iterator]() {
        return this;
      },
    };
  }

  /** Event number n, independent of this generator's range and position. */
  eventAt(n: number): Event {
    const g = this.groupSize;
    const adjusted = g === 1 ? n : n - (n % g) + (((n % g) * 953) % g);
    const eventId = this.firstEventId + adjusted;
    const undelayed = this.baseTime + Math.floor(Math.floor(adjusted * this.delayUs) / 1000);

    // Seed this event's draws from (event id, seed): a murmur3-style mix of both 32-bit halves.
    let h = Math.imul((eventId >>> 0) ^ this.seedMix, 0xcc9e2d51);
    h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ ((eventId / 4294967296) >>> 0);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    this.s = h ^ (h >>> 16);

    const delayed = this.r() < this.probDelayed;
    const rem = eventId % this.total;
    if (rem >= this.personAuctionProp) return this.bid(n, eventId, undelayed, delayed);
    if (rem >= this.personProp) return this.auction(eventId, adjusted, undelayed, delayed);
    return this.person(eventId, undelayed, delayed);
  }

  /**
   * The event's time: moved back by up to delayMs if it is delayed. Drawn after the event's other
   * draws (the reference's order), and passed to the event's literal: an event is never changed
   * after it is made. (Changing dateTime afterwards made V8 deprecate the Bid map and deoptimize the
   * source's loop hundreds of times per run at parallelism 2, where decoded bids share the thread.)
   */
  private eventTime(undelayed: number, delayed: boolean): number {
    return delayed ? Math.max(this.baseTime, undelayed - Math.floor(this.r() * (this.delayMs + 1))) : undelayed;
  }

  /** Uniform in [0, 1): one mulberry32 step over this event's state. */
  private r(): number {
    const s = (this.s = (this.s + 0x6d2b79f5) | 0);
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) * INV32;
  }

  private lastPersonId(eventId: number): number {
    const epoch = Math.floor(eventId / this.total);
    const offset = eventId - epoch * this.total;
    return epoch * this.personProp + (offset >= this.personProp ? this.personProp - 1 : offset);
  }

  private lastAuctionId(eventId: number): number {
    const epoch = Math.floor(eventId / this.total);
    const offset = eventId - epoch * this.total;
    if (offset < this.personProp) return (epoch - 1) * this.auctionProp + this.auctionProp - 1;
    if (offset >= this.personAuctionProp) return epoch * this.auctionProp + this.auctionProp - 1;
    return epoch * this.auctionProp + offset - this.personProp;
  }

  /** A person among the most recent `numActivePeople`, or up to ID_LEAD not yet created. */
  private activePersonId(eventId: number): number {
    const numPeople = this.lastPersonId(eventId) + 1;
    const active = Math.min(numPeople, this.config.numActivePeople);
    return numPeople - active + Math.floor(this.r() * (active + ID_LEAD));
  }

  private price(): number {
    // 10^(6u) * 100, with exp instead of pow (same value, a third of the cost).
    return Math.round(Math.exp(this.r() * LN10_X6) * 100);
  }

  /** The reference's nextString: 3..maxLength-1 characters of letters and spaces, trimmed. */
  private text(maxLength: number): string {
    const len = 3 + Math.floor(this.r() * (maxLength - 3));
    const start = Math.floor(this.r() * (WORDS_POOL_SIZE - len));
    const w = this.words;
    let a = start;
    let b = start + len;
    while (a < b && w.charCodeAt(a) === 32) a++;
    while (b > a && w.charCodeAt(b - 1) === 32) b--;
    return w.substring(a, b);
  }

  /** The reference's nextExtra: letters padding a record of currentSize to about averageSize. */
  private extra(currentSize: number, averageSize: number): string {
    if (currentSize > averageSize) return '';
    const want = averageSize - currentSize;
    const delta = Math.round(want * 0.2);
    const size = want - delta + (delta === 0 ? 0 : Math.floor(this.r() * 2 * delta));
    const start = Math.floor(this.r() * (LETTERS_POOL_SIZE - size));
    return this.letters.substring(start, start + size);
  }

  private person(eventId: number, undelayed: number, delayed: boolean): Person {
    const id = this.lastPersonId(eventId) + FIRST_PERSON_ID;
    const name = FULL_NAMES[Math.floor(this.r() * FULL_NAMES.length)]!;
    const emailAddress = flatten(`${this.text(7)}@${this.text(5)}.com`);
    const card = Math.floor(this.r() * (CARD_GROUPS - 3)) * 5;
    const creditCard = this.pools.cards.substring(card, card + 19);
    const city = US_CITIES[Math.floor(this.r() * US_CITIES.length)]!;
    const state = US_STATES[Math.floor(this.r() * US_STATES.length)]!;
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    const extra = this.extra(size, this.config.avgPersonByteSize);
    const dateTime = this.eventTime(undelayed, delayed);
    return { kind: 'person', id, name, emailAddress, creditCard, city, state, dateTime, extra };
  }

  private auction(eventId: number, adjusted: number, undelayed: number, delayed: boolean): Auction {
    const c = this.config;
    const id = this.lastAuctionId(eventId) + FIRST_AUCTION_ID;
    let seller: number;
    if (Math.floor(this.r() * c.hotSellersRatio) > 0) {
      seller = Math.floor(this.lastPersonId(eventId) / HOT_BATCH) * HOT_BATCH;
    } else {
      seller = this.activePersonId(eventId);
    }
    seller += FIRST_PERSON_ID;
    const category = FIRST_CATEGORY_ID + Math.floor(this.r() * NUM_CATEGORIES);
    const initialBid = this.price();
    // Length averages the time until numInFlightAuctions more auctions have been created.
    const future = this.baseTime + Math.floor(Math.floor((adjusted + this.auctionHorizonEvents) * this.delayUs) / 1000);
    const expiresUndelayed = undelayed + 1 + Math.floor(this.r() * Math.max((future - undelayed) * 2, 1));
    const itemName = this.text(20);
    const description = this.text(100);
    const reserve = initialBid + this.price();
    const extra = this.extra(8 + itemName.length + description.length + 40, c.avgAuctionByteSize);
    const dateTime = this.eventTime(undelayed, delayed);
    // A delayed auction keeps its length: it expires as much earlier as it was made.
    const expires = expiresUndelayed - (undelayed - dateTime);
    return { kind: 'auction', id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra };
  }

  /** Event number n's bid (a NumberedBid with `numberBids`). */
  private bid(n: number, eventId: number, undelayed: number, delayed: boolean): Bid {
    const c = this.config;
    let auction: number;
    if (Math.floor(this.r() * c.hotAuctionRatio) > 0) {
      auction = Math.floor(this.lastAuctionId(eventId) / HOT_BATCH) * HOT_BATCH;
    } else {
      const last = this.lastAuctionId(eventId);
      const min = Math.max(last - c.numInFlightAuctions, 0);
      auction = min + Math.floor(this.r() * (last - min + 1 + ID_LEAD));
    }
    auction += FIRST_AUCTION_ID;
    let bidder: number;
    if (Math.floor(this.r() * c.hotBiddersRatio) > 0) {
      // The second person of the batch, so hot bidders and hot sellers differ.
      bidder = Math.floor(this.lastPersonId(eventId) / HOT_BATCH) * HOT_BATCH + 1;
    } else {
      bidder = this.activePersonId(eventId);
    }
    bidder += FIRST_PERSON_ID;
    const price = this.price();
    let channel: string;
    let url: string;
    if (this.r() < 0.5) {
      const k = Math.floor(this.r() * CHANNELS);
      channel = this.pools.channelNames[k]!;
      url = this.pools.channelUrls[k]!;
    } else {
      const k = Math.floor(this.r() * HOT_CHANNELS.length);
      channel = HOT_CHANNELS[k]!;
      url = this.pools.hotUrls[k]!;
    }
    const extra = this.extra(32, c.avgBidByteSize);
    const dateTime = this.eventTime(undelayed, delayed);
    if (this.numberBids) {
      const numbered: NumberedBid = { kind: 'bid', auction, bidder, price, channel, url, dateTime, extra, seq: n };
      return numbered;
    }
    return { kind: 'bid', auction, bidder, price, channel, url, dateTime, extra };
  }
}

/** Events n in [from, to) of `config`, in order. */
export function* generate(config: NexmarkConfigInput = {}, from = 0, to = Number.MAX_SAFE_INTEGER): Generator<Event, void, undefined> {
  const gen = new NexmarkGenerator(config, { from, to });
  for (let e = gen.next(); e !== undefined; e = gen.next()) yield e;
}

/** Event number n of `config` (builds a generator; use NexmarkGenerator.eventAt in loops). */
export function eventAt(config: NexmarkConfigInput, n: number): Event {
  return new NexmarkGenerator(config).eventAt(n);
}
