/** Reads and commits `schema/schema-N` files of one table. */
import { type FileIO, joinPath, baseName } from '../fs/file-io.ts';
import { type CommitLock, NO_LOCK } from '../fs/lock.ts';
import { ConfigError, LakeFormatError } from '../errors.ts';
import { type TableSchema, type SchemaChange, applySchemaChanges, schemaFromJson, schemaToJson } from './schema.ts';

export class SchemaManager {
  private readonly cache = new Map<number, TableSchema>();

  constructor(readonly io: FileIO, readonly tablePath: string, readonly lock: CommitLock = NO_LOCK) {}

  schemaPath(id: number): string {
    return joinPath(this.tablePath, 'schema', `schema-${id}`);
  }

  async listIds(): Promise<number[]> {
    const files = await this.io.list(joinPath(this.tablePath, 'schema'));
    return files
      .map((f) => /^schema-(\d+)$/.exec(baseName(f.path)))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  async latest(): Promise<TableSchema | null> {
    const ids = await this.listIds();
    return ids.length === 0 ? null : this.schema(ids[ids.length - 1]!);
  }

  async schema(id: number): Promise<TableSchema> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const p = this.schemaPath(id);
    if (!(await this.io.exists(p))) throw new LakeFormatError(`schema file ${p} does not exist; the table is missing or damaged`);
    const s = schemaFromJson(new TextDecoder().decode(await this.io.read(p)), p);
    this.cache.set(id, s);
    return s;
  }

  /** Writes the schema as a new id; false if that id was taken meanwhile. */
  async commit(schema: TableSchema): Promise<boolean> {
    const p = this.schemaPath(schema.id);
    return this.lock.withLock(this.tablePath, () => this.io.writeIfAbsent(p, schemaToJson(schema)));
  }

  /** Applies changes to the latest schema and commits it, retrying if another writer changed it first. */
  async alter(changes: SchemaChange[]): Promise<TableSchema> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.latest();
      if (!current) throw new ConfigError('table', `no table at ${this.tablePath}; create it first`);
      const next = applySchemaChanges(current, changes);
      if (await this.commit(next)) {
        this.cache.set(next.id, next);
        return next;
      }
    }
    throw new LakeFormatError(`schema of ${this.tablePath} changed 20 times while altering it; try again`);
  }
}
