/**
 * A filesystem catalog of Paimon tables: `<warehouse>/<db>.db/<table>/`. Creating a table writes
 * `schema/schema-0`; altering writes the next schema; dropping deletes the table directory.
 */
import { type FileIO, joinPath } from './fs/file-io.ts';
import { type CommitLock } from './fs/lock.ts';
import { fileIOFor, defaultCommitLock } from './fs/index.ts';
import type { S3Options } from './fs/s3.ts';
import { ConfigError } from './errors.ts';
import { type SchemaDefinition, type SchemaChange, type TableSchema, newSchema } from './schema/schema.ts';
import { SchemaManager } from './schema/schema-manager.ts';
import { tableOptions } from './table/options.ts';
import { FileStoreTable } from './table/table.ts';

export interface CatalogOptions {
  io?: FileIO;
  lock?: CommitLock;
  s3?: S3Options;
}

export class Catalog {
  readonly io: FileIO;
  readonly lock: CommitLock;

  constructor(readonly warehouse: string, opts: CatalogOptions = {}) {
    this.warehouse = warehouse.replace(/\/+$/, '');
    this.io = opts.io ?? fileIOFor(warehouse, opts.s3);
    this.lock = opts.lock ?? defaultCommitLock(this.io);
  }

  tablePath(database: string, table: string): string {
    return joinPath(this.warehouse, `${database}.db`, table);
  }

  private schemas(database: string, table: string): SchemaManager {
    return new SchemaManager(this.io, this.tablePath(database, table), this.lock);
  }

  async tableExists(database: string, table: string): Promise<boolean> {
    return (await this.schemas(database, table).listIds()).length > 0;
  }

  /** Creates the table (schema-0). With ignoreIfExists, an existing table is opened instead. */
  async createTable(database: string, table: string, def: SchemaDefinition, opts: { ignoreIfExists?: boolean } = {}): Promise<FileStoreTable> {
    const schema: TableSchema = newSchema(def, 0);
    tableOptions(schema); // validate options before writing anything
    const sm = this.schemas(database, table);
    if (!(await sm.commit(schema))) {
      if (!opts.ignoreIfExists) throw new ConfigError('table', `table ${database}.${table} exists already at ${this.tablePath(database, table)}`);
    }
    return this.getTable(database, table);
  }

  async getTable(database: string, table: string): Promise<FileStoreTable> {
    return FileStoreTable.open(this.tablePath(database, table), { io: this.io, lock: this.lock });
  }

  async alterTable(database: string, table: string, changes: SchemaChange[]): Promise<TableSchema> {
    return this.schemas(database, table).alter(changes);
  }

  async dropTable(database: string, table: string): Promise<void> {
    const dir = this.tablePath(database, table);
    for (const f of await this.io.listRecursive(dir)) await this.io.delete(f.path);
  }

  /** Table names of a database (directories that hold a schema file). */
  async listTables(database: string): Promise<string[]> {
    const files = await this.io.listRecursive(joinPath(this.warehouse, `${database}.db`));
    const names = new Set<string>();
    for (const f of files) {
      const m = /\/([^/]+)\/schema\/schema-\d+$/.exec(f.path);
      if (m) names.add(m[1]!);
    }
    return [...names].sort();
  }
}
