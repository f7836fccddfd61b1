/**
 * Notices a task manager that is dead or stuck, whatever state its threads are in. A worker thread's
 * 'exit' event is not enough: a thread that cannot finish terminating (one waiting to join its LMDB
 * writer thread, say) never fires it. Every task manager sends a heartbeat from its event loop every
 * `intervalMs`; one that has sent none for `timeoutMs` (or none at all within `startupTimeoutMs`
 * of being started) is reported lost once. A frozen event loop counts as stuck: the task manager's
 * control calls and checkpoints would wait on it just the same.
 *
 * The job manager's own stalls are not blamed on task managers: when this monitor's timer itself
 * fires late by more than half the timeout (the job manager's thread was blocked), every deadline
 * starts again from now.
 */
import { ConfigError } from '../errors.ts';

export interface HeartbeatSettings {
  /** How often a task manager sends a heartbeat (default 1000 ms). */
  intervalMs: number;
  /** Silence after which a running task manager counts as dead or stuck (default 10 s: long enough for a major GC of a full heap on a loaded machine). */
  timeoutMs: number;
  /** How long a starting task manager may take to send its first heartbeat (default 60 s: loading modules on a busy machine). */
  startupTimeoutMs: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatSettings = { intervalMs: 1000, timeoutMs: 10_000, startupTimeoutMs: 60_000 };

export function heartbeatSettings(given: Partial<HeartbeatSettings> = {}): HeartbeatSettings {
  const s = { ...DEFAULT_HEARTBEAT, ...given };
  for (const [k, v] of Object.entries(s)) {
    if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(`heartbeat.${k}`, `must be a number > 0, got ${v}`);
  }
  if (s.timeoutMs <= s.intervalMs) throw new ConfigError('heartbeat.timeoutMs', `(${s.timeoutMs}) must be larger than heartbeat.intervalMs (${s.intervalMs})`);
  return s;
}

export interface MonitorClock {
  now(): number;
  every(ms: number, fn: () => void): { cancel(): void };
}

const realClock: MonitorClock = {
  now: () => performance.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

interface Watched {
  startedAt: number;
  lastBeat: number | undefined;
  lost: boolean;
}

export class HeartbeatMonitor {
  private readonly watched = new Map<number, Watched>();
  private timer: { cancel(): void } | undefined;
  private lastCheck: number;

  constructor(
    private readonly settings: HeartbeatSettings,
    /** Called once per lost task manager, with how long it was silent and why that counts. */
    private readonly onLost: (index: number, message: string) => void,
    private readonly clock: MonitorClock = realClock,
  ) {
    this.lastCheck = clock.now();
  }

  watch(index: number): void {
    this.watched.set(index, { startedAt: this.clock.now(), lastBeat: undefined, lost: false });
  }

  unwatch(index: number): void {
    this.watched.delete(index);
  }

  beat(index: number): void {
    const w = this.watched.get(index);
    if (w) w.lastBeat = this.clock.now();
  }

  start(): void {
    this.lastCheck = this.clock.now();
    this.timer ??= this.clock.every(Math.max(1, Math.floor(this.settings.intervalMs / 2)), () => this.check());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Looks for silent task managers (called by the timer; public for tests). */
  check(): void {
    const now = this.clock.now();
    const late = now - this.lastCheck;
    this.lastCheck = now;
    if (late > this.settings.timeoutMs / 2) {
      // This thread was blocked: heartbeats may be waiting in its queue. Start the deadlines again.
      for (const w of this.watched.values()) {
        if (w.lastBeat !== undefined) w.lastBeat = now;
        else w.startedAt = now;
      }
      return;
    }
    for (const [index, w] of this.watched) {
      if (w.lost) continue;
      if (w.lastBeat === undefined) {
        if (now - w.startedAt > this.settings.startupTimeoutMs) {
          w.lost = true;
          this.onLost(index, `task manager ${index} sent no heartbeat within ${this.settings.startupTimeoutMs} ms of starting (its thread is stuck or could not start)`);
        }
      } else if (now - w.lastBeat > this.settings.timeoutMs) {
        w.lost = true;
        this.onLost(
          index,
          `task manager ${index} sent no heartbeat for ${Math.round(now - w.lastBeat)} ms (timeout ${this.settings.timeoutMs} ms): its thread is dead or stuck; ` +
            'a task blocking its thread that long (a long synchronous user function, a stalled state write) counts as stuck; raise heartbeat.timeoutMs if that is expected',
        );
      }
    }
  }
}
