import { type Collector, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, sharedPlainData, valueState, type ValueState } from 'weir';
import type { Bid, NumberedBid } from '../model.ts';
import type { Q18Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';
import { LocalTop } from './local-top.ts';

export const plainBid = (b: NumberedBid): Bid => ({
  kind: 'bid',
  auction: b.auction,
  bidder: b.bidder,
  price: b.price,
  channel: b.channel,
  url: b.url,
  dateTime: b.dateTime,
  extra: b.extra,
});

/** Where the last bid of a key stands in the order: all the state needs (the row itself went out when it came). */
interface BidOrder {
  readonly dateTime: number;
  readonly seq: number;
}

/** Bidders and auctions as one number: auction ids stay below 2^22 up to about 70M events. */
const AUCTION_SPAN = 4_194_304;

/**
 * Per (bidder, auction): the bid with the latest dateTime, of equal ones the later in the stream
 * (event number; at parallelism > 1 arrival order at this operator is not stream order, which is
 * why the dedup operator, which orders ties by arrival, is not used). Each new last bid is emitted
 * as an upsert, as Flink's ROW_NUMBER() = 1 without mini-batch does.
 */
class LastBid implements KeyedProcessFunction<number, NumberedBid, Q18Row> {
  private last!: ValueState<BidOrder>;

  open(ctx: KeyedRuntimeContext): void {
    // Never changed after writing or reading: shared, not copied.
    this.last = ctx.getState(valueState<BidOrder>('last', { serializer: sharedPlainData() }));
  }

  processElement(b: NumberedBid, _ctx: KeyedContext<number>, out: Collector<Q18Row>): void {
    const prev = this.last.value();
    if (prev !== undefined && (b.dateTime < prev.dateTime || (b.dateTime === prev.dateTime && b.seq < prev.seq))) return;
    this.last.update({ dateTime: b.dateTime, seq: b.seq });
    out.collect(plainBid(b));
  }
}

function bidderAuction(b: NumberedBid): number {
  return b.bidder * AUCTION_SPAN + b.auction;
}

/** True when a is a later bid than b: later dateTime, of equal ones later in the stream. */
const later = (a: NumberedBid, b: NumberedBid): boolean => a.dateTime > b.dateTime || (a.dateTime === b.dateTime && a.seq > b.seq);

/** How much event time the local pre-aggregation gathers before it sends. */
export const LOCAL_FLUSH_MS = 1000;

/**
 * q18 last bid per (bidder, auction) (an updating result: the latest row per key holds). Each
 * source subtask first keeps only the last bid per key of each second of event time (LocalTop).
 */
export const q18: QueryBuilder<'q18'> = (input) =>
  input
    .numberedBids('bids')
    .transform('q18-local-last', () => new LocalTop<NumberedBid>('q18-local-last', bidderAuction, 1, later, LOCAL_FLUSH_MS), { uid: 'q18-local-last' })
    .keyBy(bidderAuction)
    .process<Q18Row>(new LastBid(), { name: 'q18-last-bid', uid: 'q18-last-bid' });
