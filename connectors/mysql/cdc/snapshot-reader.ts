/**
 * Reads one snapshot chunk: `START TRANSACTION WITH CONSISTENT SNAPSHOT`, then MariaDB's
 * `binlog_snapshot_file/position` (the binlog position this snapshot matches exactly, no lock
 * taken), then the chunk's rows, then COMMIT. MySQL lacks these status variables: there the
 * snapshot fails with an error that says so (the binlog-only startup modes work).
 */
import type mysql from 'mysql2/promise';
import { ExternalError } from '../../../runtime/errors.ts';
import { connect, explainMysqlError, quoteIdent, quoteTable } from './catalog.ts';
import type { RecordMaker } from './records.ts';
import type { BinlogPosition, CdcRowChange, MySqlCdcOptions, SnapshotSplit } from './types.ts';

export interface ChunkResult {
  at: BinlogPosition;
  records: CdcRowChange[];
}

export class ChunkReader {
  private conn: mysql.Connection | null = null;

  constructor(
    private readonly options: MySqlCdcOptions,
    private readonly maker: RecordMaker,
  ) {}

  async read(split: SnapshotSplit): Promise<ChunkResult> {
    this.conn ??= await connect(this.options, `reading snapshot chunk ${split.id}`);
    const c = this.conn;
    const o = this.options;
    try {
      await c.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await c.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const at = await snapshotPosition(c, o);
      const cols = split.schema.columns.map((col) => quoteIdent(col.name)).join(', ');
      const k = quoteIdent(split.chunkKey);
      const conds: string[] = [];
      const params: unknown[] = [];
      if (split.lo !== null) {
        conds.push(`${k} >= ?`);
        params.push(String(split.lo));
      }
      if (split.hi !== null) {
        conds.push(`${k} < ?`);
        params.push(String(split.hi));
      }
      const sql = `SELECT ${cols} FROM ${quoteTable(split.table)}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`;
      const [rows] = await c.query({ sql, values: params, rowsAsArray: false });
      await c.query('COMMIT');
      const schema = split.schema;
      const records = (rows as Record<string, unknown>[]).map((r) => this.maker.make('+I', r, schema, schema));
      return { at, records };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      if (e instanceof ExternalError) throw e;
      if ((e as { code?: string }).code === 'ER_BAD_FIELD_ERROR' || (e as { code?: string }).code === 'ER_NO_SUCH_TABLE') {
        throw new ExternalError(
          `MySQL CDC: table '${split.table}' was altered or dropped during its snapshot (${(e as Error).message}); schema changes are read from the binlog only after the snapshot (as in Flink CDC): restart the job without its checkpoint, and alter tables once their snapshot is done`,
          { cause: e, retriable: false },
        );
      }
      throw explainMysqlError(o, e, `reading snapshot chunk ${split.id} of '${split.table}'`);
    }
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    await c?.end().catch(() => c.destroy());
  }
}

async function snapshotPosition(c: mysql.Connection, o: MySqlCdcOptions): Promise<BinlogPosition> {
  const [rows] = (await c.query("SHOW STATUS LIKE 'binlog_snapshot_%'")) as unknown as [{ Variable_name: string; Value: string }[]];
  const v = Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  if (v.binlog_snapshot_file && v.binlog_snapshot_position) return { file: v.binlog_snapshot_file, pos: Number(v.binlog_snapshot_position) };
  throw new ExternalError(
    `MySQL CDC: ${o.host}:${o.port ?? 3306} does not report binlog_snapshot_file/position (a MariaDB status variable); the lock-free snapshot needs MariaDB 10.x with the binlog on`,
    { retriable: false },
  );
}
