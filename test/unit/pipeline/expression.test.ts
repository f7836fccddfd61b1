/** The transform expression subset: values, SQL null semantics, types, and what it rejects. */
import { describe, expect, it } from 'vitest';
import { compileExpression, compileFilter, ExpressionError, parseExpression, parseProjection } from '../../../connectors/pipeline/expression.ts';
import { PipelineTransformer } from '../../../connectors/pipeline/transform.ts';
import { parsePipelineDefinition } from '../../../connectors/pipeline/definition.ts';
import type { CdcRecord, CdcTableSchema } from '../../../connectors/mysql/cdc/types.ts';

const columns = [
  { name: 'id', type: 'int(11)', nullable: false },
  { name: 'big', type: 'bigint(20)', nullable: true },
  { name: 'price', type: 'decimal(8,2)', nullable: true },
  { name: 'name', type: 'varchar(20)', nullable: true },
  { name: 'ok', type: 'bit(1)', nullable: true },
];
const row = { id: 7, big: 10n, price: '2.50', name: 'Ab c', ok: true };
const ev = (text: string, r: Record<string, unknown> = row): unknown => compileExpression(parseExpression(text), columns).evaluate(r as never);
const type = (text: string): string => compileExpression(parseExpression(text), columns).type;

function rejects(text: string): ExpressionError {
  try {
    compileExpression(parseExpression(text), columns);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError);
    return e as ExpressionError;
  }
  throw new Error(`'${text}' was accepted`);
}

describe('transform expressions', () => {
  it('evaluates column references, literals, arithmetic, comparisons and functions', () => {
    expect(ev('id + 1')).toBe(8n);
    expect(ev('big * 3 - id')).toBe(23n);
    expect(ev('id / 2')).toBe(3.5);
    expect(ev('id % 4')).toBe(3n);
    expect(ev('price * 2')).toBe(5);
    expect(ev('-id')).toBe(-7);
    expect(ev('(id + 1) * 2')).toBe(16n);
    expect(ev('UPPER(name)')).toBe('AB C');
    expect(ev('lower(name)')).toBe('ab c');
    expect(ev("CONCAT(name, '-', id)")).toBe('Ab c-7');
    expect(ev("name || '!'")).toBe('Ab c!');
    expect(ev("TRIM('  x ')")).toBe('x');
    expect(ev('CHAR_LENGTH(name)')).toBe(4);
    expect(ev('ABS(0 - big)')).toBe(10n);
    expect(ev('CAST(price AS INT)')).toBe(2n);
    expect(ev('CAST(id AS VARCHAR(10))')).toBe('7');
    expect(ev("CAST('3.25' AS DOUBLE)")).toBe(3.25);
    expect(ev('COALESCE(NULL, id)')).toBe(7);
    expect(ev('id > 5 AND big <= 10 AND price = 2.5')).toBe(true);
    expect(ev("name <> 'x' OR id < 0")).toBe(true);
    expect(ev('NOT ok')).toBe(false);
    expect(ev('big > id')).toBe(true);
    expect(ev('`name` IS NOT NULL')).toBe(true);
    expect(ev("'it''s'")).toBe("it's");
  });

  it('follows SQL null semantics: NULL propagates, AND/OR are three-valued, a filter keeps only TRUE', () => {
    const r = { ...row, big: null, name: null };
    expect(ev('big + 1', r)).toBe(null);
    expect(ev('big > 1', r)).toBe(null);
    expect(ev('big > 1 AND id > 100', r)).toBe(false);
    expect(ev('big > 1 OR id > 1', r)).toBe(true);
    expect(ev('big > 1 OR id > 100', r)).toBe(null);
    expect(ev('UPPER(name)', r)).toBe(null);
    expect(ev('big IS NULL', r)).toBe(true);
    expect(ev('id / 0')).toBe(null);
    const f = compileFilter(parseExpression('big > 1'), columns);
    expect([f(row as never), f(r as never)]).toEqual([true, false]);
  });

  it('types results: exact integer arithmetic is BIGINT, division and decimals DOUBLE', () => {
    expect([type('id + 1'), type('id / 2'), type('price + 1'), type('UPPER(name)'), type('id > 1'), type('CAST(name AS BIGINT)')]).toEqual(['bigint', 'double', 'double', 'string', 'boolean', 'bigint']);
  });

  it('rejects what is outside the subset, naming the part and where it starts', () => {
    expect(rejects("DATE_FORMAT(name, 'x')").reason).toMatch(/^function 'DATE_FORMAT' is not supported/);
    const inList = rejects('id IN (1, 2)');
    expect(inList.reason).toMatch(/^'IN' is not supported/);
    expect(inList.at).toBe(3);
    expect(rejects("name LIKE 'a%'").reason).toMatch(/^'LIKE' is not supported/);
    expect(rejects('CASE WHEN id > 1 THEN 1 END').reason).toMatch(/^'CASE' is not supported/);
    expect(rejects('id BETWEEN 1 AND 2').reason).toMatch(/^'BETWEEN' is not supported/);
    expect(rejects('CAST(id AS DECIMAL(10, 2))').reason).toMatch(/^CAST to 'DECIMAL' is not supported/);
    expect(rejects('id ? 1').reason).toBe("'?' is not supported");
    expect(rejects('nope + 1').reason).toMatch(/^unknown column 'nope'/);
    expect(rejects("name + 1").reason).toBe("'+' needs numbers, got string");
    expect(rejects("id > 'x'").reason).toBe('cannot compare int with string (CAST one side)');
    expect(rejects('id +').reason).toBe('the expression ends where a value was expected');
    expect(() => compileFilter(parseExpression('id + 1'), columns)).toThrow(/a filter must be a condition/);
  });

  it('parses projections: *, aliases with and without AS, Flink CDC\'s escaped \\*', () => {
    const items = parseProjection('\\*, UPPER(name) AS up, id + 1 next_id, `name`');
    expect(items.map((i) => (i.star ? '*' : i.name))).toEqual(['*', 'up', 'next_id', 'name']);
    expect(() => parseProjection('id + 1')).toThrow(/needs a name: add AS <name>/);
  });
});

describe('the pipeline transformer', () => {
  const def = parsePipelineDefinition('p.yaml', [
    'source:', '  type: mysql', '  hostname: db', '  username: u', '  tables: app.\\.*',
    'sink:', '  type: duckdb', '  path: /tmp/x.duckdb',
    'transform:',
    '  - source-table: app.users',
    '    projection: \\*, UPPER(name) AS name',
    '    filter: age >= 18',
  ].join('\n'));
  const schema: CdcTableSchema = { table: 'app.users', columns: [{ name: 'id', type: 'int', nullable: false }, { name: 'name', type: 'varchar(9)', nullable: true }, { name: 'age', type: 'int', nullable: true }], primaryKeys: ['id'] };
  const rec = (kind: '+I' | '-U' | '+U' | '-D', row: Record<string, unknown>): CdcRecord => ({ kind, row: row as never, table: 'app.users', sourceTable: 'app.users', schema });
  const run = (rs: CdcRecord[]): string[] => {
    const t = new PipelineTransformer(def);
    const out: string[] = [];
    for (const r of rs) t.apply(r, (x) => out.push(x.kind === 'schema' ? `schema ${x.change.type}` : `${x.kind} ${JSON.stringify(x.row)}`));
    return out;
  };

  it('projects in place, filters, and turns updates across the filter into deletes and inserts', () => {
    expect(run([
      rec('+I', { id: 1, name: 'ann', age: 30 }),
      rec('+I', { id: 2, name: 'bob', age: 12 }),
      rec('-U', { id: 2, name: 'bob', age: 12 }), rec('+U', { id: 2, name: 'bob', age: 18 }),
      rec('-U', { id: 1, name: 'ann', age: 30 }), rec('+U', { id: 1, name: 'ann', age: 3 }),
      rec('-D', { id: 2, name: 'bob', age: 18 }),
    ])).toEqual([
      '+I {"id":1,"name":"ANN","age":30}',
      '+I {"id":2,"name":"BOB","age":18}',
      '-D {"id":1,"name":"ANN","age":30}',
      '-D {"id":2,"name":"BOB","age":18}',
    ]);
  });

  it('passes column changes through a projection with *; recompiles for the new columns', () => {
    const s2: CdcTableSchema = { ...schema, columns: [...schema.columns, { name: 'city', type: 'varchar(9)', nullable: true }] };
    const out = run([
      { kind: 'schema', change: { type: 'add-column', column: { name: 'city', type: 'varchar(9)', nullable: true } }, table: 'app.users', sourceTable: 'app.users', schema: s2, ddl: 'ALTER TABLE users ADD city varchar(9)', tolerateFailure: false },
      { kind: '+I', row: { id: 3, name: 'cy', age: 40, city: 'x' }, table: 'app.users', sourceTable: 'app.users', schema: s2 },
    ]);
    expect(out).toEqual(['schema add-column', '+I {"id":3,"name":"CY","age":40,"city":"x"}']);
  });
});
