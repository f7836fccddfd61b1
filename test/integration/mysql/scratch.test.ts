import { it, expect } from 'vitest';
import { mysqlCdcSource, type CdcRecord } from '../../../connectors/mysql/index.ts';
import { comparePositions } from '../../../connectors/mysql/cdc/position.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { connect, connOptions, freshDatabase, masterPosition, normalize, replay, startWriter } from './cdc-helpers.ts';
it('scratch', async () => {
  const conn = await connect(); const wc = await connect();
  const db = await freshDatabase(conn, 'scratch');
  const t = `\`${db}\`.t`;
  await conn.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(32))`);
  const N = 20000;
  for (let i = 0; i < N; i += 5000) await conn.query(`INSERT INTO ${t} VALUES ?`, [Array.from({ length: 5000 }, (_, j) => [i + j, 1, 's'])]);
  const src = mysqlCdcSource({ ...connOptions(), databases: [db], chunkSize: 2000, serverId: 7000 });
  const w = startWriter(wc, t, N, 3);
  const h = await new SourceHarness(src, Number(process.env.P ?? 1)).start();
  const bl = () => { for (const r of h.readers) for (const s of r.snapshotState(0)) if (s.kind === 'binlog') return s; };
  for (let k = 0; k < 100000 && !bl(); k++) { let any = false; for (let i = 0; i < h.parallelism; i++) if (h.poll(i, 1000) === 'more') any = true; if (!any) { h.snapshot(k + 1); h.coordinator.checkpointComplete(k + 1); await new Promise((r) => setTimeout(r, 5)); } }
  console.log('binlog', JSON.stringify(bl()!.chunks.slice(0,3)), bl()!.start);
  await w.stop();
  const end = await masterPosition(conn);
  for (;;) { for (let i = 0; i < h.parallelism; i++) h.poll(i, 1000); const b = bl()!; if (b.start && comparePositions(b.start, end) >= 0) break; await new Promise((r) => setTimeout(r, 5)); }
  if (h.errors.length) throw h.errors[0];
  const all = [...h.emitted().filter((e) => e.split !== 'binlog'), ...h.emitted().filter((e) => e.split === 'binlog')];
  const recs = all.map((e) => e.value);
  try { replay(recs); } catch (e) {
    const k = /key (\d+)/.exec(String(e))![1]!;
    for (const x of all) if (x.value.kind !== 'schema' && String(x.value.row.id) === k) console.log(x.split, x.value.kind, JSON.stringify(x.value.row));
    throw e;
  }
  await h.close(); await conn.end(); await wc.end();
});
