/** MySQL CDC into a lake table, schema changes included (test/integration/mysql/cdc-lake.test.ts). */
import { defineJob } from 'weir';
import { lakeSink, type LakeSchemaChange, type SchemaDefinition } from 'weir/lake';
import type { Change } from 'weir';
import { cdcToLake, mysqlCdcSource, type CdcRow } from 'weir/mysql';

export interface CdcLakeParams {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  table: string;
  serverId: number;
  lakePath: string;
  lakeSchema: SchemaDefinition;
}

export default defineJob(import.meta.url, (env, p: CdcLakeParams) => {
  env
    .fromSource(mysqlCdcSource({ host: p.host, port: p.port, user: p.user, password: p.password, databases: [p.database], serverId: p.serverId, schemaChanges: 'evolve', heartbeatIntervalMs: 200 }), { uid: 'cdc' })
    .flatMap<Change<CdcRow> | LakeSchemaChange>((r, out) => {
      if (r.sourceTable !== `${p.database}.${p.table}`) return;
      const l = cdcToLake(r);
      if (l) out.collect(l);
    })
    .sinkTo(lakeSink<CdcRow>({ path: p.lakePath, schema: p.lakeSchema }), { uid: 'lake' });
});
