/** Binlog positions: order across files (binlog.000009 < binlog.000010) and within one. */
import type { BinlogPosition } from './types.ts';

function fileNumber(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : Number.NaN;
}

/** Negative if a is before b, 0 if equal, positive if after. */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) {
    const fa = fileNumber(a.file);
    const fb = fileNumber(b.file);
    if (!Number.isNaN(fa) && !Number.isNaN(fb)) return fa - fb;
    return a.file < b.file ? -1 : 1;
  }
  return a.pos - b.pos;
}

export function minPosition(positions: readonly BinlogPosition[]): BinlogPosition | null {
  let min: BinlogPosition | null = null;
  for (const p of positions) if (!min || comparePositions(p, min) < 0) min = p;
  return min;
}

export function formatPosition(p: BinlogPosition): string {
  return `${p.file}:${p.pos}`;
}
