/**
 * Builds the emitted records from raw rows (a snapshot SELECT's or a binlog image's): converts the
 * values (values.ts), projects them onto the schema the stream shows (which lags the table's under
 * the 'lenient' and 'ignore' schema-change behaviours), and applies the table's route.
 */
import type { RowKind } from '../../../operators/changelog.ts';
import { resolveRoute, routedSchema, type ResolvedRoute } from './routes.ts';
import type { CdcRow, CdcRowChange, CdcTableSchema, CdcValue, MySqlCdcOptions } from './types.ts';
import { rowConverter } from './values.ts';

interface Maker {
  convert: (raw: Record<string, unknown>) => Record<string, CdcValue>;
  out: CdcTableSchema;
  columns: readonly string[];
  route: ResolvedRoute;
  project: boolean;
}

export class RecordMaker {
  private readonly makers = new WeakMap<CdcTableSchema, WeakMap<CdcTableSchema, Maker>>();
  private readonly routes = new Map<string, ResolvedRoute>();

  constructor(private readonly options: MySqlCdcOptions) {}

  route(table: string): ResolvedRoute {
    let r = this.routes.get(table);
    if (!r) this.routes.set(table, (r = resolveRoute(this.options.routes, table)));
    return r;
  }

  /** The schema the records of `out` carry (routed). */
  outSchema(out: CdcTableSchema): CdcTableSchema {
    return this.maker(out, out).out;
  }

  private maker(actual: CdcTableSchema, shown: CdcTableSchema): Maker {
    let byShown = this.makers.get(actual);
    if (!byShown) this.makers.set(actual, (byShown = new WeakMap()));
    let m = byShown.get(shown);
    if (!m) {
      const route = this.route(actual.table);
      m = {
        convert: rowConverter(actual.table, actual.columns, this.options.serverTimeZone),
        out: routedSchema(shown, route),
        columns: shown.columns.map((c) => c.name),
        route,
        project: actual !== shown,
      };
      byShown.set(shown, m);
    }
    return m;
  }

  /** `raw` is keyed by column name; `actual` is the table's shape when the row was written, `shown` the stream's. */
  make(kind: RowKind, raw: Record<string, unknown>, actual: CdcTableSchema, shown: CdcTableSchema): CdcRowChange<CdcRow> {
    const m = this.maker(actual, shown);
    let row = m.convert(raw);
    if (m.project) {
      const p: Record<string, CdcValue> = {};
      for (const c of m.columns) p[c] = row[c] ?? null;
      row = p;
    }
    if (m.route.sourceTableColumn !== undefined) row[m.route.sourceTableColumn] = actual.table;
    return { kind, row, table: m.route.target, sourceTable: actual.table, schema: m.out };
  }
}
