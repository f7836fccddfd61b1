/**
 * The StarRocks sink built from configuration (the registry, as YAML pipelines and the CLI do)
 * against the shared loopback StarRocks service that `npm test` starts (test/services/starrocks.sh):
 * its address and credentials come from WEIR_STARROCKS_FE_URL, WEIR_STARROCKS_USER and
 * WEIR_STARROCKS_PASSWORD, and the test fails without them.
 */
import { describe, expect, it } from 'vitest';
import { createSink } from '../../../connectors/registry.ts';
import { SinkHarness } from '../../harness/sink-harness.ts';

function env(name: string): string {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set: start the service with bash test/services/starrocks.sh start and export its env (npm test does)`);
  return v;
}

describe('StarRocks sink from configuration', () => {
  it('writes a changelog exactly-once into a Primary Key table of the shared service', async () => {
    const feUrl = env('WEIR_STARROCKS_FE_URL');
    const table = `registry_${process.pid}_${Date.now()}`;
    const created = await fetch(`${feUrl}/__test/tables`, {
      method: 'POST',
      body: JSON.stringify({ db: 'weir', table, columns: [{ name: 'id', type: 'INT' }, { name: 'v', type: 'VARCHAR' }], primaryKey: ['id'] }),
    });
    expect(created.status).toBe(200);
    const sink = await createSink({ type: 'starrocks', feUrl, database: 'weir', table, user: env('WEIR_STARROCKS_USER'), password: env('WEIR_STARROCKS_PASSWORD'), primaryKey: ['id'], labelPrefix: table });
    const h = await SinkHarness.open(sink);
    await h.write([{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { kind: '-D', row: { id: 1, v: 'a' } }, { kind: '+U', row: { id: 2, v: 'c' } }]);
    await h.checkpoint(1);
    await h.complete(1);
    await h.close();
    const rows = ((await (await fetch(`${feUrl}/__test/tables/weir/${table}`)).json()) as { rows: unknown[] }).rows;
    expect(rows).toEqual([{ id: 2, v: 'c' }]);
  });
});
