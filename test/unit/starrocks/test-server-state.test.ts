/**
 * The state machine of the loopback StarRocks test server (test/services/starrocks/state.ts): label
 * states, timeouts, label reuse, what a restart keeps, Primary Key upserts, deletes and partial
 * updates, and the answers StarRocks documents for each case.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StarRocksState, type LoadParams } from '../../services/starrocks/state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): { dir: string; state: StarRocksState; clock: { now: number } } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sr-state-'));
  dirs.push(dir);
  const clock = { now: 1_000_000 };
  const state = new StarRocksState(dir, () => clock.now);
  state.createTable({ db: 'd', table: 'pk', columns: [{ name: 'id', type: 'INT' }, { name: 'name', type: 'VARCHAR' }, { name: 'n', type: 'INT' }], primaryKey: ['id'] });
  state.createTable({ db: 'd', table: 'dup', columns: [{ name: 'id', type: 'INT' }, { name: 'name', type: 'VARCHAR' }], primaryKey: [] });
  return { dir, state, clock };
}

const json: LoadParams = { format: 'json', stripOuterArray: true, columns: 'id,name,n,__op' };

describe('StarRocks test server state', () => {
  it('a transaction goes PREPARE -> PREPARED -> VISIBLE and its rows appear only at the commit', () => {
    const { state } = fresh();
    expect(state.labelState('d', 'a')).toBe('UNKNOWN');
    expect(state.begin('d', 'pk', 'a')).toMatchObject({ Status: 'OK', Label: 'a' });
    expect(state.labelState('d', 'a')).toBe('PREPARE');
    expect(state.load('d', 'pk', 'a', '[{"id":1,"name":"x","n":1,"__op":0},{"id":2,"name":"y","n":2,"__op":0}]', json)).toMatchObject({ Status: 'OK', NumberLoadedRows: 2 });
    expect(state.load('d', 'pk', 'a', '[{"id":1,"name":"x2","n":3,"__op":0}]', json)).toMatchObject({ Status: 'OK' });
    expect(state.prepare('d', 'a')).toMatchObject({ Status: 'OK' });
    expect(state.labelState('d', 'a')).toBe('PREPARED');
    expect(state.tableRows('d', 'pk')).toEqual([]);
    expect(state.load('d', 'pk', 'a', '[]', json)).toMatchObject({ Status: 'FAILED', Message: 'Transcation State Invalid' });
    expect(state.commit('d', 'a')).toMatchObject({ Status: 'OK' });
    expect(state.labelState('d', 'a')).toBe('VISIBLE');
    expect(state.tableRows('d', 'pk')).toEqual([
      { id: 1, name: 'x2', n: 3 },
      { id: 2, name: 'y', n: 2 },
    ]);
    // committing again is harmless, rolling back is refused
    expect(state.commit('d', 'a')).toMatchObject({ Status: 'OK', Message: 'Transaction already commited' });
    expect(state.rollback('d', 'a')).toMatchObject({ Status: 'FAILED' });
  });

  it('a label in use cannot be begun again; beginning an open one aborts it; an aborted one may be reused', () => {
    const { state } = fresh();
    state.begin('d', 'pk', 'a');
    state.load('d', 'pk', 'a', '[{"id":1,"name":"x","n":1,"__op":0}]', json);
    expect(state.begin('d', 'pk', 'a')).toMatchObject({ Status: 'LABEL_ALREADY_EXISTS', ExistingJobStatus: 'RUNNING' });
    expect(state.labelState('d', 'a')).toBe('ABORTED');
    expect(state.begin('d', 'pk', 'a')).toMatchObject({ Status: 'OK' });
    state.commit('d', 'a');
    expect(state.begin('d', 'pk', 'a')).toMatchObject({ Status: 'LABEL_ALREADY_EXISTS', ExistingJobStatus: 'FINISHED' });
    expect(state.tableRows('d', 'pk')).toEqual([]); // the aborted one's row never showed
    expect(state.begin('d', 'pk', 'a b')).toMatchObject({ Status: 'FAILED', Message: expect.stringMatching(/Label format error/) });
    expect(state.begin('d', 'pk', 'x'.repeat(129))).toMatchObject({ Status: 'FAILED' });
    const begins = state.labelLog().filter((e) => e.event === 'begin').map((e) => e.result);
    expect(begins).toEqual(['OK', 'LABEL_ALREADY_EXISTS', 'OK', 'LABEL_ALREADY_EXISTS']);
  });

  it('timeout, idle_transaction_timeout and prepared_timeout roll transactions back', () => {
    const { state, clock } = fresh();
    state.begin('d', 'pk', 't', { timeoutS: 10 });
    state.begin('d', 'pk', 'i', { timeoutS: 100, idleTimeoutS: 2 });
    state.begin('d', 'pk', 'p');
    state.prepare('d', 'p', { preparedTimeoutS: 30 });
    clock.now += 1500;
    state.load('d', 'pk', 'i', '[{"id":1,"name":"x","n":1,"__op":0}]', json); // activity keeps it alive
    clock.now += 1500;
    expect(state.labelState('d', 'i')).toBe('PREPARE');
    clock.now += 2100;
    expect(state.labelState('d', 'i')).toBe('ABORTED');
    expect(state.labelState('d', 't')).toBe('PREPARE');
    clock.now += 6000;
    expect(state.labelState('d', 't')).toBe('ABORTED');
    expect(state.labelState('d', 'p')).toBe('PREPARED');
    clock.now += 20_000;
    expect(state.labelState('d', 'p')).toBe('ABORTED');
    expect(state.commit('d', 'p')).toMatchObject({ Status: 'FAILED' });
    expect(state.transactions().find((t) => t.label === 'p')?.reason).toMatch(/prepared_timeout/);
  });

  it('a restart keeps tables, committed rows and PREPARED transactions, and rolls back PREPARE ones', () => {
    const { dir, state, clock } = fresh();
    state.begin('d', 'pk', 'done');
    state.load('d', 'pk', 'done', '[{"id":1,"name":"x","n":1,"__op":0}]', json);
    state.commit('d', 'done');
    state.begin('d', 'pk', 'prepared');
    state.load('d', 'pk', 'prepared', '[{"id":2,"name":"y","n":2,"__op":0}]', json);
    state.prepare('d', 'prepared');
    state.begin('d', 'pk', 'open');
    state.load('d', 'pk', 'open', '[{"id":3,"name":"z","n":3,"__op":0}]', json);
    const again = new StarRocksState(dir, () => clock.now);
    expect(again.tableRows('d', 'pk')).toEqual([{ id: 1, name: 'x', n: 1 }]);
    expect(again.labelState('d', 'prepared')).toBe('PREPARED');
    expect(again.labelState('d', 'open')).toBe('ABORTED');
    expect(again.commit('d', 'prepared')).toMatchObject({ Status: 'OK' });
    expect(again.tableRows('d', 'pk').map((r) => r.id)).toEqual([1, 2]);
    // the label log survives too, with the restart's rollback in it
    expect(again.labelLog().filter((e) => e.label === 'open').map((e) => e.event)).toEqual(['begin', 'load', 'abort']);
  });

  it('deletes via __op, partial updates, and a Duplicate Key table refusing __op', () => {
    const { state } = fresh();
    const csv: LoadParams = { format: 'csv', columnSeparator: ',', columns: 'id,name,n,__op' };
    expect(state.streamLoad('d', 'pk', 's1', '1,a,1,0\n2,b,2,0\n3,c,3,0\n', csv)).toMatchObject({ Status: 'Success', NumberLoadedRows: 3 });
    expect(state.streamLoad('d', 'pk', 's2', '2,\\N,\\N,1\n', csv)).toMatchObject({ Status: 'Success' });
    expect(state.streamLoad('d', 'pk', 's3', '[{"id":3,"n":30},{"id":4,"n":40}]', { format: 'json', stripOuterArray: true, columns: 'id,n', partialUpdate: true })).toMatchObject({ Status: 'Success' });
    expect(state.tableRows('d', 'pk')).toEqual([
      { id: 1, name: 'a', n: 1 },
      { id: 3, name: 'c', n: 30 },
      { id: 4, name: null, n: 40 },
    ]);
    expect(state.streamLoad('d', 'pk', 's1', '9,z,9,0\n', csv)).toMatchObject({ Status: 'Label Already Exists', ExistingJobStatus: 'FINISHED' });
    expect(state.streamLoad('d', 'dup', 's4', '1,a,0\n', { format: 'csv', columnSeparator: ',', columns: 'id,name,__op' })).toMatchObject({ Status: 'Fail', Message: expect.stringMatching(/Primary Key/) });
    expect(state.streamLoad('d', 'dup', 's5', '1\ta\n1\ta\n', { format: 'csv' })).toMatchObject({ Status: 'Success' });
    expect(state.tableRows('d', 'dup')).toEqual([
      { id: 1, name: 'a' },
      { id: 1, name: 'a' },
    ]);
  });

  it('rejected rows fail the load with an error log, and the transaction is rolled back', () => {
    const { state } = fresh();
    state.begin('d', 'pk', 'bad');
    const a = state.load('d', 'pk', 'bad', 'x,a,1\n', { format: 'csv', columnSeparator: ',' });
    expect(a).toMatchObject({ Status: 'FAILED', Message: 'too many filtered rows', NumberFilteredRows: 1 });
    expect(state.errorLogs.get(a.ErrorURL as string)?.[0]).toMatch(/column 'id' is not a INT/);
    expect(state.labelState('d', 'bad')).toBe('ABORTED');
    // the loads of one transaction must share their parameters
    state.begin('d', 'pk', 'mixed');
    state.load('d', 'pk', 'mixed', '[{"id":1,"name":"x","n":1,"__op":0}]', json);
    expect(state.load('d', 'pk', 'mixed', '1,a,1,0\n', { format: 'csv', columnSeparator: ',', columns: 'id,name,n,__op' })).toMatchObject({ Status: 'FAILED' });
  });
});
