/**
 * `weir/mysql`: MySQL and MariaDB for jobs (a lookup join's table, through mysql2). Its own entry
 * so that jobs which do not use it do not load mysql2.
 */
export { mysqlLookupTable, type MySqlLookupOptions } from './lookup-table.ts';
