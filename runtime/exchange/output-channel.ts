/**
 * The sending end of one channel, with credit-based flow control: the receiver grants one credit
 * per batch it can hold; a batch is sent only against a credit, otherwise it waits here. The task
 * stops taking input while any of its output channels has a backlog, so a slow consumer slows its
 * producers and memory stays bounded by (credits + one step's output) per channel.
 *
 * The receiver also sets the batch size (buffer debloating, buffer-debloater.ts): `batchLimit` is
 * what the record writer fills batches up to on this channel.
 */
import type { ChannelEvent } from './channel-event.ts';
import type { ChannelSender, DataPlane } from './data-plane.ts';

type Pending = { batch: [unknown[], ArrayLike<number>, ArrayLike<number> | undefined, ArrayLike<number> | undefined] } | { event: ChannelEvent };

export class OutputChannel implements ChannelSender {
  private credits = 0;
  /** The receiver has granted credit at least once (it is open). */
  private credited = false;
  private readonly backlog: Pending[] = [];
  /** Largest backlog seen, in batches (a metric, and what the back-pressure test checks). */
  maxBacklog = 0;
  batchesSent = 0;
  /** Records per batch the receiver asked for (Infinity until it asks: the writer's own size). */
  batchLimit = Infinity;
  /** Records handed to this channel (sent or held back), and how many the receiver reported processed. */
  private recordsWritten = 0;
  private recordsConsumed = 0;
  /** Records written up to the last batch that may be larger than `batchLimit`. */
  private oversizedUpTo = 0;
  /** Most records ahead of a barrier when it entered this channel (held back, in transit or queued at the receiver). */
  maxRecordsAheadOfBarrier = 0;
  /**
   * The same over the barriers sent once the receiver had asked for a batch size and every batch
   * ahead of the barrier had that size (what debloating bounds), and how many barriers that was.
   */
  maxRecordsAheadOfDebloatedBarrier = 0;
  debloatedBarriers = 0;

  constructor(
    readonly id: number,
    private readonly plane: DataPlane,
    /** Called when the backlog drains or credit comes back, so a task waiting on back-pressure resumes. */
    private readonly onWritable: () => void,
  ) {
    plane.registerSender(id, this);
  }

  get hasBacklog(): boolean {
    return this.backlog.length > 0;
  }

  /**
   * A batch written now would be sent at once: nothing held back and a credit left. Before the
   * receiver granted its first credit (it is not open yet) this is true too, so that sources start
   * as before: their first batches wait in the backlog until it opens.
   */
  get canSendNow(): boolean {
    return this.backlog.length === 0 && (this.credits > 0 || !this.credited);
  }

  /**
   * `keyGroups`, `keyHashes`: each record's key group and key hash, on a keyBy exchange (the receiving keyed operator does not
   * hash again). Returns true when the batch was encoded and sent at once, so the caller may reuse
   * the arrays (DataPlane.sendBatch); false when they were handed over or are held in the backlog.
   */
  sendBatch(values: unknown[], times: ArrayLike<number>, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): boolean {
    this.recordsWritten += values.length;
    if (values.length > this.batchLimit) this.oversizedUpTo = this.recordsWritten;
    if (this.backlog.length === 0 && this.credits > 0) {
      this.credits--;
      this.batchesSent++;
      return this.plane.sendBatch(this.id, values, times, keyGroups, keyHashes);
    }
    this.backlog.push({ batch: [values, times, keyGroups, keyHashes] });
    if (this.backlog.length > this.maxBacklog) this.maxBacklog = this.backlog.length;
    return false;
  }

  sendEvent(event: ChannelEvent): void {
    if (event.kind === 'barrier') {
      const ahead = this.recordsWritten - this.recordsConsumed;
      if (ahead > this.maxRecordsAheadOfBarrier) this.maxRecordsAheadOfBarrier = ahead;
      if (this.batchLimit !== Infinity && this.recordsConsumed >= this.oversizedUpTo) {
        if (ahead > this.maxRecordsAheadOfDebloatedBarrier) this.maxRecordsAheadOfDebloatedBarrier = ahead;
        this.debloatedBarriers++;
      }
    }
    if (this.backlog.length === 0) this.plane.sendEvent(this.id, event);
    else this.backlog.push({ event });
  }

  onCredit(credits: number, consumed?: number): void {
    const had = this.credits;
    this.credits += credits;
    this.credited = true;
    if (consumed !== undefined) this.recordsConsumed = consumed;
    if (this.backlog.length === 0) {
      // A source waiting for every channel to take a batch (StreamTask.runSource) resumes.
      if (had === 0 && this.credits > 0) this.onWritable();
      return;
    }
    while (this.backlog.length > 0) {
      const next = this.backlog[0]!;
      if ('event' in next) {
        this.plane.sendEvent(this.id, next.event);
      } else {
        if (this.credits === 0) return;
        this.credits--;
        this.batchesSent++;
        this.plane.sendBatch(this.id, next.batch[0], next.batch[1], next.batch[2], next.batch[3]);
      }
      this.backlog.shift();
    }
    this.onWritable();
  }

  onBatchSize(records: number): void {
    // Batches already made may be larger than the new size until the receiver processed them.
    if (records < this.batchLimit) this.oversizedUpTo = this.recordsWritten;
    this.batchLimit = records;
  }
}
