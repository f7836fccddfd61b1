/**
 * The job of the MySQL CDC job tests: the CDC source, keyed by (table, id), a per-key sequence
 * number in keyed state (so the committed changes of a key can be put back in order), and an
 * exactly-once file sink (test/harness/transactional-sink.ts).
 */
import { defineJob, valueState, type Collector, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, type ValueState } from 'weir';
import { mysqlCdcSource, type CdcRecord, type MySqlCdcRoute } from 'weir/mysql';
import { transactionalFileSink } from '../../harness/transactional-sink.ts';

export interface CdcJobParams {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  serverId: number;
  chunkSize: number;
  outDir: string;
  /** Routes as JSON-able data: regex source text. */
  routes?: { source: string; sink: string; sourceTableColumn?: string }[];
}

/** One committed change: the record (bigints as text) and its place in its key's sequence. */
export interface Sequenced {
  key: string;
  seq: number;
  kind: string;
  table: string;
  row: Record<string, unknown>;
}

class Sequence implements KeyedProcessFunction<string, CdcRecord, Sequenced> {
  private seq!: ValueState<number>;
  open(ctx: KeyedRuntimeContext): void {
    this.seq = ctx.getState(valueState<number>('seq'));
  }
  processElement(r: CdcRecord, ctx: KeyedContext<string>, out: Collector<Sequenced>): void {
    if (r.kind === 'schema') return;
    const seq = (this.seq.value() ?? 0) + 1;
    this.seq.update(seq);
    const row = Object.fromEntries(Object.entries(r.row).map(([k, v]) => [k, typeof v === 'bigint' ? String(v) : v]));
    out.collect({ key: ctx.key, seq, kind: r.kind, table: r.table, row });
  }
}

export default defineJob(import.meta.url, (env, p: CdcJobParams) => {
  const routes: MySqlCdcRoute[] | undefined = p.routes?.map((r) => ({ ...r, source: new RegExp(r.source) }));
  env
    .fromSource(
      mysqlCdcSource({ host: p.host, port: p.port, user: p.user, password: p.password, databases: [p.database], serverId: p.serverId, chunkSize: p.chunkSize, heartbeatIntervalMs: 200, ...(routes ? { routes } : {}) }),
      { name: 'cdc', uid: 'cdc' },
    )
    .keyBy((r) => (r.kind === 'schema' ? r.table : `${r.table}/${String(r.row.shard ?? '')}/${String(r.row.id)}`))
    .process(new Sequence(), { name: 'sequence', uid: 'sequence' })
    .sinkTo(transactionalFileSink<Sequenced>(p.outDir), { uid: 'sink' });
});
