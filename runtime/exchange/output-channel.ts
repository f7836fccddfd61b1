/**
 * The sending end of one channel, with credit-based flow control: the receiver grants one credit
 * per batch it can hold; a batch is sent only against a credit, otherwise it waits here. The task
 * stops taking input while any of its output channels has a backlog, so a slow consumer slows its
 * producers and memory stays bounded by (credits + one step's output) per channel.
 */
import type { ChannelEvent } from './channel-event.ts';
import type { ChannelSender, DataPlane } from './data-plane.ts';

type Pending = { batch: [unknown[], number[]] } | { event: ChannelEvent };

export class OutputChannel implements ChannelSender {
  private credits = 0;
  private readonly backlog: Pending[] = [];
  /** Largest backlog seen, in batches (a metric, and what the back-pressure test checks). */
  maxBacklog = 0;
  batchesSent = 0;

  constructor(
    readonly id: number,
    private readonly plane: DataPlane,
    /** Called when the backlog drains, so a task waiting on back-pressure resumes. */
    private readonly onWritable: () => void,
  ) {
    plane.registerSender(id, this);
  }

  get hasBacklog(): boolean {
    return this.backlog.length > 0;
  }

  sendBatch(values: unknown[], times: number[]): void {
    if (this.backlog.length === 0 && this.credits > 0) {
      this.credits--;
      this.batchesSent++;
      this.plane.sendBatch(this.id, values, times);
      return;
    }
    this.backlog.push({ batch: [values, times] });
    if (this.backlog.length > this.maxBacklog) this.maxBacklog = this.backlog.length;
  }

  sendEvent(event: ChannelEvent): void {
    if (this.backlog.length === 0) this.plane.sendEvent(this.id, event);
    else this.backlog.push({ event });
  }

  onCredit(credits: number): void {
    this.credits += credits;
    if (this.backlog.length === 0) return;
    while (this.backlog.length > 0) {
      const next = this.backlog[0]!;
      if ('event' in next) {
        this.plane.sendEvent(this.id, next.event);
      } else {
        if (this.credits === 0) return;
        this.credits--;
        this.batchesSent++;
        this.plane.sendBatch(this.id, next.batch[0], next.batch[1]);
      }
      this.backlog.shift();
    }
    this.onWritable();
  }
}
