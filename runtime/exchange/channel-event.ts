/**
 * What flows on a channel besides records: the signals of the stream. Events keep their place
 * among the record batches of their channel.
 */
import type { SnapshotKind } from '../checkpoint/snapshot-kind.ts';

export type ChannelEvent =
  | { kind: 'watermark'; time: number }
  /** The sender has no data for now (all its source splits idle) and must not hold watermarks back. */
  | { kind: 'idle'; idle: boolean }
  /** `snapshot`: checkpoint or savepoint (a savepoint's state files go to its own directory). */
  | { kind: 'barrier'; checkpointId: number; aligned: boolean; snapshot: SnapshotKind }
  /** The sender finished; nothing more comes on this channel. */
  | { kind: 'end' };
