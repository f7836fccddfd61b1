/**
 * A task's mailbox. Threading model: a task is an actor; everything that touches its operators
 * (input batches, watermarks, barriers, timers, checkpoint triggers, cancellation) runs on its loop,
 * one thing at a time. Processing input is the loop's default action; everything else arrives as a
 * mail, which runs before the next input. Several tasks share a worker thread's event loop, so the
 * loop yields to the event loop between steps.
 *
 * Lifecycle: open (mails run) -> closed (new mails are rejected; queued mails are dropped).
 */
export interface Mail {
  /** What the mail is for, for debugging and error messages. */
  description: string;
  run(): void | Promise<void>;
}

export class Mailbox {
  private readonly mails: Mail[] = [];
  private closed = false;

  constructor(private readonly onPut: () => void) {}

  put(mail: Mail): void {
    if (this.closed) return;
    this.mails.push(mail);
    this.onPut();
  }

  take(): Mail | undefined {
    return this.mails.shift();
  }

  get isEmpty(): boolean {
    return this.mails.length === 0;
  }

  close(): void {
    this.closed = true;
    this.mails.length = 0;
  }
}

/** A wake-up call: `wait()` resolves at the next `notify()` (or at once if one came since the last wait). */
export class Signal {
  private resolve: (() => void) | undefined;
  private promise: Promise<void> | undefined;
  private pending = false;

  notify(): void {
    if (this.resolve) {
      const r = this.resolve;
      this.resolve = undefined;
      this.promise = undefined;
      r();
    } else this.pending = true;
  }

  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    if (!this.promise) this.promise = new Promise<void>((r) => (this.resolve = r));
    return this.promise;
  }
}
