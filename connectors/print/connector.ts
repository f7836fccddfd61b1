/** The print sink in the registry. */
import type { ConnectorDefinition } from '../connector.ts';

export const printConnector: ConnectorDefinition = {
  type: 'print',
  description: 'prints every record to stdout as JSON (prefixed with the subtask at parallelism > 1)',
  sink: {
    options: { name: { description: 'sink name' } },
    async create(o) {
      const { printSink } = await import('./index.ts');
      return printSink(o.name !== undefined ? { name: String(o.name) } : {});
    },
  },
};
