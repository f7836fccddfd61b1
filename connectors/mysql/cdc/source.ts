/**
 * `mysqlCdcSource`: the MySQL/MariaDB change-data-capture source. Snapshot chunks read in parallel
 * without locks, then the binlog from the exact position that matches them (handoff.ts), schema
 * changes in order with the rows, routes. Records are `CdcRecord`s: Weir's changelog records
 * (+I, -U, +U, -D) with their table and schema, and schema-change events. See connectors/mysql/README.md.
 *
 *     env.fromSource(mysqlCdcSource({ host, port, user, password, databases: ['shop'], tables: /shop\.orders/ }))
 */
import type { Source } from '../../../runtime/source/contract.ts';
import { ConfigError } from '../../../runtime/errors.ts';
import { checkServer, connect, currentPosition, earliestPosition, planChunks, readSchemas } from './catalog.ts';
import { initialEnumeratorState, MySqlCdcEnumerator, type EnumeratorState, type Plan } from './enumerator.ts';
import { MySqlCdcReader } from './reader.ts';
import { checkRoutes } from './routes.ts';
import type { BinlogSplit, CdcRecord, MySqlCdcOptions, MySqlCdcSplit } from './types.ts';
import { zoneOffsetMinutes } from './values.ts';

const BEHAVIORS = ['lenient', 'evolve', 'try_evolve', 'ignore', 'exception'];

function check(o: MySqlCdcOptions): void {
  if (!o || typeof o.host !== 'string' || o.host.length === 0) throw new ConfigError('mysql-cdc.host', 'is missing: the MySQL/MariaDB host name');
  if (typeof o.user !== 'string' || o.user.length === 0) throw new ConfigError('mysql-cdc.user', 'is missing: a user with SELECT, REPLICATION SLAVE and REPLICATION CLIENT');
  if (!Array.isArray(o.databases) || o.databases.length === 0) throw new ConfigError('mysql-cdc.databases', 'name at least one database to capture');
  if (o.tables !== undefined && !(o.tables instanceof RegExp)) throw new ConfigError('mysql-cdc.tables', 'must be a RegExp matched against db.table');
  if (o.chunkSize !== undefined && (!Number.isInteger(o.chunkSize) || o.chunkSize < 1)) throw new ConfigError('mysql-cdc.chunkSize', `must be a positive integer, got ${o.chunkSize}`);
  if (o.schemaChanges !== undefined && !BEHAVIORS.includes(o.schemaChanges)) throw new ConfigError('mysql-cdc.schemaChanges', `'${o.schemaChanges}' is not one of ${BEHAVIORS.join(', ')}`);
  if (o.serverTimeZone !== undefined) zoneOffsetMinutes(o.serverTimeZone);
  if (o.serverId !== undefined && (!Number.isInteger(o.serverId) || o.serverId < 1)) throw new ConfigError('mysql-cdc.serverId', `must be a positive integer, got ${o.serverId}`);
  if (o.serverIdRange !== undefined && !(o.serverIdRange.length === 2 && o.serverIdRange[0] >= 1 && o.serverIdRange[1] >= o.serverIdRange[0])) {
    throw new ConfigError('mysql-cdc.serverIdRange', `must be [from, to] with 1 <= from <= to, got ${JSON.stringify(o.serverIdRange)}`);
  }
  const s = o.startup ?? 'initial';
  const ok =
    s === 'initial' || s === 'latest' || s === 'earliest' ||
    (typeof s === 'object' && s !== null && (('timestamp' in s && Number.isFinite(s.timestamp)) || ('gtid' in s && typeof s.gtid === 'string') || ('file' in s && typeof s.file === 'string' && Number.isInteger(s.pos))));
  if (!ok) throw new ConfigError('mysql-cdc.startup', `${JSON.stringify(s)} is not one of 'initial', 'latest', 'earliest', { timestamp }, { gtid }, { file, pos }`);
  checkRoutes(o.routes);
}

/** Checks the server, reads the tables and plans the snapshot chunks or the binlog start. */
async function plan(o: MySqlCdcOptions): Promise<Plan> {
  const c = await connect(o, 'checking the server');
  try {
    await checkServer(c, o);
    const schemas = await readSchemas(c, o);
    const startup = o.startup ?? 'initial';
    const binlog = (start: BinlogSplit['start'], extra: Partial<BinlogSplit> = {}): BinlogSplit => ({ id: 'binlog', kind: 'binlog', start, skipRows: 0, chunks: [], schemas, ...extra });
    if (startup === 'initial') {
      const chunks = [];
      for (const s of Object.values(schemas)) chunks.push(...(await planChunks(c, o, s, o.chunkSize ?? 8096)));
      if (chunks.length === 0) return { schemas, chunks, binlog: binlog(await currentPosition(c, o)) };
      return { schemas, chunks, binlog: null };
    }
    if (startup === 'latest') return { schemas, chunks: [], binlog: binlog(await currentPosition(c, o)) };
    if (startup === 'earliest') return { schemas, chunks: [], binlog: binlog(await earliestPosition(c, o)) };
    if ('timestamp' in startup) return { schemas, chunks: [], binlog: binlog(await earliestPosition(c, o), { fromTimestamp: startup.timestamp }) };
    if ('gtid' in startup) return { schemas, chunks: [], binlog: binlog(null, { gtid: startup.gtid }) };
    return { schemas, chunks: [], binlog: binlog({ file: startup.file, pos: startup.pos }) };
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

export function mysqlCdcSource(options: MySqlCdcOptions): Source<CdcRecord, MySqlCdcSplit, EnumeratorState> {
  check(options);
  const o: MySqlCdcOptions = { ...options };
  return {
    name: `mysql-cdc(${o.host}:${o.port ?? 3306}/${o.databases.join(',')})`,
    bounded: false,
    createEnumerator: (ctx) => new MySqlCdcEnumerator(ctx, initialEnumeratorState(), () => plan(o)),
    restoreEnumerator: (ctx, state) => new MySqlCdcEnumerator(ctx, state, () => plan(o)),
    createReader: (ctx) => new MySqlCdcReader(ctx, o),
  };
}
