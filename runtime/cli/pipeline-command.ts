/**
 * `weir pipeline run <file.yaml> [options]`: runs a Flink CDC pipeline file (docs/pipelines.md).
 * A thin layer: reads and checks the file (errors name the line and key), finds the tables it
 * captures on the server, prints the plan, and runs the pipeline job module
 * (connectors/pipeline/job.ts) as `weir run` does: on the running cluster, else in this process;
 * Ctrl-C stops with a savepoint. The file's `pipeline.parallelism` and checkpoint interval apply
 * unless --parallelism / --checkpoint-interval are given.
 * `weir pipeline check <file.yaml>` only reads and checks the file.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describePlan, discoverTables, planSinkTables, readPipelineFile, type PipelineJobParams } from '../../connectors/pipeline/index.ts';
import type { Command } from './command.ts';
import { runJob } from './run-command.ts';

const HELP = `usage: weir pipeline run <file.yaml> [weir run options]
       weir pipeline check <file.yaml>

Runs a Flink CDC pipeline file (source: mysql; sink: paimon/lake, starrocks, clickhouse, duckdb;
route; transform; pipeline). The file's pipeline.parallelism and
execution.checkpointing.interval (default 3 s) apply unless --parallelism / --checkpoint-interval
are given; the other options are weir run's (--from-savepoint, --checkpoint-dir, --local, --dir,
--detached, --workers, --state, --dashboard). See docs/pipelines.md.`;

/** Checkpoints are what make the sinks commit: a pipeline without an interval gets this one. */
export const DEFAULT_PIPELINE_CHECKPOINT_INTERVAL_MS = 3000;

const jobModule = fileURLToPath(new URL('../../connectors/pipeline/job.ts', import.meta.url));

export const pipelineCommand: Command = {
  summary: 'run a Flink CDC pipeline file (MySQL -> lake, DuckDB, ClickHouse, StarRocks)',
  async run(args) {
    const [sub, file, ...rest] = args;
    if ((sub !== 'run' && sub !== 'check') || !file || file.startsWith('-')) {
      console.log(HELP);
      return sub === '--help' || sub === '-h' ? 0 : 2;
    }
    const def = readPipelineFile(file);
    for (const i of def.ignored) console.error(`${file}: ${i}: accepted, has no effect in Weir`);
    if (sub === 'check') {
      console.log(`${file}: ok (pipeline '${def.pipeline.name}', ${def.source.tablesText} -> ${def.sinkTypeAsWritten})`);
      return 0;
    }
    const tables = await discoverTables(def);
    const plans = planSinkTables(def, tables);
    console.error(`pipeline '${def.pipeline.name}': ${Object.keys(tables).length} tables from ${def.source.hostname}:${def.source.port}, schema changes '${def.pipeline.schemaChangeBehavior}'`);
    for (const line of describePlan(def, plans)) console.error(line);
    const params: PipelineJobParams = { file: path.resolve(file), tables };
    const extra: string[] = [];
    if (!rest.some((a) => a.startsWith('--parallelism')) && def.pipeline.parallelism !== undefined) extra.push('--parallelism', String(def.pipeline.parallelism));
    if (!rest.some((a) => a.startsWith('--checkpoint-interval'))) extra.push('--checkpoint-interval', String(def.pipeline.checkpointIntervalMs ?? DEFAULT_PIPELINE_CHECKPOINT_INTERVAL_MS));
    return runJob([jobModule, '--params', JSON.stringify(params), ...extra, ...rest], `weir pipeline run ${file}`);
  },
};
