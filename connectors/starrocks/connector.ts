/** The StarRocks connector in the registry: a sink. */
import type { ConnectorDefinition } from '../connector.ts';

export const starrocksConnector: ConnectorDefinition = {
  type: 'starrocks',
  description: 'a StarRocks table over HTTP: exactly-once Stream Load transactions per checkpoint, or at-least-once Stream Loads',
  sink: {
    options: {
      feUrl: { required: true, description: "FE HTTP address(es), e.g. 'http://fe:8030'" },
      database: { required: true, description: 'the database' },
      table: { required: true, description: 'the table' },
      user: { required: true, description: 'the user' },
      password: { required: true, description: 'the password (never logged)' },
      primaryKey: { description: 'primary key columns: a Primary Key table (upserts and deletes via __op); none: appends' },
      columns: { description: 'column types by field (the rest derived from the first record)' },
      semantic: { description: "'exactly-once' (default) or 'at-least-once'" },
      format: { description: "'json' (default) or 'csv'" },
      partialUpdate: { description: 'update only the columns the records carry (default false)' },
      labelPrefix: { description: "label prefix (default 'weir')" },
      writers: { description: 'writer subtasks (default the sink parallelism)' },
      buffer: { description: '{maxRows, maxBytes, flushIntervalMs} (default 10000, 16 MiB, 1000)' },
      transactionTimeoutS: { description: 'timeout header at begin (default 600)' },
      idleTransactionTimeoutS: { description: 'idle_transaction_timeout header at begin' },
      preparedTimeoutS: { description: 'prepared_timeout header at prepare' },
      lingeringProbeDepth: { description: 'checkpoints after the restored one probed for leftovers (default 5)' },
      retry: { description: '{attempts, backoffMs, maxBackoffMs} for idempotent requests' },
      requestTimeoutMs: { description: 'per request (default 60000)' },
      commitRetry: { description: '{attempts, backoffMs, maxBackoffMs} of failing commits before the job fails' },
    },
    async create(o) {
      const { starrocksSink } = await import('./index.ts');
      return starrocksSink(o as unknown as Parameters<typeof starrocksSink>[0]) as never;
    },
  },
};
