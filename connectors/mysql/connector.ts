/** MySQL/MariaDB in the registry: the CDC source (snapshot + binlog) and the lookup table (lookup joins). */
import type { ConnectorDefinition } from '../connector.ts';

/** A regex option from configuration: a RegExp, or its source text. */
function regex(v: unknown): RegExp | undefined {
  return v === undefined ? undefined : v instanceof RegExp ? v : new RegExp(String(v));
}

export const mysqlConnector: ConnectorDefinition = {
  type: 'mysql',
  description: 'MySQL/MariaDB: change data capture (source) and a table to look rows up in (lookup joins)',
  source: {
    options: {
      host: { required: true, description: 'server host' },
      port: { description: 'server port (default 3306)' },
      user: { required: true, description: 'user with SELECT, REPLICATION SLAVE and REPLICATION CLIENT' },
      password: { description: 'password' },
      databases: { required: true, description: 'databases to capture' },
      tables: { description: 'regex over db.table (default every table of the databases)' },
      serverId: { description: 'replica server id of the binlog connection (unique per server)' },
      serverIdRange: { description: '[from, to]: the binlog reader takes the first id' },
      startup: { description: "'initial' (default), 'latest', 'earliest', { timestamp }, { gtid }, { file, pos }" },
      serverTimeZone: { description: "zone of DATETIME values ('UTC', '+02:00'); set, DATETIME comes out as an instant" },
      chunkSize: { description: 'rows per snapshot chunk (default 8096)' },
      schemaChanges: { description: "'lenient' (default), 'evolve', 'try_evolve', 'ignore', 'exception'" },
      routes: { description: '[{ source: regex over db.table, sink: db.table, sourceTableColumn? }]' },
      heartbeatIntervalMs: { description: 'heartbeat period of the binlog connection (default 30000; 0 off)' },
      connectTimeoutMs: { description: 'connect timeout (default 10000)' },
    },
    async create(o) {
      const { mysqlCdcSource } = await import('./cdc/source.ts');
      const options = { ...o, tables: regex(o.tables) } as unknown as Parameters<typeof mysqlCdcSource>[0];
      if (Array.isArray(o.routes)) {
        (options as { routes: unknown }).routes = (o.routes as Record<string, unknown>[]).map((r) => ({ ...r, source: regex(r.source) }));
      }
      return mysqlCdcSource(options) as never;
    },
  },
  lookup: {
    options: {
      url: { required: true, description: 'mysql://user:password@host:port/database' },
      table: { required: true, description: 'the table to look up' },
      keyColumns: { required: true, description: 'the columns the lookup key is matched against' },
      columns: { description: 'the columns to fetch (default all)' },
      poolSize: { description: 'connections per subtask' },
      connectTimeoutMs: { description: 'connect timeout' },
    },
    async create(o) {
      const { mysqlLookupTable } = await import('./lookup-table.ts');
      return mysqlLookupTable(o as unknown as Parameters<typeof mysqlLookupTable>[0]);
    },
  },
};
