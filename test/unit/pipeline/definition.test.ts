/**
 * Pipeline files: Flink CDC's own example files parse to what they mean; every error names the
 * file, the line and the key, and never a password.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePipelineDefinition, PipelineDefinitionError, planSinkTables, sinkTableOf, type PipelineDefinition } from '../../../connectors/pipeline/index.ts';
import { cdcOptions } from '../../../connectors/pipeline/plan.ts';
import { matchesTable } from '../../../connectors/pipeline/table-patterns.ts';

/** Flink CDC's "MySQL to StarRocks" quickstart file (docs/content/docs/get-started/quickstart/mysql-to-starrocks.md). */
const FLINK_CDC_STARROCKS = `################################################################################
# Description: Sync MySQL all tables to StarRocks
################################################################################
source:
  type: mysql
  hostname: localhost
  port: 3306
  username: root
  password: 123456
  tables: app_db.\\.*
  server-id: 5400-5404
  server-time-zone: UTC

sink:
  type: starrocks
  name: StarRocks Sink
  jdbc-url: jdbc:mysql://127.0.0.1:9030
  load-url: 127.0.0.1:8080
  username: root
  password: ""
  table.create.properties.replication_num: 1

route:
  - source-table: app_db.orders
    sink-table: ods_db.ods_orders
  - source-table: app_db.shipments
    sink-table: ods_db.ods_shipments
  - source-table: app_db.products
    sink-table: ods_db.ods_products

pipeline:
  name: Sync MySQL Database to StarRocks
  parallelism: 2
`;

/** Flink CDC's Paimon pipeline connector example (docs/content/docs/connectors/pipeline-connectors/paimon.md). */
const FLINK_CDC_PAIMON = `source:
   type: mysql
   name: MySQL Source
   hostname: 127.0.0.1
   port: 3306
   username: admin
   password: pass
   tables: adb.\\.*, bdb.user_table_[0-9]+, [app|web].order_\\.*
   server-id: 5401-5404

sink:
  type: paimon
  name: Paimon Sink
  catalog.properties.metastore: filesystem
  catalog.properties.warehouse: /path/warehouse

pipeline:
  name: MySQL to Paimon Pipeline
  parallelism: 2
`;

function fails(text: string): PipelineDefinitionError {
  try {
    parsePipelineDefinition('pipeline.yaml', text);
  } catch (e) {
    expect(e).toBeInstanceOf(PipelineDefinitionError);
    return e as PipelineDefinitionError;
  }
  throw new Error('expected a PipelineDefinitionError');
}

const base = (sink = 'type: duckdb\n  path: /tmp/x.duckdb', extra = ''): string =>
  `source:\n  type: mysql\n  hostname: db\n  username: cdc\n  password: s3cret-pw\n  tables: app.\\.*\nsink:\n  ${sink}\n${extra}`;

describe('Flink CDC pipeline files', () => {
  it("Flink CDC's MySQL -> StarRocks quickstart file parses as it means", () => {
    const d = parsePipelineDefinition('mysql-to-starrocks.yaml', FLINK_CDC_STARROCKS);
    expect(d.source).toMatchObject({ hostname: 'localhost', port: 3306, username: 'root', password: '123456', serverIdRange: [5400, 5404], serverTimeZone: 'UTC', startup: 'initial' });
    expect(d.sink).toEqual({ type: 'starrocks', feUrls: ['http://127.0.0.1:8080'], username: 'root', password: '' });
    expect(d.pipeline).toEqual({ name: 'Sync MySQL Database to StarRocks', parallelism: 2, schemaChangeBehavior: 'lenient' });
    expect(d.routes.map((r) => [r.sourceTable.text, r.sinkTable])).toEqual([['app_db.orders', 'ods_db.ods_orders'], ['app_db.shipments', 'ods_db.ods_shipments'], ['app_db.products', 'ods_db.ods_products']]);
    expect(d.ignored).toEqual(['line 21 sink.table.create.properties.replication_num']);
    expect(matchesTable(d.source.tables, 'app_db.orders')).toBe(true);
    expect(matchesTable(d.source.tables, 'other_db.orders')).toBe(false);
    expect(sinkTableOf(d.routes, 'app_db.shipments')).toBe('ods_db.ods_shipments');
    expect(sinkTableOf(d.routes, 'app_db.customers')).toBe('app_db.customers');
  });

  it("Flink CDC's MySQL -> Paimon example parses; its table patterns mean what Flink CDC's do", () => {
    const d = parsePipelineDefinition('paimon.yaml', FLINK_CDC_PAIMON);
    expect(d.sink).toEqual({ type: 'lake', warehouse: '/path/warehouse', tableOptions: {} });
    expect(d.sinkTypeAsWritten).toBe('paimon');
    const m = (t: string): boolean => matchesTable(d.source.tables, t);
    expect([m('adb.anything'), m('bdb.user_table_12'), m('bdb.user_table_x'), m('cdb.t')]).toEqual([true, true, false, false]);
    // as in Java's regexes, \`[app|web]\` is a character class: one of a p | w e b (the docs' example reads otherwise)
    expect([m('a.order_1'), m('w.order_x'), m('app.order_1')]).toEqual([true, true, false]);
    // `\.` is the regex '.', the first plain '.' separates database and table
    expect(m('adbx.t')).toBe(false);
  });

  it('the shipped example files parse', () => {
    for (const f of ['mysql-to-paimon.yaml', 'mysql-to-starrocks.yaml', 'mysql-to-duckdb.yaml']) {
      const d = parsePipelineDefinition(f, readFileSync(new URL(`../../../jobs/pipelines/${f}`, import.meta.url), 'utf8'));
      expect(d.source.type).toBe('mysql');
    }
  });

  it('an unknown sink type names the line, the key and the valid types', () => {
    const e = fails(base('type: starrrocks'));
    expect(e.message).toBe("pipeline.yaml:8 sink.type: unknown sink type 'starrrocks'; expected one of paimon, lake, starrocks, clickhouse, duckdb");
  });

  it('unknown keys, bad values, missing keys and YAML syntax errors name their line and key', () => {
    expect(fails(base(undefined, 'pipeline:\n  parallelism: two\n')).message).toBe("pipeline.yaml:11 pipeline.parallelism: must be a whole number from 1 to 1024, got 'two'");
    expect(fails(base(undefined, 'pipeline:\n  schema.change.behavior: evolv\n')).message).toBe("pipeline.yaml:11 pipeline.schema.change.behavior: 'evolv' is not one of lenient, try_evolve, evolve, ignore, exception");
    expect(fails(base(undefined, 'pipeline:\n  name: x\n  paralelism: 2\n')).message).toMatch(/^pipeline\.yaml:12 pipeline\.paralelism: unknown key; known keys here: name, parallelism/);
    expect(fails(base(undefined, 'route:\n  - source-table: app.a\n    sink-table: b\n')).message).toBe("pipeline.yaml:12 route[0].sink-table: 'b' is not db.table");
    expect(fails(base(undefined, 'route:\n  - sink-table: x.b\n')).message).toBe('pipeline.yaml:11 route[0].source-table: is missing: a db.table pattern');
    expect(fails('source:\n  type: mysql\n  hostname: db\n  username: u\n  tables: app\nsink:\n  type: lake\n  warehouse: /w\n').message).toMatch(/^pipeline\.yaml:5 source\.tables: 'app' is not db\.table/);
    expect(fails('source:\n  type: postgres\n').message).toBe("pipeline.yaml:2 source.type: unknown source type 'postgres'; expected mysql");
    expect(fails('source: [\n').message).toMatch(/^pipeline\.yaml:\d+ \(yaml\): /);
    expect(fails(base('type: paimon')).message).toMatch(/^pipeline\.yaml:7 sink\.catalog\.properties\.warehouse: is missing/);
    expect(fails(base(undefined, 'pipeline:\n  user-defined-function:\n    - name: addone\n')).message).toMatch(/^pipeline\.yaml:11 pipeline\.user-defined-function: user-defined functions/);
  });

  it('transform errors name the line, the key and the unsupported part', () => {
    const t = (projection: string, filter = 'id > 1'): string => base(undefined, `transform:\n  - source-table: app.orders\n    projection: ${projection}\n    filter: ${filter}\n`);
    expect(fails(t("\\*, DATE_FORMAT(ts, 'yyyy') AS y")).message).toBe("pipeline.yaml:12 transform[0].projection: function 'DATE_FORMAT' is not supported; supported: UPPER, LOWER, TRIM, CONCAT, CHAR_LENGTH, ABS, COALESCE, CAST (at 'DATE_FORMAT(ts, 'yyyy') AS y')");
    expect(fails(t('id', "status IN ('a', 'b')")).message).toMatch(/^pipeline\.yaml:13 transform\[0\]\.filter: 'IN' is not supported/);
    expect(fails(t('id, price * 2')).message).toMatch(/^pipeline\.yaml:12 transform\[0\]\.projection: the computed column 'price \* 2' needs a name: add AS <name>/);
    expect(fails(t('id', 'CASE WHEN id > 1 THEN TRUE END')).message).toMatch(/^pipeline\.yaml:13 transform\[0\]\.filter: 'CASE' is not supported/);
  });

  it('the password is in no error message', () => {
    const msgs = [fails(base('type: nope')), fails(base(undefined, 'pipeline:\n  parallelism: 0\n')), fails(base(undefined, 'bogus: 1\n'))].map((e) => e.message);
    for (const m of msgs) expect(m).not.toContain('s3cret-pw');
  });

  it('routes with replace-symbol, merged tables and transforms make the sink tables', () => {
    const d: PipelineDefinition = parsePipelineDefinition('p.yaml', base(undefined, [
      'route:',
      '  - source-table: app.order_[0-9]+',
      '    sink-table: ods.orders',
      '  - source-table: app.\\.*',
      '    sink-table: ods.ods_<>',
      '    replace-symbol: <>',
      'transform:',
      '  - source-table: app.users',
      '    projection: id, UPPER(name) AS name, age + 1 AS next_age',
      '    filter: age >= 18',
      '',
    ].join('\n')));
    const col = (name: string, type: string, nullable = true) => ({ name, type, nullable });
    const tables = {
      'app.order_1': { table: 'app.order_1', columns: [col('id', 'int(11)', false), col('amount', 'decimal(8,2)')], primaryKeys: ['id'] },
      'app.order_2': { table: 'app.order_2', columns: [col('id', 'int(11)', false), col('amount', 'decimal(8,2)'), col('note', 'varchar(10)')], primaryKeys: ['id'] },
      'app.users': { table: 'app.users', columns: [col('id', 'bigint(20)', false), col('name', 'varchar(20)'), col('age', 'int(11)'), col('secret', 'varchar(10)')], primaryKeys: ['id'] },
    };
    const plans = planSinkTables(d, tables);
    expect(plans.map((p) => [p.table, p.sources, p.schema.columns.map((c) => `${c.name}:${c.type}`)])).toEqual([
      ['ods.orders', ['app.order_1', 'app.order_2'], ['id:int(11)', 'amount:decimal(8,2)', 'note:varchar(10)']],
      ['ods.ods_users', ['app.users'], ['id:bigint(20)', 'name:varchar(65535)', 'next_age:bigint']],
    ]);
    const o = cdcOptions(d, tables);
    expect(o.databases).toEqual(['app']);
    expect(o.routes?.map((r) => [r.source.source, r.sink])).toEqual([['app\\.order_1', 'ods.orders'], ['app\\.order_2', 'ods.orders'], ['app\\.users', 'ods.ods_users']]);
    expect(o.tables!.test('app.users') && !o.tables!.test('app.other')).toBe(true);
  });

  it('a transform that drops a primary-key column fails naming it', () => {
    const d = parsePipelineDefinition('p.yaml', base(undefined, 'transform:\n  - source-table: app.t\n    projection: name\n'));
    expect(() => planSinkTables(d, { 'app.t': { table: 'app.t', columns: [{ name: 'id', type: 'int', nullable: false }, { name: 'name', type: 'text', nullable: true }], primaryKeys: ['id'] } }))
      .toThrow("p.yaml:12 transform[0].projection: the primary-key column 'id' of app.t is not in the projection");
  });
});
