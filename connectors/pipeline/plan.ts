/**
 * What a pipeline will run, worked out before it is submitted: the MySQL tables its `tables`
 * patterns match (read from the server, with their columns and primary keys), the sink table each
 * goes to (routes), and each sink table's columns after its transform. The job builds its graph
 * from this (graphs are built synchronously, without asking the server).
 *
 * Tables created after the pipeline started are not captured until it is restarted (stop with a
 * savepoint, run again from it): the sinks are fixed when the graph is built.
 */
import { connect, readSchemas } from '../mysql/cdc/catalog.ts';
import type { CdcTableSchema, MySqlCdcOptions, MySqlCdcRoute } from '../mysql/cdc/types.ts';
import type { PipelineDefinition } from './definition.ts';
import { PipelineDefinitionError } from './yaml-map.ts';
import { matchesDatabase, matchesTable } from './table-patterns.ts';
import { compileTransform, sinkTableOf, transformOf } from './transform.ts';
import { splitTable } from './sinks.ts';

export interface SinkTablePlan {
  /** `db.table` after routes. */
  table: string;
  /** The source tables merged into it. */
  sources: string[];
  /** Its columns and primary key after the transform (of its first source table). */
  schema: CdcTableSchema;
}

/** The source tables as the server has them now; kept as plain data in the job's parameters. */
export type SourceTables = Record<string, CdcTableSchema>;

/** The CDC source's options for a pipeline (databases and tables resolved against `tables`). */
export function cdcOptions(def: PipelineDefinition, tables: SourceTables): MySqlCdcOptions {
  const s = def.source;
  const names = Object.keys(tables).sort();
  const databases = [...new Set(names.map((t) => splitTable(t).db))];
  const escape = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const routes: MySqlCdcRoute[] = [];
  for (const t of names) {
    const sink = sinkTableOf(def.routes, t);
    if (sink !== t) routes.push({ source: new RegExp(escape(t)), sink });
  }
  return {
    host: s.hostname, port: s.port, user: s.username, password: s.password,
    databases: databases.length ? databases : ['mysql'],
    tables: new RegExp(names.length ? names.map(escape).join('|') : '(?!)'),
    schemaChanges: def.pipeline.schemaChangeBehavior,
    startup: s.startup,
    ...(s.serverId !== undefined ? { serverId: s.serverId } : {}),
    ...(s.serverIdRange ? { serverIdRange: s.serverIdRange } : {}),
    ...(s.serverTimeZone ? { serverTimeZone: s.serverTimeZone } : {}),
    ...(s.chunkSize !== undefined ? { chunkSize: s.chunkSize } : {}),
    ...(s.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: s.heartbeatIntervalMs } : {}),
    ...(s.connectTimeoutMs !== undefined ? { connectTimeoutMs: s.connectTimeoutMs } : {}),
    ...(routes.length ? { routes } : {}),
  };
}

/** Reads the matching tables from the server. Fails when none matches (naming the patterns). */
export async function discoverTables(def: PipelineDefinition): Promise<SourceTables> {
  const s = def.source;
  const base: MySqlCdcOptions = { host: s.hostname, port: s.port, user: s.username, password: s.password, databases: ['mysql'], ...(s.connectTimeoutMs ? { connectTimeoutMs: s.connectTimeoutMs } : {}), ...(s.serverTimeZone ? { serverTimeZone: s.serverTimeZone } : {}) };
  const c = await connect(base, 'listing the tables the pipeline captures');
  let out: SourceTables;
  try {
    const [rows] = (await c.query('SHOW DATABASES')) as unknown as [{ Database: string }[]];
    const databases = rows.map((r) => r.Database).filter((d) => matchesDatabase(s.tables, d));
    out = databases.length === 0 ? {} : await readSchemas(c, { ...base, databases, tables: /.*/ });
  } finally {
    await c.end().catch(() => c.destroy());
  }
  const tables: SourceTables = {};
  for (const [name, schema] of Object.entries(out)) if (matchesTable(s.tables, name)) tables[name] = schema;
  if (Object.keys(tables).length === 0) throw new PipelineDefinitionError(def.file, 0, 'source.tables', `'${s.tablesText}' matches no table on ${s.hostname}:${s.port}`);
  return tables;
}

/** The sink tables, each with its source tables and its schema after the transform. */
export function planSinkTables(def: PipelineDefinition, tables: SourceTables): SinkTablePlan[] {
  const bySink = new Map<string, SinkTablePlan>();
  for (const name of Object.keys(tables).sort()) {
    const target = sinkTableOf(def.routes, name);
    const schema = compileTransform(def, transformOf(def.transforms, name), tables[name]!).schema;
    const p = bySink.get(target);
    if (!p) bySink.set(target, { table: target, sources: [name], schema: { ...schema, table: target } });
    else {
      p.sources.push(name);
      // merged tables: the union of their columns, in order of first appearance
      const have = new Set(p.schema.columns.map((c) => c.name));
      p.schema = { ...p.schema, columns: [...p.schema.columns, ...schema.columns.filter((c) => !have.has(c.name)).map((c) => ({ ...c, nullable: true }))] };
    }
  }
  const plans = [...bySink.values()];
  if (def.sink.type !== 'lake') {
    const seen = new Map<string, string>();
    for (const p of plans) {
      const n = splitTable(p.table).name.toLowerCase();
      const other = seen.get(n);
      if (other) throw new PipelineDefinitionError(def.file, 0, 'route', `sink tables '${other}' and '${p.table}' would both be table '${n}' in ${def.sinkTypeAsWritten}, which names tables without their database here: route one of them to another name`);
      seen.set(n, p.table);
    }
  }
  return plans;
}

/** A one-line description of a plan, for the CLI (no secrets). */
export function describePlan(def: PipelineDefinition, plans: readonly SinkTablePlan[]): string[] {
  return plans.map((p) => `  ${p.sources.join(', ')} -> ${def.sinkTypeAsWritten} ${p.table} (${p.schema.columns.map((c) => c.name).join(', ')}; key ${p.schema.primaryKeys.join(', ')})`);
}
