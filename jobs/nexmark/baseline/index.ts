import type { QueryName, QueryRows } from '../queries.ts';
import type { BaselineQuery } from './common.ts';
import { run as q0 } from './q0.ts';
import { run as q1 } from './q1.ts';
import { run as q2 } from './q2.ts';
import { run as q3 } from './q3.ts';
import { run as q4 } from './q4.ts';
import { run as q5 } from './q5.ts';
import { run as q7 } from './q7.ts';
import { run as q8 } from './q8.ts';
import { run as q11 } from './q11.ts';
import { run as q15 } from './q15.ts';
import { run as q18 } from './q18.ts';
import { run as q19 } from './q19.ts';

/**
 * The COST baseline: each query hand-written for one thread over the same generator (plain loops
 * and Maps, event time, watermark = largest time seen - maxOutOfOrderMs - 1). Output rows are in
 * arrival/emission order; sort with `canonical` from queries.ts to compare.
 */
export const BASELINE: { readonly [Q in QueryName]: BaselineQuery<QueryRows[Q]> } = { q0, q1, q2, q3, q4, q5, q7, q8, q11, q15, q18, q19 };

export type { BaselineQuery, BaselineResult } from './common.ts';
