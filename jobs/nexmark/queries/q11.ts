import { eventTimeSessionWindows } from '../../../operators/window/session.ts';
import { Q11_GAP_MS, type Q11Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';
import { windowCount } from './window-count.ts';

/** q11 user sessions: bids per bidder session (10 s gap); the session ends 10 s after its last bid. */
export const q11: QueryBuilder<'q11'> = (input) =>
  windowCount(
    input.source<{ bidder: number }>('bids', (e) => (e.kind === 'bid' ? { bidder: e.bidder } : undefined)).keyBy((b) => b.bidder),
    eventTimeSessionWindows(Q11_GAP_MS),
    (bidder, bidCount, w): Q11Row => ({ bidder, bidCount, starttime: w.start, endtime: w.end }),
    { name: 'q11-sessions', uid: 'q11-sessions' },
  );
