/**
 * Combines the watermarks of a task's input channels (Flink's StatusWatermarkValve): the task's
 * watermark is the minimum over channels that are neither idle nor ended, and never goes back.
 * When every channel is idle the task is idle and says so downstream.
 */
export interface ValveOutput {
  /** The combined watermark advanced to this value. */
  watermark?: number;
  /** The combined idle status changed to this value. */
  idle?: boolean;
}

export class WatermarkValve {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private readonly ended: boolean[];
  current = -Infinity;
  private allIdle = false;

  constructor(channels: number) {
    this.watermarks = new Array<number>(channels).fill(-Infinity);
    this.idle = new Array<boolean>(channels).fill(false);
    this.ended = new Array<boolean>(channels).fill(false);
  }

  onWatermark(channel: number, time: number): ValveOutput {
    if (time > this.watermarks[channel]!) this.watermarks[channel] = time;
    // A watermark means the channel is active again.
    this.idle[channel] = false;
    return this.recompute();
  }

  onIdle(channel: number, idle: boolean): ValveOutput {
    this.idle[channel] = idle;
    return this.recompute();
  }

  onEnd(channel: number): ValveOutput {
    this.ended[channel] = true;
    return this.recompute();
  }

  private recompute(): ValveOutput {
    // The watermark is the minimum over live channels that are not idle; an ended channel sends
    // nothing more, so it holds nothing back. With no such channel (all idle or ended), it moves,
    // as in Flink, to the largest watermark any channel reached (an ended one counts as +Infinity),
    // so that progress is not stuck behind a silent input.
    let min = Infinity;
    let active = 0;
    let live = 0;
    let max = -Infinity;
    for (let i = 0; i < this.watermarks.length; i++) {
      const wm = this.ended[i] ? Infinity : this.watermarks[i]!;
      if (wm > max) max = wm;
      if (this.ended[i]) continue;
      live++;
      if (this.idle[i]) continue;
      active++;
      if (wm < min) min = wm;
    }
    const out: ValveOutput = {};
    const nowIdle = live > 0 && active === 0;
    if (nowIdle !== this.allIdle) {
      this.allIdle = nowIdle;
      out.idle = nowIdle;
    }
    const candidate = active > 0 ? min : max;
    if (candidate > this.current) {
      this.current = candidate;
      out.watermark = candidate;
    }
    return out;
  }


}
