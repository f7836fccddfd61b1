/** The lake (Apache Paimon table) connector in the registry: source and sink. */
import type { ConnectorDefinition } from '../connector.ts';

const location = {
  path: { required: true, description: 'the table directory: a local path or s3://bucket/path' },
  s3: { description: 'S3 endpoint and credentials for s3:// paths' },
} as const;

export const lakeConnector: ConnectorDefinition = {
  type: 'lake',
  description: 'an Apache Paimon table (local or S3): batch or streaming reads, exactly-once writes',
  source: {
    options: {
      ...location,
      name: { description: 'source name' },
      mode: { required: true, description: "'batch' (one snapshot) or 'streaming' (a snapshot, then changes)" },
      snapshotId: { description: 'batch: the snapshot to read (default the latest)' },
      startFrom: { description: "streaming: 'initial' (default) or 'latest'" },
      afterSnapshotId: { description: 'streaming: start with the changes after this snapshot' },
      pollIntervalMs: { description: 'streaming: how often to look for new snapshots (default 1000)' },
    },
    async create(o) {
      const { lakeSource } = await import('./source/index.ts');
      return lakeSource(o as unknown as Parameters<typeof lakeSource>[0]);
    },
  },
  sink: {
    options: {
      ...location,
      schema: { description: 'the schema to create the table with when there is none' },
      writers: { description: 'writer subtasks (default the sink parallelism)' },
      commitUser: { description: 'commit user of the first run' },
      writeBufferRows: { description: 'rows a writer buffers before writing files (default 200000)' },
      compaction: { description: 'compact in the background (default true)' },
      expireEvery: { description: 'expire snapshots after every this many commits (default 10)' },
      expire: { description: 'snapshot retention settings' },
    },
    async create(o) {
      const { lakeSink } = await import('./sink/index.ts');
      return lakeSink(o as unknown as Parameters<typeof lakeSink>[0]) as never;
    },
  },
};
