/**
 * Routes and transforms of a pipeline, applied to CDC records.
 *
 * Routes (Flink CDC's `route`): the first route whose `source-table` matches a source table names
 * its sink table (`replace-symbol` in `sink-table` stands for the source table's name); tables no
 * route matches keep their name. Several source tables routed to one sink table merge into it.
 *
 * Transforms (`transform`): the first transform whose `source-table` matches applies, before the
 * route, as in Flink CDC. A projection's `*` is every column of the table as it is now, so columns
 * added later flow through; an item named like an earlier column replaces it in place
 * (`*, UPPER(name) AS name`). A filter keeps the rows for which it is TRUE; with a filter, an update
 * goes out as a delete of the old row (if it passed) and an insert of the new one (if it passes), so
 * a row that stops matching leaves the sink table and one that starts matching enters it.
 * Expressions are compiled against each table version's columns (a schema change recompiles them);
 * a column a projection or filter names that a schema change removed fails the job naming the
 * transform's line.
 */
import type { CdcColumn, CdcRecord, CdcRowChange, CdcSchemaChange, CdcTableSchema, CdcValue } from '../mysql/cdc/types.ts';
import { columnTypeOf, compileExpression, compileFilter } from './expression.ts';
import { expressionFailure, type PipelineDefinition, type RouteDefinition, type TransformDefinition } from './definition.ts';
import { PipelineDefinitionError } from './yaml-map.ts';
import { matchesTable } from './table-patterns.ts';

/** The sink table of a source table: the first matching route, else the table itself. */
export function sinkTableOf(routes: readonly RouteDefinition[], table: string): string {
  for (const r of routes) {
    if (!matchesTable([r.sourceTable], table)) continue;
    if (r.replaceSymbol === undefined) return r.sinkTable;
    return r.sinkTable.replaceAll(r.replaceSymbol, table.slice(table.indexOf('.') + 1));
  }
  return table;
}

export function transformOf(transforms: readonly TransformDefinition[], table: string): TransformDefinition | undefined {
  return transforms.find((t) => matchesTable([t.sourceTable], table));
}

interface CompiledTransform {
  schema: CdcTableSchema;
  project: ((row: Record<string, CdcValue>) => Record<string, CdcValue>) | undefined;
  filter: ((row: Record<string, CdcValue>) => boolean) | undefined;
}

/** Compiles a transform against one version of a table; errors name the file, line and key. */
export function compileTransform(def: Pick<PipelineDefinition, 'file'>, t: TransformDefinition | undefined, schema: CdcTableSchema): CompiledTransform {
  if (!t) return { schema, project: undefined, filter: undefined };
  let filter: CompiledTransform['filter'];
  if (t.filter) {
    try {
      filter = compileFilter(t.filter, schema.columns);
    } catch (e) {
      expressionFailure({ file: def.file, line: t.filterLine, key: `${t.path}.filter` }, t.filter.text, e);
    }
  }
  if (!t.projection) {
    const pks = t.primaryKeys ?? schema.primaryKeys;
    checkKeys(def, t, pks, schema.columns);
    return { schema: { ...schema, primaryKeys: pks }, project: undefined, filter };
  }
  const columns: CdcColumn[] = [];
  const getters: { name: string; get: (row: Record<string, CdcValue>) => CdcValue }[] = [];
  const put = (c: CdcColumn, get: (row: Record<string, CdcValue>) => CdcValue): void => {
    const i = columns.findIndex((x) => x.name === c.name);
    if (i >= 0) {
      columns[i] = c;
      getters[i] = { name: c.name, get };
    } else {
      columns.push(c);
      getters.push({ name: c.name, get });
    }
  };
  for (const item of t.projection) {
    if (item.star) {
      for (const c of schema.columns) put(c, (row) => row[c.name] ?? null);
      continue;
    }
    try {
      const e = compileExpression(item.expr, schema.columns);
      put(e.column ? { ...e.column, name: item.name } : { name: item.name, type: columnTypeOf(e.type), nullable: true }, e.evaluate);
    } catch (e) {
      expressionFailure({ file: def.file, line: t.projectionLine, key: `${t.path}.projection` }, item.expr.text, e);
    }
  }
  const pks = t.primaryKeys ?? schema.primaryKeys;
  checkKeys(def, t, pks, columns);
  const keyed = new Set(pks);
  const out: CdcTableSchema = { table: schema.table, columns: columns.map((c) => (keyed.has(c.name) ? { ...c, nullable: false } : c)), primaryKeys: pks };
  return {
    schema: out,
    filter,
    project: (row) => {
      const o: Record<string, CdcValue> = {};
      for (const g of getters) o[g.name] = g.get(row);
      return o;
    },
  };
}

function checkKeys(def: Pick<PipelineDefinition, 'file'>, t: TransformDefinition, pks: readonly string[], columns: readonly CdcColumn[]): void {
  for (const k of pks) {
    if (!columns.some((c) => c.name === k)) {
      throw new PipelineDefinitionError(def.file, t.projectionLine, `${t.path}.${t.primaryKeys ? 'primary-keys' : 'projection'}`, `the primary-key column '${k}' of ${t.sourceTable.text} is not in the projection; project it, or name other primary-keys`);
    }
  }
}

/**
 * Applies the transforms to a stream of CDC records (routes are applied by the source). One
 * instance per subtask; compiled transforms are cached per table version (records share schema objects).
 */
export class PipelineTransformer {
  private readonly compiled = new WeakMap<CdcTableSchema, CompiledTransform>();
  private readonly bySource = new Map<string, TransformDefinition | undefined>();

  constructor(private readonly def: Pick<PipelineDefinition, 'file' | 'transforms'>) {}

  private transformFor(sourceTable: string): TransformDefinition | undefined {
    if (!this.bySource.has(sourceTable)) this.bySource.set(sourceTable, transformOf(this.def.transforms, sourceTable));
    return this.bySource.get(sourceTable);
  }

  private compiledFor(t: TransformDefinition, schema: CdcTableSchema): CompiledTransform {
    let c = this.compiled.get(schema);
    if (!c) this.compiled.set(schema, (c = compileTransform(this.def, t, schema)));
    return c;
  }

  apply(r: CdcRecord, emit: (r: CdcRecord) => void): void {
    const t = this.transformFor(r.sourceTable);
    if (!t) return emit(r);
    if (r.kind === 'schema') return this.schemaChange(t, r, emit);
    const c = this.compiledFor(t, r.schema);
    const row = c.project ? c.project(r.row) : r.row;
    if (!c.filter) return emit({ ...r, row, schema: c.schema });
    if (!c.filter(r.row)) return;
    const kind = r.kind === '-U' ? '-D' : r.kind === '+U' ? '+I' : r.kind;
    emit({ ...r, kind, row, schema: c.schema } satisfies CdcRowChange);
  }

  /**
   * A projection with `*` passes column changes on (the columns are the table's); one without
   * fixes the output columns, so column changes do not reach the sink (the expressions are
   * recompiled against the new columns with the next row).
   */
  private schemaChange(t: TransformDefinition, r: CdcSchemaChange, emit: (r: CdcRecord) => void): void {
    const star = !t.projection || t.projection.some((i) => i.star);
    const columnChange = r.change.type === 'add-column' || r.change.type === 'drop-column' || r.change.type === 'rename-column' || r.change.type === 'modify-column';
    if (columnChange && !star) return;
    if (r.change.type === 'drop-table' || r.change.type === 'truncate-table') return emit(r);
    emit({ ...r, schema: this.compiledFor(t, r.schema).schema });
  }
}
