import { describe, expect, it } from 'vitest';
import { ConfigError } from 'weir';
import { deletion, insert, updateAfter, updateBefore } from '../../../operators/changelog.ts';
import { ChangeFolder, resolveSchema } from '../../../connectors/olap/index.ts';

type Row = { id: number; v: string };
const keyed = resolveSchema<Row>({ table: 't', primaryKey: ['id'], columns: { id: 'INTEGER', v: 'VARCHAR' } }, undefined, 's');

describe('ChangeFolder', () => {
  it('keeps the last change per key, in the order of each key last change; -U is dropped', () => {
    const f = new ChangeFolder(keyed, 's');
    f.add(insert<Row>({ id: 1, v: 'a' }));
    f.add(insert<Row>({ id: 2, v: 'b' }));
    f.add(updateBefore<Row>({ id: 1, v: 'a' }));
    f.add(updateAfter<Row>({ id: 1, v: 'a2' }));
    f.add(deletion<Row>({ id: 2, v: 'b' }));
    f.add(insert<Row>({ id: 3, v: 'c' }));
    expect(f.size).toBe(3);
    expect(f.changes).toBe(6);
    expect(f.droppedUpdateBefore).toBe(1);
    const b = f.take(10);
    expect(b.rows).toEqual([[1, 'a2'], [2, 'b'], [3, 'c']]);
    expect([...b.deleted]).toEqual([0, 1, 0]);
    expect(b.firstSeq).toBe(10);
    expect(b.changes).toBe(6);
    expect(f.size).toBe(0);
    expect(f.bytes).toBe(0);
  });

  it('a delete then an insert of one key is an upsert of the new row', () => {
    const f = new ChangeFolder(keyed, 's');
    f.add(insert<Row>({ id: 1, v: 'a' }));
    f.add(deletion<Row>({ id: 1, v: 'a' }));
    f.add(insert<Row>({ id: 1, v: 'z' }));
    const b = f.take(0);
    expect(b.rows).toEqual([[1, 'z']]);
    expect([...b.deleted]).toEqual([0]);
  });

  it('folds composite keys by value', () => {
    const s = resolveSchema<{ a: string; b: bigint; n: number }>({ table: 't', primaryKey: ['a', 'b'] }, { a: 'x', b: 1n, n: 1 }, 's');
    const f = new ChangeFolder(s, 's');
    f.add(insert({ a: 'x', b: 1n, n: 1 }));
    f.add(insert({ a: 'x', b: 2n, n: 2 }));
    f.add(updateAfter({ a: 'x', b: 1n, n: 3 }));
    expect(f.take(0).rows).toEqual([['x', 2n, 2], ['x', 1n, 3]]);
  });

  it('an append-only table keeps every insert and refuses retractions, asking for a primary key', () => {
    const s = resolveSchema<Row>({ table: 'events' }, { id: 1, v: 'a' }, 'my-sink');
    const f = new ChangeFolder(s, 'my-sink');
    f.add(insert<Row>({ id: 1, v: 'a' }));
    f.add(insert<Row>({ id: 1, v: 'a' }));
    expect(() => f.add(deletion<Row>({ id: 1, v: 'a' }))).toThrow(ConfigError);
    expect(() => f.add(deletion<Row>({ id: 1, v: 'a' }))).toThrow(/my-sink.primaryKey: table 'events' has no primary key, so the sink cannot apply a -D change/);
    expect(f.take(0).rows).toEqual([[1, 'a'], [1, 'a']]);
  });
});
