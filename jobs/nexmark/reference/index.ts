import type { Event } from '../model.ts';
import type { QueryName, QueryRows } from '../queries.ts';
import { q15, q18, q19 } from './aggregates.ts';
import { q3, q4, q8 } from './joins.ts';
import { q0, q1, q2 } from './stateless.ts';
import { q11, q5, q7 } from './windows.ts';

/**
 * Brute-force Nexmark queries over a whole array of events: written to be obviously correct, not
 * fast (several are quadratic; keep inputs to tens of thousands of events). Each returns its rows
 * in the canonical order of queries.ts.
 */
export type ReferenceQuery<Q extends QueryName> = (events: readonly Event[]) => QueryRows[Q][];

export const REFERENCE: { readonly [Q in QueryName]: ReferenceQuery<Q> } = { q0, q1, q2, q3, q4, q5, q7, q8, q11, q15, q18, q19 };

export { q0, q1, q2, q3, q4, q5, q7, q8, q11, q15, q18, q19 };
