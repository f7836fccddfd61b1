import type { Bid } from '../model.ts';
import type { QueryBuilder } from './common.ts';

/** q0 pass-through: SELECT * FROM bid. */
export const q0: QueryBuilder<'q0'> = (input) => input.source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined));
