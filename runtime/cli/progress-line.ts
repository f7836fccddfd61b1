/**
 * The line `weir run` shows while a job runs: elapsed time, records in and out per second, the
 * watermark, the last checkpoint and its duration, back-pressure, restarts. Rewritten in place on a
 * terminal, printed every few seconds otherwise, and not at all under CI=true.
 */
export interface Progress {
  elapsedMs: number;
  inPerSecond: number;
  outPerSecond: number;
  /** Lowest output watermark, ms since the epoch; undefined before the first. */
  watermark: number | undefined;
  lastCheckpoint: { id: number; durationMs: number | undefined; savepoint: boolean } | undefined;
  /** Highest back-pressure level of any vertex. */
  backPressure: 'ok' | 'low' | 'high';
  restarts: number;
}

export function rate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k/s` : `${n.toFixed(0)}/s`;
}

export function formatProgress(p: Progress): string {
  const cp = p.lastCheckpoint;
  return [
    `${(p.elapsedMs / 1000).toFixed(0)}s`,
    `in ${rate(p.inPerSecond)}`,
    `out ${rate(p.outPerSecond)}`,
    `watermark ${p.watermark === undefined ? '-' : new Date(p.watermark).toISOString().slice(0, 19).replace('T', ' ')}`,
    `checkpoint ${cp ? `${cp.savepoint ? 'sp ' : ''}#${cp.id} ${cp.durationMs === undefined ? '' : `${Math.round(cp.durationMs)} ms`}`.trim() : '-'}`,
    `back-pressure ${p.backPressure}`,
    p.restarts > 0 ? `restarts ${p.restarts}` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

/** Shows progress lines as the terminal allows; `stop()` ends the line. */
export function progressReporter(next: () => Promise<Progress | undefined>): { stop(): void } {
  if (process.env.CI === 'true' || process.env.CI === '1') return { stop() {} };
  const tty = process.stdout.isTTY === true;
  // WEIR_PROGRESS_MS: another interval (tests).
  const every = Number(process.env.WEIR_PROGRESS_MS) || (tty ? 500 : 5000);
  let shown = false;
  const timer = setInterval(
    () => {
      void next().then(
        (p) => {
          if (!p) return;
          shown = true;
          process.stderr.write(tty ? `\r${formatProgress(p).padEnd(110)}` : `${formatProgress(p)}\n`);
        },
        () => {},
      );
    },
    every,
  );
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (tty && shown) process.stderr.write('\n');
    },
  };
}
