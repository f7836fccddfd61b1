/**
 * The pipeline as a Weir job: the MySQL CDC source reading every captured table, the transforms,
 * and one exactly-once sink per sink table. `weir pipeline run <file.yaml>` submits this module
 * with the file's path and the tables found on the server (plan.ts); every task manager re-reads
 * the file to build the same graph, so the password never travels in the job's parameters.
 */
import { defineJob } from '../../runtime/api/job.ts';
import { mysqlCdcSource } from '../mysql/cdc/source.ts';
import type { CdcRecord } from '../mysql/cdc/types.ts';
import { readPipelineFile } from './definition.ts';
import { cdcOptions, planSinkTables, type SourceTables } from './plan.ts';
import { attachSink } from './sinks.ts';
import { PipelineTransformer } from './transform.ts';

export interface PipelineJobParams {
  /** The pipeline file, absolute. */
  file: string;
  /** The captured tables as the server had them when the pipeline was submitted. */
  tables: SourceTables;
}

export default defineJob(import.meta.url, (env, p: PipelineJobParams) => {
  const def = readPipelineFile(p.file);
  const plans = planSinkTables(def, p.tables);
  const transformer = new PipelineTransformer(def);
  const records = env.fromSource(mysqlCdcSource(cdcOptions(def, p.tables)), { uid: 'pipeline-source', name: `mysql ${def.source.tablesText}` });
  const transformed = def.transforms.length === 0
    ? records
    : records.flatMap<CdcRecord>((r, out) => transformer.apply(r, (x) => out.collect(x)), { name: 'transform' });
  for (const plan of plans) {
    const table = plan.table;
    attachSink(transformed.filter((r) => r.table === table, { name: `table ${table}` }), def.sink, table, plan.schema);
  }
});
