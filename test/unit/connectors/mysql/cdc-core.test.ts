/**
 * The MySQL CDC source's pure parts: chunk splitting, the snapshot-to-binlog hand-off filter, the
 * enumerator (pull assignment, finished-chunk reports, the binlog split after a checkpoint, restore
 * mid-snapshot), DDL parsing and the schema-change behaviours.
 */
import { describe, expect, it } from 'vitest';
import { chunksFromSplitPoints, compareKeys, evenSplitPoints, inRange } from '../../../../connectors/mysql/cdc/chunks.ts';
import { HandoffFilter } from '../../../../connectors/mysql/cdc/handoff.ts';
import { MySqlCdcEnumerator, initialEnumeratorState, type Plan } from '../../../../connectors/mysql/cdc/enumerator.ts';
import { applySchemaChange, parseDdl } from '../../../../connectors/mysql/cdc/ddl.ts';
import { applyBehavior } from '../../../../connectors/mysql/cdc/schema-change.ts';
import { canonicalDecimal, canonicalFloat32 } from '../../../../connectors/mysql/cdc/values.ts';
import type { BinlogSplit, CdcTableSchema, FinishedChunk, MySqlCdcSplit } from '../../../../connectors/mysql/cdc/types.ts';
import type { SplitEnumeratorContext } from '../../../../runtime/source/contract.ts';

const schema: CdcTableSchema = { table: 'shop.t', columns: [{ name: 'id', type: 'int(11)', nullable: false }, { name: 'v', type: 'int(11)', nullable: true }], primaryKeys: ['id'] };

describe('chunk splitting', () => {
  it('splits dense keys evenly and covers every key exactly once', () => {
    const points = evenSplitPoints(1n, 1000n, 1000, 100)!;
    expect(points).toEqual([101n, 201n, 301n, 401n, 501n, 601n, 701n, 801n, 901n]);
    const chunks = chunksFromSplitPoints(schema, points.map(Number));
    expect(chunks.map((c) => [c.lo, c.hi])).toEqual([[null, 101], [101, 201], [201, 301], [301, 401], [401, 501], [501, 601], [601, 701], [701, 801], [801, 901], [901, null]]);
    for (const key of [-5, 1, 100, 101, 555, 901, 5000]) expect(chunks.filter((c) => inRange(key, c.lo, c.hi))).toHaveLength(1);
  });

  it('leaves sparse keys to the split-at-found-keys path, small tables in one chunk', () => {
    expect(evenSplitPoints(1n, 1_000_000n, 1000, 100)).toBeNull();
    expect(evenSplitPoints(1n, 50n, 50, 100)).toEqual([]);
  });

  it('compares numbers and bigints by value', () => {
    expect(compareKeys(2n ** 60n, 5)).toBeGreaterThan(0);
    expect(compareKeys(-1, 0n)).toBeLessThan(0);
    expect(compareKeys(7, 7n)).toBe(0);
  });
});

describe('hand-off filter', () => {
  const chunks: FinishedChunk[] = [
    { table: 'shop.t', lo: null, hi: 100, at: { file: 'binlog.000001', pos: 500 } },
    { table: 'shop.t', lo: 100, hi: 200, at: { file: 'binlog.000001', pos: 900 } },
    { table: 'shop.t', lo: 200, hi: null, at: { file: 'binlog.000002', pos: 300 } },
  ];

  it('emits an image only after the position of the chunk that covers its key', () => {
    const f = new HandoffFilter(chunks);
    const at = (file: string, pos: number) => ({ file: `binlog.00000${file}`, pos });
    expect(f.emits('shop.t', 5, at('1', 500))).toBe(false); // the transaction the chunk saw
    expect(f.emits('shop.t', 5, at('1', 600))).toBe(true);
    expect(f.emits('shop.t', 150, at('1', 600))).toBe(false); // chunk 2 was read later
    expect(f.emits('shop.t', 150, at('1', 901))).toBe(true);
    expect(f.emits('shop.t', 10_000, at('1', 901))).toBe(false); // last chunk: next file
    expect(f.emits('shop.t', 10_000, at('2', 301))).toBe(true);
    expect(f.emits('shop.other', 5, at('1', 10))).toBe(true); // no snapshot of it
  });

  it('is a no-op once past every chunk position', () => {
    const f = new HandoffFilter(chunks);
    expect(f.passed({ file: 'binlog.000002', pos: 299 })).toBe(false);
    expect(f.passed({ file: 'binlog.000002', pos: 301 })).toBe(true);
    expect(f.emits('shop.t', 5, { file: 'binlog.000001', pos: 1 })).toBe(true);
  });
});

/** An enumerator context that records assignments. */
function context(parallelism: number) {
  const assigned: [number, MySqlCdcSplit][] = [];
  const registered = new Set<number>();
  const asyncWork: (() => Promise<void>)[] = [];
  const ctx: SplitEnumeratorContext<MySqlCdcSplit> = {
    parallelism,
    registeredReaders: () => registered,
    assignSplits: (subtask, splits) => splits.forEach((s) => assigned.push([subtask, s])),
    signalNoMoreSplits: () => {},
    callAsync: (work, handle) => void asyncWork.push(async () => handle(await work())),
  };
  return { ctx, assigned, registered, runAsync: async () => { for (const w of asyncWork.splice(0)) await w(); } };
}

const plan = (): Plan => ({ schemas: { 'shop.t': schema }, chunks: chunksFromSplitPoints(schema, [100, 200]), binlog: null });

describe('enumerator', () => {
  it('hands out chunks on request, makes the binlog split from the reports after a checkpoint', async () => {
    const c = context(2);
    const e = new MySqlCdcEnumerator(c.ctx, initialEnumeratorState(), async () => plan());
    e.start();
    c.registered.add(0).add(1);
    e.addReader(0);
    e.addReader(1);
    await c.runAsync();
    expect(c.assigned.map(([s, split]) => [s, split.id])).toEqual([[0, 'chunk:shop.t:0'], [1, 'chunk:shop.t:1']]);
    e.handleSplitRequest(0);
    expect(c.assigned).toHaveLength(3);
    e.handleSplitRequest(1); // nothing left: waits
    expect(c.assigned).toHaveLength(3);
    const report = (i: number, pos: number) =>
      e.handleSourceEvent(i % 2, { type: 'chunk-finished', id: `chunk:shop.t:${i}`, chunk: { table: 'shop.t', lo: [null, 100, 200][i], hi: [100, 200, null][i] }, at: { file: 'binlog.000003', pos } });
    report(0, 700);
    report(2, 400);
    report(1, 900);
    report(1, 999); // repeated after a restore: the first report stands
    expect(c.assigned).toHaveLength(3); // not before a checkpoint completed
    e.snapshotState(5);
    e.notifyCheckpointComplete(4);
    expect(c.assigned).toHaveLength(3);
    e.notifyCheckpointComplete(5);
    const [subtask, binlog] = c.assigned[3]! as [number, BinlogSplit];
    expect(subtask).toBe(0);
    expect(binlog.start).toEqual({ file: 'binlog.000003', pos: 400 });
    expect(binlog.chunks.map((ch) => ch.at.pos)).toEqual([700, 400, 900]);
  });

  it('restored mid-snapshot, continues with the unassigned chunks and keeps the finished ones', async () => {
    const c = context(3);
    const e = new MySqlCdcEnumerator(c.ctx, initialEnumeratorState(), async () => plan());
    e.start();
    c.registered.add(0);
    e.addReader(0);
    await c.runAsync();
    e.handleSourceEvent(0, { type: 'chunk-finished', id: 'chunk:shop.t:0', chunk: { table: 'shop.t', lo: null, hi: 100 }, at: { file: 'binlog.000001', pos: 10 } });
    const state = e.snapshotState(1);

    const c2 = context(1);
    let planned = 0;
    const e2 = new MySqlCdcEnumerator(c2.ctx, state, async () => (planned++, plan()));
    e2.start();
    c2.registered.add(0);
    e2.addReader(0);
    await c2.runAsync();
    expect(planned).toBe(0); // no new plan: the snapshot goes on
    expect(c2.assigned.map(([, s]) => s.id)).toEqual(['chunk:shop.t:1']);
    e2.handleSplitRequest(0);
    expect(c2.assigned.map(([, s]) => s.id)).toEqual(['chunk:shop.t:1', 'chunk:shop.t:2']);
  });
});

describe('DDL and schema-change behaviours', () => {
  it('reads ALTER, CREATE, TRUNCATE and DROP statements', () => {
    expect(parseDdl('ALTER TABLE `t` ADD COLUMN `note` varchar(20) NOT NULL AFTER id, DROP COLUMN v, ADD INDEX ix (id)', 'shop')).toEqual({
      table: 'shop.t',
      changes: [
        { type: 'add-column', column: { name: 'note', type: 'varchar(20)', nullable: false }, after: 'id' },
        { type: 'drop-column', column: 'v' },
      ],
    });
    expect(parseDdl('alter table shop.t rename column v to w, modify w bigint unsigned', 'x')!.changes).toEqual([
      { type: 'rename-column', from: 'v', to: 'w' },
      { type: 'modify-column', column: { name: 'w', type: 'bigint unsigned', nullable: true } },
    ]);
    expect(parseDdl('ALTER TABLE t CHANGE v amount decimal(10, 2)', 'shop')!.changes).toEqual([
      { type: 'rename-column', from: 'v', to: 'amount' },
      { type: 'modify-column', column: { name: 'amount', type: 'decimal(10,2)', nullable: true } },
    ]);
    expect(parseDdl('CREATE TABLE `o` (id INT NOT NULL, s VARCHAR(5), PRIMARY KEY (id)) ENGINE=InnoDB', 'shop')!.created).toEqual({
      table: 'shop.o',
      columns: [{ name: 'id', type: 'int', nullable: false }, { name: 's', type: 'varchar(5)', nullable: true }],
      primaryKeys: ['id'],
    });
    expect(parseDdl('TRUNCATE TABLE t', 'shop')).toEqual({ table: 'shop.t', changes: [{ type: 'truncate-table' }] });
    expect(parseDdl('DROP TABLE IF EXISTS `shop`.`t` /* generated by server */', 'x')).toEqual({ table: 'shop.t', changes: [{ type: 'drop-table' }] });
    expect(parseDdl('CREATE INDEX ix ON t (v)', 'shop')).toBeNull();
    expect(parseDdl('ALTER TABLE t ADD INDEX ix (v)', 'shop')).toBeNull();
  });

  it('lenient keeps dropped and renamed columns; ignore emits nothing; exception fails', () => {
    const drop = { type: 'drop-column', column: 'v' } as const;
    const after = applySchemaChange(schema, drop);
    const lenient = applyBehavior('lenient', drop, schema, after, 'ALTER TABLE t DROP v');
    expect(lenient.emit).toBeNull();
    expect(lenient.shown!.columns.map((c) => c.name)).toEqual(['id', 'v']);
    const rename = { type: 'rename-column', from: 'v', to: 'w' } as const;
    const r = applyBehavior('lenient', rename, schema, applySchemaChange(schema, rename), '');
    expect(r.emit).toEqual({ type: 'add-column', column: { name: 'w', type: 'int(11)', nullable: true } });
    expect(r.shown!.columns.map((c) => c.name)).toEqual(['id', 'v', 'w']);
    expect(applyBehavior('evolve', drop, schema, after, '')).toEqual({ emit: drop, shown: after });
    expect(applyBehavior('ignore', drop, schema, after, '')).toEqual({ emit: null });
    expect(applyBehavior('lenient', { type: 'truncate-table' }, schema, schema, '').emit).toBeNull();
    expect(() => applyBehavior('exception', drop, schema, after, 'ALTER TABLE t DROP v')).toThrow(/schema change on 'shop.t' \(ALTER TABLE t DROP v\)/);
  });
});

describe('values', () => {
  it('decimals keep their scale, floats read as MySQL prints them', () => {
    expect(canonicalDecimal('1.5', 3)).toBe('1.500');
    expect(canonicalDecimal('-0.000', 3)).toBe('0.000');
    expect(canonicalDecimal('00012', 0)).toBe('12');
    expect(canonicalFloat32(1.100000023841858)).toBe(1.1);
    expect(canonicalFloat32(3.4028234663852886e38)).toBe(3.4028235e38);
  });
});
