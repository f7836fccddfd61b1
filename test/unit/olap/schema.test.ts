import { describe, expect, it } from 'vitest';
import { BadRecordError, ConfigError } from 'weir';
import { applySchemaChange, checkTableOptions, columnExtractor, resolveSchema } from '../../../connectors/olap/index.ts';

describe('OLAP table schema', () => {
  it('derives columns from the first record, in its field order; declared types win', () => {
    const s = resolveSchema<{ id: number; name: string; at: Date; big: bigint; ok: boolean; bytes: Uint8Array }>(
      { table: 'orders', primaryKey: ['id'], columns: { id: 'BIGINT' } },
      { id: 1, name: 'a', at: new Date(0), big: 5n, ok: true, bytes: new Uint8Array(2) },
      'test-sink',
    );
    expect(s).toEqual({
      table: 'orders',
      primaryKey: ['id'],
      columns: [
        { name: 'id', type: 'BIGINT', nullable: false },
        { name: 'name', type: 'VARCHAR', nullable: true },
        { name: 'at', type: 'TIMESTAMP', nullable: true },
        { name: 'big', type: 'BIGINT', nullable: true },
        { name: 'ok', type: 'BOOLEAN', nullable: true },
        { name: 'bytes', type: 'BLOB', nullable: true },
      ],
    });
    // a plain number is a double unless declared
    expect(resolveSchema({ table: 't' }, { x: 1 }, 's').columns[0]!.type).toBe('DOUBLE');
  });

  it('names the field that cannot be mapped and says what to declare', () => {
    const nested = (): unknown => resolveSchema({ table: 'orders' }, { id: 1, address: { city: 'x' } }, 'duckdb-sink');
    expect(nested).toThrow(BadRecordError);
    expect(nested).toThrow(/field 'address' of table 'orders' holds an object.*columns: \{ address: 'JSON' \}/);
    expect(() => resolveSchema({ table: 'orders' }, { id: 1, note: null }, 'duckdb-sink')).toThrow(/field 'note' .* holds null.*declare its type/);
    expect(() => resolveSchema({ table: 'orders' }, { id: 1, f: () => 1 }, 'duckdb-sink')).toThrow(/field 'f' .* a function/);
    // declared, the same fields are fine
    const s = resolveSchema<{ id: number; address: object; note: string | null }>({ table: 'orders', columns: { address: 'JSON', note: 'VARCHAR' } }, { id: 1, address: { city: 'x' }, note: null }, 's');
    expect(s.columns.map((c) => c.type)).toEqual(['DOUBLE', 'JSON', 'VARCHAR']);
  });

  it('rejects a primary key that is not a column, and bad names and types', () => {
    expect(() => resolveSchema<{ id: number }>({ table: 't', primaryKey: ['id'] }, { other: 1 }, 's')).toThrow(ConfigError);
    expect(() => resolveSchema<{ id: number }>({ table: 't', primaryKey: ['id'] }, { other: 1 }, 's')).toThrow(/s.primaryKey: 'id' is not a column of table 't'/);
    expect(() => checkTableOptions({ table: 'bad-name' }, 's')).toThrow(/s.table: 'bad-name' is not a table name/);
    expect(() => checkTableOptions({ table: 't', columns: { x: 'TEXT' as never } }, 's')).toThrow(/s.columns.x: 'TEXT' is not a column type/);
    expect(() => resolveSchema({ table: 't' }, { _weir_seq: 1 }, 's')).toThrow(/'_weir_seq' cannot be a column name/);
  });

  it('checks values against their column, naming the field', () => {
    const s = resolveSchema<{ id: number; n: number; at: number; d: string; j: unknown }>(
      { table: 't', primaryKey: ['id'], columns: { id: 'BIGINT', n: 'INTEGER', at: 'TIMESTAMP', d: 'DATE', j: 'JSON' } },
      undefined,
      's',
    );
    const extract = columnExtractor(s, 's');
    expect(extract({ id: 3, n: 7, at: 1000, d: '2026-12-04', j: { a: [1n] } })).toEqual([3n, 7, new Date(1000), '2026-12-04', '{"a":["1"]}']);
    expect(extract({ id: 3 })).toEqual([3n, null, null, null, null]);
    expect(() => extract({ id: 3, n: 1.5 })).toThrow(/field 'n' of table 't' is a INTEGER column and takes a 32-bit integer, got 1.5/);
    expect(() => extract({ n: 1 })).toThrow(/key field 'id' of table 't' is missing/);
    expect(() => extract({ id: 1, d: '4 Dec' })).toThrow(/field 'd'.*'YYYY-MM-DD'/);
  });

  it('applies schema changes, refusing what cannot apply', () => {
    const s = resolveSchema<{ id: bigint; a: string }>({ table: 't', primaryKey: ['id'] }, { id: 1n, a: 'x' }, 's');
    const added = applySchemaChange(s, { kind: 'addColumn', column: 'b', type: 'DOUBLE' }, 's');
    expect(added.columns.map((c) => c.name)).toEqual(['id', 'a', 'b']);
    const renamed = applySchemaChange(added, { kind: 'renameColumn', from: 'a', to: 'c' }, 's');
    expect(renamed.columns.map((c) => c.name)).toEqual(['id', 'c', 'b']);
    expect(applySchemaChange(renamed, { kind: 'dropColumn', column: 'c' }, 's').columns.map((c) => c.name)).toEqual(['id', 'b']);
    expect(() => applySchemaChange(s, { kind: 'dropColumn', column: 'id' }, 's')).toThrow(/'id' is a primary-key column/);
    // the same column again changes nothing; another type for it is an error
    expect(applySchemaChange(added, { kind: 'addColumn', column: 'b', type: 'DOUBLE' }, 's')).toBe(added);
    expect(() => applySchemaChange(added, { kind: 'addColumn', column: 'b', type: 'VARCHAR' }, 's')).toThrow(/column 'b' exists already as DOUBLE/);
  });
});
