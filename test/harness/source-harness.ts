/**
 * Runs a source in-process, as the runtime does but without tasks: the real split enumerator host
 * (SourceCoordinator) on one side, one reader per subtask on the other, enumerator events delivered
 * in order. Snapshots hold the enumerator's state and each reader's splits as operator state, and a
 * restore deals those out with the runtime's redistribution (by split), also at another parallelism.
 */
import { SourceCoordinator } from '../../runtime/cluster/source-coordinator.ts';
import type { PollStatus, ReaderEvent, ReaderOutput, Source, SourceReader, SourceSplit, SplitOutput } from '../../runtime/source/contract.ts';
import { READER_SPLITS_STATE } from '../../runtime/task/source-driver.ts';
import { OperatorStateStore, redistributeOperatorState, type OperatorStateHandle } from '../../state/operator-state.ts';

export interface Emitted<T> {
  value: T;
  timestamp: number | undefined;
  split: string;
}

export interface SourceSnapshot {
  checkpointId: number;
  enumerator: string;
  readers: OperatorStateHandle[];
}

class RecordingOutput<T> implements ReaderOutput<T> {
  readonly emitted: Emitted<T>[] = [];
  readonly released: string[] = [];
  forSplit(split: string): SplitOutput<T> {
    return { collect: (value, timestamp) => void this.emitted.push({ value, timestamp, split }) };
  }
  releaseSplit(split: string): void {
    this.released.push(split);
  }
}

export class SourceHarness<T, S extends SourceSplit, E> {
  readonly readers: SourceReader<T, S>[] = [];
  readonly outputs: RecordingOutput<T>[] = [];
  /** Events each reader received, in order (for assertions). */
  readonly events: ReaderEvent[][] = [];
  readonly coordinator: SourceCoordinator;
  readonly errors: Error[] = [];
  private readonly stores: OperatorStateStore[] = [];

  constructor(
    private readonly source: Source<T, S, E>,
    readonly parallelism: number,
    private readonly restore?: SourceSnapshot,
  ) {
    this.coordinator = new SourceCoordinator(source as unknown as Source<unknown, SourceSplit, unknown>, {
      uid: 'source',
      name: source.name,
      parallelism,
      send: (subtask, event) => {
        this.events[subtask]!.push(event);
        if (event.type === 'add-splits') this.readers[subtask]!.addSplits(event.splits as S[]);
        else this.readers[subtask]!.notifyNoMoreSplits();
      },
      onError: (e) => void this.errors.push(e),
    });
  }

  /** Starts the enumerator, creates the readers (with their restored splits) and registers them. */
  async start(): Promise<this> {
    await this.coordinator.start(this.restore?.enumerator);
    const handles = this.restore ? redistributeOperatorState(this.restore.readers, this.parallelism) : [];
    for (let i = 0; i < this.parallelism; i++) {
      const subtask = i;
      this.events.push([]);
      this.outputs.push(new RecordingOutput<T>());
      const store = new OperatorStateStore('source', subtask, handles[subtask]);
      this.stores.push(store);
      const reader = this.source.createReader({ subtaskIndex: subtask, parallelism: this.parallelism, sendSplitRequest: () => this.coordinator.handle(subtask, { type: 'split-request' }),
        sendSourceEvent: (event) => this.coordinator.handle(subtask, { type: 'source-event', event }),
      });
      this.readers.push(reader);
      const restored = store.getListState<S>(READER_SPLITS_STATE).get();
      if (restored.length > 0) reader.addSplits(restored);
    }
    for (let i = 0; i < this.parallelism; i++) this.coordinator.handle(i, { type: 'register' });
    // The enumerator's first discovery (async work) is done before the test polls.
    await this.coordinator.settled();
    return this;
  }

  poll(subtask: number, max = 100): PollStatus {
    return this.readers[subtask]!.poll(this.outputs[subtask]!, max);
  }

  /** Polls reader `subtask` until it ends (waiting on `available()` after `wait`) or `maxPolls` ran out; true if it ended. */
  async drain(subtask: number, maxPolls = Infinity, batch = 100): Promise<boolean> {
    for (let i = 0; i < maxPolls; i++) {
      const status = this.poll(subtask, batch);
      if (status === 'end') return true;
      if (status === 'wait') await this.readers[subtask]!.available();
    }
    return false;
  }

  async drainAll(batch = 100): Promise<void> {
    for (let i = 0; i < this.parallelism; i++) await this.drain(i, Infinity, batch);
  }

  emitted(subtask?: number): Emitted<T>[] {
    return subtask === undefined ? this.outputs.flatMap((o) => o.emitted) : this.outputs[subtask]!.emitted;
  }

  /** Checkpoint `id`: the enumerator first (as the job manager does), then every reader's splits. */
  snapshot(checkpointId: number): SourceSnapshot {
    const enumerator = this.coordinator.snapshot(checkpointId);
    const readers = this.readers.map((r, i) => {
      this.stores[i]!.getListState<S>(READER_SPLITS_STATE).update(r.snapshotState(checkpointId));
      return this.stores[i]!.snapshot(checkpointId);
    });
    return { checkpointId, enumerator, readers };
  }

  async close(): Promise<void> {
    await this.coordinator.close();
    for (const r of this.readers) await r.close?.();
  }
}
