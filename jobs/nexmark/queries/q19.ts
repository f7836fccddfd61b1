import { type Collector, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, sharedPlainData, valueState, type ValueState } from 'weir';
import { Q19_TOP, type Q19Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';
import type { NumberedBid } from '../model.ts';
import { LOCAL_FLUSH_MS } from './q18.ts';
import { LocalTop } from './local-top.ts';

const TOP = Q19_TOP;

/** True when a ranks before b: higher price, of equal prices the earlier in the stream. */
const before = (a: NumberedBid, b: NumberedBid): boolean => a.price > b.price || (a.price === b.price && a.seq < b.seq);

/**
 * Per auction, the 10 highest bids. A bid that enters the top list moves the ones below it down a
 * rank; each changed rank is emitted as an upsert of (auction, rankNumber). Ties rank by event
 * number, not by arrival (see q18), which the top-N operator would use.
 */
class TopBids implements KeyedProcessFunction<number, NumberedBid, Q19Row> {
  private top!: ValueState<NumberedBid[]>;
  open(ctx: KeyedRuntimeContext): void {
    // Never changed after writing or reading (each bid builds a new list): shared, not copied. And
    // known to be plain data without the state's walk (60-100 ns a bid) or a test of the new bid:
    // the only value written is the list processElement builds from the key's list before (which
    // the state had) and one new bid, and every bid of this job is plain data by construction (the
    // generator makes each in an object literal of numbers and strings; the exchange decodes such
    // objects as plain ones). Testing the new bid's fields one by one cost 3% of q19's samples at
    // parallelism 2 and 4% at 1, mostly the first read of its `extra` string, a slice cut from the
    // generator's pool thousands of events earlier and touched by nothing else here.
    this.top = ctx.getState(valueState<NumberedBid[]>('top', { serializer: sharedPlainData({ knownPlain: () => true }) }));
  }

  processElement(b: NumberedBid, _ctx: KeyedContext<number>, out: Collector<Q19Row>): void {
    const prev = this.top.value();
    const n = prev === undefined ? 0 : prev.length;
    if (n === TOP && !before(b, prev![n - 1]!)) return;
    let at = n;
    while (at > 0 && before(b, prev![at - 1]!)) at--;
    // One new array (the state shares its values): prev's first `at`, b, then the rest of prev up to TOP.
    const len = n < TOP ? n + 1 : TOP;
    const next = new Array<NumberedBid>(len);
    for (let i = 0; i < at; i++) next[i] = prev![i]!;
    next[at] = b;
    for (let i = at + 1; i < len; i++) next[i] = prev![i - 1]!;
    this.top.update(next);
    for (let r = at; r < next.length; r++) {
      const x = next[r]!;
      out.collect({ kind: 'bid', auction: x.auction, bidder: x.bidder, price: x.price, channel: x.channel, url: x.url, dateTime: x.dateTime, extra: x.extra, rankNumber: r + 1 });
    }
  }
}

/**
 * q19 top 10 bids per auction by price (an updating result: the latest row per (auction, rank)
 * holds). Each source subtask first keeps only the 10 best bids per auction of each second of
 * event time (LocalTop): a bid 10 others beat there cannot be in the final 10.
 */
export const q19: QueryBuilder<'q19'> = (input) =>
  input
    .numberedBids('bids')
    .transform('q19-local-top', () => new LocalTop<NumberedBid>('q19-local-top', (b) => b.auction, TOP, before, LOCAL_FLUSH_MS), { uid: 'q19-local-top' })
    .keyBy((b) => b.auction)
    .process<Q19Row>(new TopBids(), { name: 'q19-top-10', uid: 'q19-top-10' });
