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
    let min = Infinity;
    let active = 0;
    for (let i = 0; i < this.watermarks.length; i++) {
      if (this.ended[i] || this.idle[i]) continue;
      active++;
      if (this.watermarks[i]! < min) min = this.watermarks[i]!;
    }
    const out: ValveOutput = {};
    const liveChannels = this.ended.filter((e) => !e).length;
    const nowIdle = active === 0 && liveChannels > 0;
    if (nowIdle !== this.allIdle) {
      this.allIdle = nowIdle;
      out.idle = nowIdle;
    }
    if (active > 0 && min > this.current) {
      this.current = min;
      out.watermark = min;
    }
    return out;
  }
}
