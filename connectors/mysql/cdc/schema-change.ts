/**
 * What a schema change read from the binlog becomes in the stream, by Flink CDC's behaviours:
 *
 *   evolve, try_evolve  every change goes out as it is (try_evolve marks it: a sink that cannot
 *                       apply it goes on without it)
 *   lenient (default)   nothing is lost downstream: added columns go out (nullable); a dropped
 *                       column stays in the stream's schema and gets nulls; a rename adds the new
 *                       column (the old one stays, with nulls); type changes go out; TRUNCATE and
 *                       DROP TABLE do not (the sink keeps its rows)
 *   ignore              no change goes out; rows keep the shape the table had when the job started
 *   exception           the first change fails the job
 *
 * `shown` is the stream's schema of the table (what records carry), `actual` the table's after the change.
 */
import { ExternalError } from '../../../runtime/errors.ts';
import { applySchemaChange } from './ddl.ts';
import type { CdcTableSchema, SchemaChangeBehavior, SchemaChangeEvent } from './types.ts';

export interface BehaviorResult {
  /** The event to emit, if any. */
  emit: SchemaChangeEvent | null;
  /** The stream's schema after it (undefined: unchanged). */
  shown?: CdcTableSchema;
}

export function applyBehavior(behavior: SchemaChangeBehavior, change: SchemaChangeEvent, shown: CdcTableSchema | undefined, actual: CdcTableSchema, ddl: string): BehaviorResult {
  switch (behavior) {
    case 'exception':
      throw new ExternalError(
        `MySQL CDC: schema change on '${actual.table}' (${ddl.slice(0, 200)}) while schemaChanges is 'exception': choose 'lenient', 'evolve' or 'ignore' to let the job go on, or undo the change`,
        { retriable: false },
      );
    case 'ignore':
      return change.type === 'create-table' ? { emit: null, shown: actual } : { emit: null };
    case 'evolve':
    case 'try_evolve':
      return change.type === 'drop-table' ? { emit: change } : { emit: change, shown: actual };
    case 'lenient': {
      if (change.type === 'create-table') return { emit: change, shown: actual };
      if (change.type === 'truncate-table' || change.type === 'drop-table') return { emit: null };
      const base = shown ?? actual;
      if (change.type === 'drop-column') {
        // keep it, nullable
        return { emit: null, shown: { ...base, columns: base.columns.map((c) => (c.name === change.column ? { ...c, nullable: true } : c)) } };
      }
      if (change.type === 'rename-column') {
        const old = base.columns.find((c) => c.name === change.from);
        if (!old) return { emit: null };
        const add: SchemaChangeEvent = { type: 'add-column', column: { ...old, name: change.to, nullable: true } };
        return { emit: add, shown: applySchemaChange(base, add) };
      }
      if (change.type === 'add-column') {
        const add: SchemaChangeEvent = { type: 'add-column', column: { ...change.column, nullable: true } };
        if (base.columns.some((c) => c.name === change.column.name)) return { emit: null };
        return { emit: add, shown: applySchemaChange(base, add) };
      }
      // modify-column
      const mod: SchemaChangeEvent = { type: 'modify-column', column: { ...change.column, nullable: true } };
      return { emit: mod, shown: applySchemaChange(base, mod) };
    }
  }
}
