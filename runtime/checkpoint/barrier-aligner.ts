/**
 * Barrier handling at a task's input, as a small state machine. Exactly-once: when barrier n
 * arrives on a channel, that channel is blocked until barrier n has arrived on every channel; then
 * the task snapshots and everything is unblocked (records after the barrier belong to the next
 * checkpoint). At-least-once: nothing is blocked; the task snapshots when the last barrier arrives.
 *
 * Alignment of n ends without a snapshot when
 * - a newer barrier arrives first (n was aborted or declined upstream): `abort`, then the newer one
 *   starts aligning;
 * - the coordinator says n was aborted (`abort(n)`): held channels are released, and barriers of n
 *   that arrive later are ignored (also when the abort arrives before any barrier of n);
 * - it takes longer than the alignment timeout (`expire(n)`, called by the task's timer): the task
 *   declines n, naming the channels it still waits for.
 */
import type { SnapshotKind } from './snapshot-kind.ts';

export type AlignerAction =
  | { kind: 'none' }
  | { kind: 'block'; channel: number }
  /** All barriers of `checkpointId` arrived: snapshot, forward the barrier, unblock all. */
  | { kind: 'snapshot'; checkpointId: number; snapshot: SnapshotKind; alignmentMs: number }
  /** Alignment for `checkpointId` is abandoned in favour of a newer checkpoint: unblock all, then `then`. */
  | { kind: 'abort'; checkpointId: number; then: AlignerAction };

/** What an alignment that was given up looked like. */
export interface AbandonedAlignment {
  checkpointId: number;
  /** Channels whose barrier had arrived (held, in exactly-once mode). */
  arrived: number[];
  /** Channels whose barrier had not arrived: what the alignment waited for. */
  missing: number[];
}

export class BarrierAligner {
  /** The newest checkpoint seen (by barrier or abort); barriers of older or equal, finished ones are ignored. */
  private current = -1;
  private seen = new Set<number>();
  private kind: SnapshotKind = 'checkpoint';
  private startedAt = 0;

  constructor(
    private readonly channels: number,
    private readonly aligned: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The checkpoint being aligned (some but not all of its barriers arrived), if any. */
  get aligningCheckpoint(): number | undefined {
    return this.seen.size > 0 ? this.current : undefined;
  }

  onBarrier(channel: number, checkpointId: number, kind: SnapshotKind = 'checkpoint'): AlignerAction {
    if (checkpointId < this.current || (checkpointId === this.current && this.seen.size === 0)) return { kind: 'none' };
    if (checkpointId > this.current) {
      const abandoned = this.seen.size > 0 ? this.current : undefined;
      this.current = checkpointId;
      this.kind = kind;
      this.seen = new Set();
      this.startedAt = this.now();
      const next = this.arrive(channel);
      return abandoned === undefined ? next : { kind: 'abort', checkpointId: abandoned, then: next };
    }
    return this.arrive(channel);
  }

  /**
   * Checkpoint `checkpointId` was aborted: if it is being aligned, alignment ends (the caller
   * unblocks every channel) and the abandoned alignment is returned; its later barriers are ignored.
   */
  abort(checkpointId: number): AbandonedAlignment | undefined {
    if (checkpointId < this.current) return undefined;
    if (checkpointId > this.current) {
      this.current = checkpointId;
      this.seen = new Set();
      return undefined;
    }
    return this.reset();
  }

  /** The alignment timeout of `checkpointId` ran out: like `abort`, if it is still aligning. */
  expire(checkpointId: number): AbandonedAlignment | undefined {
    return this.aligningCheckpoint === checkpointId ? this.reset() : undefined;
  }

  private reset(): AbandonedAlignment | undefined {
    if (this.seen.size === 0) return undefined;
    const arrived = [...this.seen].sort((a, b) => a - b);
    const missing: number[] = [];
    for (let c = 0; c < this.channels; c++) if (!this.seen.has(c)) missing.push(c);
    this.seen = new Set();
    return { checkpointId: this.current, arrived, missing };
  }

  private arrive(channel: number): AlignerAction {
    this.seen.add(channel);
    if (this.seen.size === this.channels) {
      this.seen = new Set();
      return { kind: 'snapshot', checkpointId: this.current, snapshot: this.kind, alignmentMs: this.now() - this.startedAt };
    }
    return this.aligned ? { kind: 'block', channel } : { kind: 'none' };
  }
}
