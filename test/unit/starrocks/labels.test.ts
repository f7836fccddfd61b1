/** The StarRocks sink's label scheme, restore decision and row encoding (connectors/starrocks). */
import { describe, expect, it } from 'vitest';
import { commitOutcome, firstCandidateEpoch, lingeringAction, lingeringCandidates, ownedOldSubtasks, transactionLabel } from '../../../connectors/starrocks/labels.ts';
import { RowEncoder } from '../../../connectors/starrocks/encode.ts';

describe('StarRocks labels', () => {
  it('name prefix, table, subtask, epoch and checkpoint, with characters StarRocks refuses replaced', () => {
    expect(transactionLabel({ prefix: 'weir', table: 'orders', subtask: 3, epoch: 2, checkpoint: 41 })).toBe('weir-orders-3-2-41');
    expect(transactionLabel({ prefix: 'my job', table: 'a.b', subtask: 0, epoch: 1, checkpoint: 1 })).toBe('my_job-a_b-0-1-1');
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

describe('StarRocks row encoding', () => {
  const options = { columns: ['id', 'name'], primaryKeyTable: true, partialUpdate: false, ignoreUpdateBefore: true };

  it('JSON: upserts and deletes via __op, -U skipped', () => {
    const e = new RowEncoder({ ...options, format: 'json' });
    expect(e.headers).toEqual({ format: 'json', strip_outer_array: 'true', columns: 'id,name,__op' });
    const rows = [{ id: 1, name: 'a' }, { kind: '+U', row: { id: 1, name: 'b' } }, { kind: '-U', row: { id: 1, name: 'a' } }, { kind: '-D', row: { id: 2, name: null } }].map((r) => e.encode(r));
    expect(rows).toEqual(['{"id":1,"name":"a","__op":0}', '{"id":1,"name":"b","__op":0}', undefined, '{"id":2,"name":null,"__op":1}']);
    expect(e.body(rows.filter((r) => r !== undefined))).toBe('[{"id":1,"name":"a","__op":0},{"id":1,"name":"b","__op":0},{"id":2,"name":null,"__op":1}]');
  });

  it('CSV: tab-separated with \\N for null; a tab in a value is a bad record naming the field', () => {
    const e = new RowEncoder({ ...options, format: 'csv' });
    expect(e.encode({ id: 1, name: null })).toBe('1\t\\N\t0');
    expect(() => e.encode({ id: 1, name: 'a\tb' })).toThrow(/field 'name' contains a tab/);
  });

  it('a Duplicate Key table takes no deletes', () => {
    const e = new RowEncoder({ ...options, primaryKeyTable: false, format: 'json' });
    expect(e.encode({ id: 1, name: 'a' })).toBe('{"id":1,"name":"a"}');
    expect(() => e.encode({ kind: '-D', row: { id: 1, name: 'a' } })).toThrow(/Duplicate Key table/);
  });
});
