/**
 * The connector registry: sources, sinks and lookup tables from plain configuration; unknown
 * types, unknown options and missing options are errors that list what is valid.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Catalog, TableCommit, TableWriter, T } from '../../../connectors/lake/index.ts';
import { connectorTypes, createLookupTable, createSink, createSource } from '../../../connectors/registry.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { tempDir } from '../lake/helpers.ts';

const tmp = tempDir('weir-registry-');
afterAll(() => tmp.cleanup());

describe('connector registry', () => {
  it('lists the connectors of each role', () => {
    expect(connectorTypes('source')).toEqual(['datagen', 'lake', 'mysql', 'kafka']);
    expect(connectorTypes('sink')).toEqual(['lake', 'print', 'collect', 'kafka', 'duckdb', 'clickhouse', 'starrocks']);
    expect(connectorTypes('lookup')).toEqual(['mysql']);
  });

  it('rejects an unknown type, listing the valid ones', async () => {
    await expect(createSource({ type: 'kafak', topic: 'x' })).rejects.toThrow("source.type: 'kafak' is not a source connector; valid types: datagen, lake, mysql");
    await expect(createSink({ type: 'datagen' })).rejects.toThrow('valid types: lake, print, collect');
    await expect(createSource({ path: '/x' })).rejects.toThrow('source.type: is missing; valid types: datagen, lake, mysql');
  });

  it('rejects unknown options and names missing ones', async () => {
    await expect(createSource({ type: 'lake', path: '/x', mode: 'batch', bukets: 4 })).rejects.toThrow(/lake source: unknown option 'bukets'; valid options: path, s3, name, mode, snapshotId/);
    await expect(createSource({ type: 'lake', mode: 'batch' })).rejects.toThrow(/lake source: missing required option 'path' \(the table directory/);
    await expect(createSink({ type: 'collect' })).rejects.toThrow(/collect sink: missing required option 'topic'/);
    await expect(createSource({ type: 'datagen', fields: { id: 'uuid' } })).rejects.toThrow(/datagen.fields.id: is 'uuid'; valid kinds: index, int, double, string, boolean/);
  });

  it('builds a datagen source from configuration', async () => {
    const source = await createSource({ type: 'datagen', count: 20, seed: 3, splits: 4, fields: { id: 'index', score: 'double', tag: 'string' } });
    const h = await new SourceHarness(source, 2).start();
    await h.drainAll();
    const rows = h.emitted().map((e) => e.value as { id: number; score: number; tag: string });
    expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const r of rows) {
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThan(1);
      expect(r.tag).toMatch(/^[0-9a-f]{8}$/);
    }
  });

  it('builds a lake source from configuration and reads the table', async () => {
    const table = await new Catalog(path.join(tmp.dir, 'wh')).createTable('db', 't', { fields: [{ name: 'id', type: T.notNull(T.int()) }, { name: 'v', type: T.string() }], primaryKeys: ['id'], options: { bucket: '2' } });
    const writer = new TableWriter(table);
    for (let id = 0; id < 10; id++) writer.write([id, `v${id}`], 0);
    await new TableCommit(table, 'u').commit(1, await writer.prepareCommit());
    const source = await createSource({ type: 'lake', path: table.path, mode: 'batch' });
    const h = await new SourceHarness(source, 2).start();
    await h.drainAll();
    expect(h.emitted().map((e) => (e.value as { id: number }).id).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('builds sinks and lookup tables from configuration', async () => {
    expect((await createSink({ type: 'print', name: 'out' })).name).toBe('out');
    expect((await createSink({ type: 'collect', topic: 'results' })).name).toBe('collect:results');
    expect((await createSink({ type: 'lake', path: path.join(tmp.dir, 'sink-table') })).name).toBe('lake-sink');
    expect((await createLookupTable({ type: 'mysql', url: 'mysql://u:p@localhost:3306/shop', table: 'rooms', keyColumns: ['id'] })).name).toBe('rooms');
    await expect(createLookupTable({ type: 'mysql', url: 'postgres://x', table: 'rooms', keyColumns: ['id'] })).rejects.toThrow(/mysql.url/);
  });

  it('builds the MySQL CDC source, with regexes given as text', async () => {
    const cdc = await createSource({ type: 'mysql', host: 'db', user: 'cdc', databases: ['shop'], tables: 'shop\\.order_\\d+', routes: [{ source: 'shop\\.order_\\d+', sink: 'shop.orders' }] });
    expect(cdc.name).toBe('mysql-cdc(db:3306/shop)');
    expect(cdc.bounded).toBe(false);
    await expect(createSource({ type: 'mysql', host: 'db', user: 'cdc', databases: ['shop'], schemaChanges: 'loose' })).rejects.toThrow(/mysql-cdc.schemaChanges: 'loose' is not one of lenient/);
    await expect(createSource({ type: 'mysql', host: 'db', user: 'cdc' })).rejects.toThrow(/missing required option 'databases'/);
  });
});

describe('kafka in the registry', () => {
  it('builds the source and the sink from configuration; options are checked', async () => {
    const source = await createSource({ type: 'kafka', brokers: ['b:9092'], topics: ['orders'], bounded: true });
    expect(source.name).toBe('kafka(orders)');
    expect(source.bounded).toBe(true);
    const sink = await createSink({ type: 'kafka', brokers: ['b:9092'], topic: 'out', deliveryGuarantee: 'exactly-once', transactionalIdPrefix: 'p', keyField: 'id' });
    expect(sink.createCommitter).toBeTypeOf('function');
    await expect(createSource({ type: 'kafka', brokers: ['b:9092'], topics: ['t'], deserializer: 'xml' })).rejects.toThrow(/deserializer: is "xml"/);
    await expect(createSink({ type: 'kafka', brokers: ['b:9092'] })).rejects.toThrow(/missing required option 'topic'/);
  });
});
