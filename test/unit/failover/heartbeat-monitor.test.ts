/** The heartbeat monitor, driven by a manual clock. */
import { describe, expect, it } from 'vitest';
import { HeartbeatMonitor, heartbeatSettings, type MonitorClock } from '../../../runtime/cluster/heartbeat-monitor.ts';
import { ConfigError } from '../../../runtime/errors.ts';

class ManualClock implements MonitorClock {
  t = 0;
  private fns: (() => void)[] = [];
  now(): number {
    return this.t;
  }
  every(_ms: number, fn: () => void): { cancel(): void } {
    this.fns.push(fn);
    return { cancel: () => (this.fns = this.fns.filter((f) => f !== fn)) };
  }
  /** Advances in ticks of `step`, running the timers at each. */
  advance(ms: number, step = 100, beforeTick?: () => void): void {
    for (let d = 0; d < ms; d += step) {
      this.t += step;
      beforeTick?.();
      for (const f of this.fns) f();
    }
  }
}

const settings = heartbeatSettings({ intervalMs: 200, timeoutMs: 1000, startupTimeoutMs: 5000 });

describe('heartbeat monitor', () => {
  it('reports a task manager that stops beating, once, and not one that keeps beating', () => {
    const clock = new ManualClock();
    const lost: [number, string][] = [];
    const m = new HeartbeatMonitor(settings, (i, msg) => lost.push([i, msg]), clock);
    m.watch(0);
    m.watch(1);
    m.start();
    m.beat(0);
    m.beat(1);
    clock.advance(3000, 100, () => m.beat(0)); // 1 goes silent
    expect(lost.map(([i]) => i)).toEqual([1]);
    expect(lost[0]![1]).toMatch(/task manager 1 sent no heartbeat for \d+ ms \(timeout 1000 ms\)/);
  });

  it('gives a starting task manager the startup timeout for its first heartbeat', () => {
    const clock = new ManualClock();
    const lost: number[] = [];
    const m = new HeartbeatMonitor(settings, (i) => lost.push(i), clock);
    m.watch(0);
    m.start();
    clock.advance(4000);
    expect(lost).toEqual([]);
    clock.advance(1500);
    expect(lost).toEqual([0]);
  });

  it('does not blame task managers when its own thread was blocked', () => {
    const clock = new ManualClock();
    const lost: number[] = [];
    const m = new HeartbeatMonitor(settings, (i) => lost.push(i), clock);
    m.watch(0);
    m.start();
    m.beat(0);
    clock.t += 10_000; // this thread froze for 10 s: the heartbeats sent meanwhile wait in its queue
    m.check();
    expect(lost).toEqual([]);
    m.beat(0);
    clock.advance(500);
    expect(lost).toEqual([]);
  });

  it('stops watching after stop() and unwatch()', () => {
    const clock = new ManualClock();
    const lost: number[] = [];
    const m = new HeartbeatMonitor(settings, (i) => lost.push(i), clock);
    m.watch(0);
    m.watch(1);
    m.start();
    m.beat(0);
    m.beat(1);
    m.unwatch(1);
    m.stop();
    clock.advance(5000);
    expect(lost).toEqual([]);
  });

  it('rejects settings that cannot work', () => {
    expect(() => heartbeatSettings({ intervalMs: 0 })).toThrow(ConfigError);
    expect(() => heartbeatSettings({ intervalMs: 1000, timeoutMs: 500 })).toThrow(/heartbeat.timeoutMs/);
  });
});
