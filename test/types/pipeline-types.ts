/**
 * Type tests of pipeline files (`weir/pipeline`): checked by `tsc --noEmit`, never run. Each
 * `@ts-expect-error` line must fail to compile.
 */
import { parsePipelineDefinition, type PipelineDefinition, type PipelineJobParams, type SinkDefinition } from 'weir/pipeline';

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

const def = parsePipelineDefinition('p.yaml', 'source: ...');
type _def = Expect<Equal<typeof def, PipelineDefinition>>;

export function sinkTarget(sink: SinkDefinition): string {
  // the sink is a union narrowed by its type
  switch (sink.type) {
    case 'lake': return sink.warehouse;
    case 'duckdb': return sink.path;
    case 'clickhouse': return sink.url;
    case 'starrocks': return sink.feUrls.join(';');
  }
}

// @ts-expect-error a DuckDB sink has no warehouse
export const wrong = (s: Extract<SinkDefinition, { type: 'duckdb' }>): string => s.warehouse;
// @ts-expect-error the schema-change behaviours are Flink CDC's five
export const behavior: PipelineDefinition['pipeline']['schemaChangeBehavior'] = 'evolv';
// @ts-expect-error job parameters carry the file and the tables, not the password
export const params: PipelineJobParams = { file: '/p.yaml', tables: {}, password: 'x' };
