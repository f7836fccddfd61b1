import { mkdtempSync, rmSync, cpSync, chmodSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TESTDATA = process.env.PAIMON_TESTDATA ?? path.resolve(import.meta.dirname, '../../fixtures/paimon-testdata');

export function tempDir(prefix = 'weir-lake-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function makeWritable(p: string): void {
  chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
  if (statSync(p).isDirectory()) for (const c of readdirSync(p)) makeWritable(path.join(p, c));
}

/** Copies a test table into a temp warehouse (the shared copies are read-only). */
export function copyTestTable(name: string, warehouse: string): string {
  const to = path.join(warehouse, `${name}.db`, name);
  cpSync(path.join(TESTDATA, `${name}.db`, name), to, { recursive: true });
  makeWritable(path.join(warehouse, `${name}.db`));
  return to;
}

export const json = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `b:${Buffer.from(v).toString('hex')}` : v instanceof Map ? [...v.entries()] : v));

export const sortedText = (rows: unknown[][]): string[] => rows.map(json).sort();

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
