/**
 * What a lookup join asks of an external table: a name for errors and metrics, and a client per
 * subtask that looks rows up by key (and, for a full cache, reads the whole table). The job module
 * creates the table description; each subtask connects its own client in `open` and closes it in
 * `close`, so connections never cross threads.
 */
import type { StateKey } from '../../state/key-groups.ts';

export interface LookupClient<K extends StateKey, D> {
  /** The rows with this key; empty when there are none. Rejections are retried by the operator. */
  lookup(key: K): Promise<D[]>;
  /** Every row with its key (for a full cache). */
  scan?(): Promise<Iterable<[K, D]>>;
  close(): Promise<void>;
}

export interface LookupTable<K extends StateKey, D> {
  /** The table's name, used in errors and metrics (e.g. `shop.rooms`). */
  readonly name: string;
  connect(): Promise<LookupClient<K, D>>;
}
