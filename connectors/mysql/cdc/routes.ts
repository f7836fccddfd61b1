/**
 * Routes: a source table's records under another name (`shop.order_\d+` -> `shop.orders`, merging
 * shards), optionally with a column naming the source table, so rows of the shards stay apart.
 */
import { ConfigError } from '../../../runtime/errors.ts';
import type { CdcTableSchema, MySqlCdcRoute } from './types.ts';

export interface ResolvedRoute {
  target: string;
  sourceTableColumn?: string;
}

export function resolveRoute(routes: readonly MySqlCdcRoute[] | undefined, table: string): ResolvedRoute {
  for (const r of routes ?? []) {
    if (new RegExp(`^(?:${r.source.source})$`, r.source.flags.replace('g', '')).test(table)) {
      return r.sourceTableColumn === undefined ? { target: r.sink } : { target: r.sink, sourceTableColumn: r.sourceTableColumn };
    }
  }
  return { target: table };
}

/** The schema records of a routed table carry: the target name, plus the source-table column (part of the key). */
export function routedSchema(schema: CdcTableSchema, route: ResolvedRoute): CdcTableSchema {
  if (route.sourceTableColumn === undefined) return schema;
  if (schema.columns.some((c) => c.name === route.sourceTableColumn)) {
    throw new ConfigError('mysql-cdc.routes', `table '${schema.table}' already has a column '${route.sourceTableColumn}': pick another sourceTableColumn`);
  }
  return {
    table: schema.table,
    columns: [...schema.columns, { name: route.sourceTableColumn, type: 'varchar(255)', nullable: false }],
    primaryKeys: [...schema.primaryKeys, route.sourceTableColumn],
  };
}

export function checkRoutes(routes: readonly MySqlCdcRoute[] | undefined): void {
  for (const [i, r] of (routes ?? []).entries()) {
    if (!(r.source instanceof RegExp)) throw new ConfigError(`mysql-cdc.routes[${i}].source`, 'must be a RegExp matching db.table');
    if (typeof r.sink !== 'string' || !r.sink.includes('.')) throw new ConfigError(`mysql-cdc.routes[${i}].sink`, `must be 'db.table', got '${String(r.sink)}'`);
  }
}
