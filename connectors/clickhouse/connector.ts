/** The ClickHouse connector in the registry: an exactly-once sink over the HTTP interface. */
import type { ConnectorDefinition } from '../connector.ts';

export const clickhouseConnector: ConnectorDefinition = {
  type: 'clickhouse',
  description: 'a ClickHouse table over HTTP: ReplacingMergeTree upserts and deletes, exactly-once through idempotent versions',
  sink: {
    options: {
      url: { required: true, description: 'the HTTP interface, e.g. http://127.0.0.1:8123' },
      database: { description: 'database (default: the server default)' },
      user: { description: 'user (sent as a header)' },
      password: { description: 'password (sent as a header, never logged)' },
      table: { required: true, description: 'the table (created from the records if missing)' },
      primaryKey: { description: 'key fields: ORDER BY of the ReplacingMergeTree (default: append-only)' },
      columns: { description: "column types by field, e.g. { id: 'BIGINT' }" },
      writers: { description: 'writer subtasks (default 1)' },
      buffer: { description: 'maxRows, maxBytes, flushIntervalMs of the write buffer' },
      timeoutMs: { description: 'per statement (default 60000)' },
    },
    async create(o) {
      const { clickhouseSink } = await import('./index.ts');
      return clickhouseSink(o as unknown as Parameters<typeof clickhouseSink>[0]) as never;
    },
  },
};
