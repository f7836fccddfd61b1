/**
 * An endless source into a sink whose commit at a completed checkpoint or savepoint waits until the
 * file `release` exists: after a stop-with-savepoint completed, its tasks stay up (not yet ended)
 * as long as the test wants.
 */
import { existsSync } from 'node:fs';
import { datagen, defineJob, type Sink, type SinkWriter } from 'weir';

class StallingWriter implements SinkWriter<number, never> {
  constructor(private readonly release: string) {}
  readonly write = (): void => {};
  prepareCommit(): never[] {
    return [];
  }
  async notifyCheckpointComplete(): Promise<void> {
    while (!existsSync(this.release)) await new Promise((r) => setTimeout(r, 10));
  }
}

export default defineJob(import.meta.url, (env, params: { release: string }) => {
  const sink: Sink<number> = { name: 'stalling-sink', createWriter: () => new StallingWriter(params.release) };
  env.fromSource(datagen({ ratePerSecond: 2000, generate: (i) => i }), { uid: 'numbers' }).rebalance().sinkTo(sink, { uid: 'stalling-sink' });
});
