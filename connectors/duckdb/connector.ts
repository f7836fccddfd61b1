/** The DuckDB connector in the registry: an exactly-once sink into a table of a DuckDB file. */
import type { ConnectorDefinition } from '../connector.ts';

export const duckdbConnector: ConnectorDefinition = {
  type: 'duckdb',
  description: 'a table in an embedded DuckDB database file: upserts, deletes, exactly-once commits, a read-only copy for readers',
  sink: {
    options: {
      path: { required: true, description: 'the database file' },
      table: { required: true, description: 'the table (created from the records if missing)' },
      primaryKey: { description: 'key fields: upsert and delete by key (default: append-only)' },
      columns: { description: "column types by field, e.g. { id: 'BIGINT' } (the rest derived from the records)" },
      writers: { description: 'writer subtasks (default 1)' },
      buffer: { description: 'maxRows, maxBytes, flushIntervalMs of the write buffer' },
      readCopy: { description: 'read-only copy published after each commit (default <path>.read.duckdb; false: none)' },
      stagingDir: { description: 'where batches wait for their checkpoint (default <path>.staging)' },
    },
    async create(o) {
      const { duckdbSink } = await import('./index.ts');
      return duckdbSink(o as unknown as Parameters<typeof duckdbSink>[0]) as never;
    },
  },
};
