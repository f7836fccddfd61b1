/**
 * Barrier handling at a task's input, as a small state machine. Exactly-once: when barrier n
 * arrives on a channel, that channel is blocked until barrier n has arrived on every channel; then
 * the task snapshots and everything is unblocked (records after the barrier belong to the next
 * checkpoint). At-least-once: nothing is blocked; the task snapshots when the last barrier arrives.
 * A newer barrier while aligning aborts the older checkpoint (it timed out or was declined upstream).
 */
export type AlignerAction =
  | { kind: 'none' }
  | { kind: 'block'; channel: number }
  /** All barriers of `checkpointId` arrived: snapshot, forward the barrier, unblock all. */
  | { kind: 'snapshot'; checkpointId: number; alignmentMs: number }
  /** Alignment for `checkpointId` is abandoned in favour of a newer checkpoint. */
  | { kind: 'abort'; checkpointId: number; then: AlignerAction };

export class BarrierAligner {
  private current = -1;
  private seen = new Set<number>();
  private startedAt = 0;

  constructor(
    private readonly channels: number,
    private readonly aligned: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get aligningCheckpoint(): number | undefined {
    return this.seen.size > 0 ? this.current : undefined;
  }

  onBarrier(channel: number, checkpointId: number): AlignerAction {
    if (checkpointId < this.current || (checkpointId === this.current && this.seen.size === 0)) return { kind: 'none' };
    if (checkpointId > this.current) {
      const abandoned = this.seen.size > 0 ? this.current : undefined;
      this.current = checkpointId;
      this.seen = new Set();
      this.startedAt = this.now();
      const next = this.arrive(channel);
      return abandoned === undefined ? next : { kind: 'abort', checkpointId: abandoned, then: next };
    }
    return this.arrive(channel);
  }

  private arrive(channel: number): AlignerAction {
    this.seen.add(channel);
    if (this.seen.size === this.channels) {
      this.seen = new Set();
      return { kind: 'snapshot', checkpointId: this.current, alignmentMs: this.now() - this.startedAt };
    }
    return this.aligned ? { kind: 'block', channel } : { kind: 'none' };
  }
}
