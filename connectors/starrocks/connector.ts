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
      semantic: { description: "'exactly-once' (default) or 'at-least-once'" },
      format: { description: "'json' (default) or 'csv'" },
      columns: { description: 'columns to load (default the keys of the first record)' },
      primaryKeyTable: { description: 'the table has a primary key: upserts and deletes via __op (default true)' },
      partialUpdate: { description: 'update only the given columns (default false)' },
      ignoreUpdateBefore: { description: 'skip -U records (default true)' },
      labelPrefix: { description: "label prefix (default 'weir')" },
      bufferRows: { description: 'rows per load (default 20000)' },
      bufferBytes: { description: 'bytes per load (default 16 MiB)' },
      flushIntervalMs: { description: 'at-least-once: load at least this often (default 1000)' },
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
