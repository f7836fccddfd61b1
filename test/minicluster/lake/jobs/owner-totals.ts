/**
 * The second layer of a lake chain (DWD -> DWS): streams the accounts table's changelog, keeps per
 * owner the number of accounts and their balance in cents (retracting old rows), and upserts the
 * totals into a primary-key table; an owner with no accounts left is deleted from it.
 */
import { defineJob } from 'weir';
import { lakeSink, lakeSource, T } from 'weir/lake';
import type { Account } from './pk-writes.ts';

export interface OwnerTotal {
  owner: string;
  accounts: number;
  cents: number;
}

export type OwnerTotalsParams = { from: string; to: string; pollIntervalMs?: number };

export default defineJob(import.meta.url, (env, p: OwnerTotalsParams) => {
  env
    .fromSource(lakeSource<Account>({ path: p.from, mode: 'streaming', pollIntervalMs: p.pollIntervalMs ?? 50 }), { uid: 'accounts-changelog' })
    .keyBy((c) => c.row.owner)
    .aggregateChangelog(
      {
        createAccumulator: () => ({ accounts: 0, cents: 0 }),
        add: (a: Account, acc: { accounts: number; cents: number }) => ({ accounts: acc.accounts + 1, cents: acc.cents + Math.round(a.balance * 100) }),
        retract: (a: Account, acc: { accounts: number; cents: number }) => ({ accounts: acc.accounts - 1, cents: acc.cents - Math.round(a.balance * 100) }),
        getResult: (acc: { accounts: number; cents: number }, owner: string): OwnerTotal => ({ owner, accounts: acc.accounts, cents: acc.cents }),
      },
      { uid: 'owner-totals' },
    )
    .sinkTo(
      lakeSink<OwnerTotal>({
        path: p.to,
        schema: {
          fields: [{ name: 'owner', type: T.notNull(T.string()) }, { name: 'accounts', type: T.int() }, { name: 'cents', type: T.bigint() }],
          primaryKeys: ['owner'],
          options: { bucket: '2' },
        },
      }),
      { uid: 'owner-totals-lake' },
    );
});
