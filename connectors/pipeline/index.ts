/**
 * Flink CDC pipeline files on Weir (`weir pipeline run <file.yaml>`): the file format (definition.ts),
 * the transform expressions (expression.ts), routes and transforms (transform.ts), the plan from the
 * server's tables (plan.ts), the sinks (sinks.ts) and the job (job.ts). See docs/pipelines.md.
 */
export { parsePipelineDefinition, readPipelineFile, PipelineDefinitionError, SINK_TYPES, SCHEMA_CHANGE_BEHAVIORS } from './definition.ts';
export type { PipelineDefinition, SourceDefinition, SinkDefinition, RouteDefinition, TransformDefinition, PipelineSettings } from './definition.ts';
export { parseExpression, parseProjection, compileExpression, compileFilter, ExpressionError } from './expression.ts';
export { discoverTables, planSinkTables, describePlan, cdcOptions, type SinkTablePlan, type SourceTables } from './plan.ts';
export { sinkTableOf, PipelineTransformer } from './transform.ts';
export type { PipelineJobParams } from './job.ts';
