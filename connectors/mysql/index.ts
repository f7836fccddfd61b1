/**
 * `weir/mysql`: MySQL and MariaDB for jobs: a lookup join's table (mysql2) and the CDC source (zongji). Its own entry
 * so that jobs which do not use it do not load mysql2.
 */
export { mysqlLookupTable, type MySqlLookupOptions } from './lookup-table.ts';
export { mysqlCdcSource } from './cdc/source.ts';
export type {
  MySqlCdcOptions,
  MySqlCdcRoute,
  StartupMode,
  SchemaChangeBehavior,
  CdcRecord,
  CdcRowChange,
  CdcSchemaChange,
  SchemaChangeEvent,
  CdcTableSchema,
  CdcColumn,
  CdcRow,
  CdcValue,
  MySqlCdcSplit,
} from './cdc/types.ts';
export { cdcToLake, lakeSchemaOf, lakeTypeOf } from './cdc/lake.ts';
