/** The MySQL lookup table in the registry (the fourth contract: lookup joins). */
import type { ConnectorDefinition } from '../connector.ts';

export const mysqlConnector: ConnectorDefinition = {
  type: 'mysql',
  description: 'a MySQL/MariaDB table to look rows up in (lookup joins)',
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
