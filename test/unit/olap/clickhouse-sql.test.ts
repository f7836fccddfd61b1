/** ClickHouse SQL of the sink (no server): tables, the versioned copy, JSONEachRow encoding. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from 'weir';
import { copyStagedSql, createStagingSql, createTargetSql, stagedRowsJson } from '../../../connectors/clickhouse/sql.ts';
import { resolveSchema, type OlapTableSchema } from '../../../connectors/olap/index.ts';

const schema: OlapTableSchema = resolveSchema<{ id: bigint; ok: boolean; at: Date; d: string; s: string }>(
  { table: 'orders', primaryKey: ['id'], columns: { d: 'DATE' } },
  { id: 1n, ok: true, at: new Date(0), d: '2026-01-01', s: 'x' },
  'ch',
);

describe('ClickHouse sink SQL', () => {
  it('creates a ReplacingMergeTree on the key with version and delete flag, and a staging table by checkpoint', () => {
    expect(createTargetSql(schema, 'ch')).toBe(
      'CREATE TABLE IF NOT EXISTS `orders` (`id` Int64, `ok` Nullable(UInt8), `at` Nullable(DateTime), `d` Nullable(Date), `s` Nullable(String), _weir_version UInt64, _weir_deleted UInt8) ENGINE = ReplacingMergeTree(_weir_version) ORDER BY (`id`)',
    );
    expect(createStagingSql(schema, 'ch')).toMatch(/^CREATE TABLE IF NOT EXISTS `orders__weir_staging` \(.*_weir_checkpoint UInt64, _weir_batch String, _weir_writer UInt16, _weir_seq UInt64, _weir_deleted UInt8\) ENGINE = MergeTree\(\) PARTITION BY _weir_checkpoint ORDER BY \(_weir_batch, _weir_seq\)$/);
    const appendOnly = { ...schema, primaryKey: [] };
    expect(createTargetSql(appendOnly, 'ch')).toMatch(/_weir_writer UInt16\) ENGINE = ReplacingMergeTree\(_weir_version\) ORDER BY \(_weir_version, _weir_writer\)$/);
  });

  it('copies batches with version checkpoint * 2^32 + seq', () => {
    expect(copyStagedSql(schema, 7, [6, 6, 7], ['a', "b'c"])).toBe(
      "INSERT INTO `orders` (`id`, `ok`, `at`, `d`, `s`, _weir_version, _weir_deleted) SELECT `id`, `ok`, `at`, `d`, `s`, toUInt64(7) * 4294967296 + _weir_seq, _weir_deleted FROM `orders__weir_staging` WHERE _weir_checkpoint IN (6, 7) AND _weir_batch IN ('a', 'b\\'c')",
    );
  });

  it('encodes rows as JSONEachRow: Int64 quoted, booleans as 0/1, DateTime in UTC seconds, nulls', () => {
    const text = stagedRowsJson(schema.columns, [[5n, true, new Date(Date.UTC(2026, 11, 4, 21, 5, 9, 750)), '2026-12-04', 'a"b'], [6n, null, null, null, null]], Uint8Array.of(0, 1), {
      checkpoint: 3,
      batch: 'w0-x-3-0',
      writer: 0,
      firstSeq: 10,
    });
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual([
      { id: '5', ok: 1, at: '2026-12-04 21:05:09', d: '2026-12-04', s: 'a"b', _weir_checkpoint: 3, _weir_batch: 'w0-x-3-0', _weir_writer: 0, _weir_seq: 10, _weir_deleted: 0 },
      { id: '6', ok: null, at: null, d: null, s: null, _weir_checkpoint: 3, _weir_batch: 'w0-x-3-0', _weir_writer: 0, _weir_seq: 11, _weir_deleted: 1 },
    ]);
  });

  it('refuses BLOB columns, naming the field', () => {
    const blob = resolveSchema({ table: 't' }, { b: new Uint8Array(1) }, 'ch');
    expect(() => createTargetSql(blob, 'clickhouse-sink')).toThrow(ConfigError);
    expect(() => createTargetSql(blob, 'clickhouse-sink')).toThrow(/clickhouse-sink.columns.b: ClickHouse has no column for BLOB values/);
  });
});
