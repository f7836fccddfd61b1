/** The StarRocks sink's label scheme, restore decision and row encoding (connectors/starrocks). */
import { describe, expect, it } from 'vitest';
import { starrocksSink } from 'weir/starrocks';
import { commitOutcome, firstCandidateEpoch, lingeringAction, lingeringCandidates, ownedOldSubtasks, transactionLabel } from '../../../connectors/starrocks/labels.ts';
import { encodeBatch, loadHeaders } from '../../../connectors/starrocks/encode.ts';
import { ChangeFolder, type FoldedBatch } from '../../../connectors/olap/changes.ts';
import type { OlapTableSchema } from '../../../connectors/olap/schema.ts';
import { deletion, insert, updateAfter, updateBefore, type Change } from '../../../operators/changelog.ts';

describe('StarRocks labels', () => {
  it('name prefix, table, subtask, epoch and checkpoint, with characters StarRocks refuses replaced', () => {
    expect(transactionLabel({ prefix: 'weir', table: 'orders', subtask: 3, epoch: 2, checkpoint: 41 })).toBe('weir-orders-3-2-41');
    expect(transactionLabel({ prefix: 'my job', table: 'a.b', subtask: 0, epoch: 1, checkpoint: 1 })).toBe('my_job-a_b-0-1-1');
  });

  it('a prefix that would make labels longer than StarRocks takes is a configuration error', () => {
    const base = { feUrl: 'http://fe:8030', database: 'd', table: 't', user: 'u', password: '' };
    expect(() => starrocksSink({ ...base, labelPrefix: 'p'.repeat(100) })).toThrow(/labelPrefix.*at most 128/);
    expect(() => starrocksSink({ ...base, feUrl: 'http://u:secret@fe:8030' })).toThrow(/must not carry credentials/);
  });

  it('a restored writer starts one epoch past every restored one, so a replay never meets its old labels', () => {
    expect(firstCandidateEpoch([])).toBe(1);
    expect(firstCandidateEpoch([{ subtask: 0, epoch: 4 }, { subtask: 1, epoch: 7 }])).toBe(8);
    // the same checkpoint under two epochs: different labels
    const before = transactionLabel({ prefix: 'p', table: 't', subtask: 0, epoch: 7, checkpoint: 12 });
    const after = transactionLabel({ prefix: 'p', table: 't', subtask: 0, epoch: firstCandidateEpoch([{ subtask: 0, epoch: 7 }]), checkpoint: 12 });
    expect(after).not.toBe(before);
  });

  it('after a rescale down, a subtask cleans up for the old subtasks that map to it', () => {
    const restored = [0, 1, 2, 3].map((subtask) => ({ subtask, epoch: 5 + subtask }));
    expect(ownedOldSubtasks(restored, 1, 2)).toEqual([{ subtask: 1, epoch: 6 }, { subtask: 3, epoch: 8 }]);
    expect(ownedOldSubtasks([], 2, 4)).toEqual([{ subtask: 2, epoch: 0 }]);
  });

  it('leftovers are probed for every epoch from the restored one to the chosen one, checkpoints after the restored one', () => {
    const labels = lingeringCandidates('p', 't', [{ subtask: 0, epoch: 3 }], 5, 10, 2);
    expect(labels).toEqual(['p-t-0-3-11', 'p-t-0-3-12', 'p-t-0-4-11', 'p-t-0-4-12']);
    expect(labels.some((l) => l.endsWith('-10'))).toBe(false); // the restored checkpoint's own transaction is the committer's
  });

  it('restore decision: open or prepared leftovers roll back; a commit answer is judged by the label state', () => {
    expect(lingeringAction('PREPARE')).toBe('rollback');
    expect(lingeringAction('PREPARED')).toBe('rollback');
    expect(lingeringAction('VISIBLE')).toBe('leave');
    expect(lingeringAction('ABORTED')).toBe('leave');
    expect(lingeringAction('UNKNOWN')).toBe('leave');
    expect(commitOutcome('VISIBLE')).toBe('committed');
    expect(commitOutcome('COMMITTED')).toBe('committed');
    expect(commitOutcome('PREPARED')).toBe('retry');
    expect(commitOutcome('ABORTED')).toBe('lost');
    expect(commitOutcome('UNKNOWN')).toBe('lost');
  });
});

describe('StarRocks load bodies', () => {
  const keyed: OlapTableSchema = { table: 't', columns: [{ name: 'id', type: 'INTEGER', nullable: false }, { name: 'name', type: 'VARCHAR', nullable: true }], primaryKey: ['id'] };

  function fold(schema: OlapTableSchema, changes: Change<unknown>[]): FoldedBatch {
    const folder = new ChangeFolder(schema, 'test');
    for (const c of changes) folder.add(c);
    return folder.take(0);
  }

  it('JSON: one row per key with __op (upsert 0, delete 1); the headers name the columns', () => {
    expect(loadHeaders(keyed, 'json', false)).toEqual({ format: 'json', strip_outer_array: 'true', columns: 'id,name,__op' });
    const batch = fold(keyed, [insert({ id: 1, name: 'a' }), updateBefore({ id: 1, name: 'a' }), updateAfter({ id: 1, name: 'b' }), insert({ id: 2, name: null }), deletion({ id: 2, name: null })]);
    expect(JSON.parse(encodeBatch(batch, 'json', 'test'))).toEqual([
      { id: 1, name: 'b', __op: 0 },
      { id: 2, name: null, __op: 1 },
    ]);
  });

  it('CSV: tab-separated with \\N for null; a tab in a value is a bad record naming the field', () => {
    expect(loadHeaders(keyed, 'csv', true)).toEqual({ format: 'csv', column_separator: '\\t', row_delimiter: '\\n', columns: 'id,name,__op', partial_update: 'true' });
    expect(encodeBatch(fold(keyed, [insert({ id: 1, name: null })]), 'csv', 'test')).toBe('1\t\\N\t0\n');
    expect(() => encodeBatch(fold(keyed, [insert({ id: 1, name: 'a\tb' })]), 'csv', 'test')).toThrow(/field 'name' of table 't' contains a tab/);
  });

  it('a table without a key gets plain rows; BIGINT, TIMESTAMP and JSON values as StarRocks reads them', () => {
    const plain: OlapTableSchema = { table: 't', columns: [{ name: 'n', type: 'BIGINT', nullable: true }, { name: 'at', type: 'TIMESTAMP', nullable: true }, { name: 'j', type: 'JSON', nullable: true }], primaryKey: [] };
    const body = encodeBatch(fold(plain, [insert({ n: 9007199254740993n, at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), j: { a: [1] } })]), 'json', 'test');
    expect(body).toBe('[{"n":9007199254740993,"at":"2026-01-02 03:04:05.006","j":"{\\"a\\":[1]}"}]');
  });
});
