/** The collect sink in the registry: records go back to the submitting program under `topic`. */
import type { ConnectorDefinition } from '../connector.ts';

export const collectConnector: ConnectorDefinition = {
  type: 'collect',
  description: 'sends every record back to the program that submitted the job (tests, small outputs)',
  sink: {
    options: { topic: { required: true, description: 'the name results are read back under' } },
    async create(o) {
      const { collectSink } = await import('./index.ts');
      return collectSink(String(o.topic));
    },
  },
};
