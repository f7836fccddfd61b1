/**
 * Weir writing deletion-vector tables: for every merge engine (and sequence.field), a table with
 * `deletion-vectors.enabled` compacted by lookup (old rows marked in deletion vectors, new rows one
 * level up) reads the same rows as the same writes into a table without deletion vectors, fully
 * compacted after each round (so both drop deletes at the same points).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, TableWriter, TableCommit, readTable, compactTable, T, DELETE, type FileStoreTable } from '../../../connectors/lake/index.ts';
import { planSplits } from '../../../connectors/lake/table/read.ts';
import { rng, sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

const ENGINES: Array<[string, Record<string, string>]> = [
  ['deduplicate', {}],
  ['deduplicate with sequence.field', { 'sequence.field': 'ts' }],
  ['partial-update', { 'merge-engine': 'partial-update', 'ignore-delete': 'true' }],
  ['aggregation', { 'merge-engine': 'aggregation', 'fields.n.aggregate-function': 'sum', 'fields.s.aggregate-function': 'last_non_null_value' }],
  ['first-row', { 'merge-engine': 'first-row', 'ignore-delete': 'true' }],
];

describe('deletion-vector tables written by Weir', () => {
  for (const [name, options] of ENGINES) {
    it(`${name}: lookup compaction with deletion vectors reads as merge-on-read`, async () => {
      const tmp = tempDir();
      cleanups.push(tmp.cleanup);
      const cat = new Catalog(tmp.dir);
      const def = (extra: Record<string, string>) => ({
        fields: [{ name: 'k', type: T.int() }, { name: 'ts', type: T.bigint() }, { name: 'n', type: T.bigint() }, { name: 's', type: T.string() }],
        primaryKeys: ['k'], options: { bucket: '2', ...options, ...extra },
      });
      const dv = await cat.createTable('db', 'dv', def({ 'deletion-vectors.enabled': 'true' }));
      const ref = await cat.createTable('db', 'ref', def({}));
      const random = rng(name.length * 7919);
      const write = async (t: FileStoreTable, id: number, ops: Array<[unknown[], number]>) => {
        const w = new TableWriter(t);
        for (const [row, kind] of ops) w.write(row, kind);
        await new TableCommit(t, 'u').commit(id, await w.prepareCommit());
      };
      let vectors = 0;
      for (let round = 1; round <= 6; round++) {
        const ops: Array<[unknown[], number]> = [];
        for (let i = 0; i < 30; i++) {
          const k = Math.floor(random() * 25);
          const del = !options['ignore-delete'] && options['merge-engine'] !== 'aggregation' && random() < 0.15;
          ops.push([[k, BigInt(Math.floor(random() * 50)), BigInt(round * 100 + i), random() < 0.3 ? null : `r${round}-${i}`], del ? DELETE : 0]);
        }
        await write(dv, round, ops);
        await write(ref, round, ops);
        await compactTable(dv);
        // the reference drops deletes at the same points (a delete is gone once compacted to the last level)
        await compactTable(ref, { full: true });
        const s = (await dv.snapshots.latest())!;
        for (const e of await dv.indexEntries(s)) vectors += e.ranges?.length ?? 0;
        // every level-0 file was compacted up, so the batch read (level 0 skipped) sees everything
        const { splits } = await planSplits(dv);
        expect(splits.every((sp) => sp.files.every((f) => f.file.level > 0))).toBe(true);
        expect(sortedText(await readTable(dv)), `round ${round}`).toEqual(sortedText(await readTable(ref, { allLevels: true })));
      }
      if (options['merge-engine'] !== 'first-row') expect(vectors).toBeGreaterThan(0);
      // a full compaction folds the vectors into one last-level file per bucket
      await compactTable(dv, { full: true });
      expect((await dv.indexEntries((await dv.snapshots.latest())!)).length).toBe(0);
      expect(sortedText(await readTable(dv))).toEqual(sortedText(await readTable(ref, { allLevels: true })));
    });
  }
});
