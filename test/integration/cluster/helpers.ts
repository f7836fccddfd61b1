/** Driving the `weir` command and a cluster's REST API from tests. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const repo = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repo, 'runtime/cli/bin.mjs');

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs `weir <args>`; resolves with its output and exit code (also when it fails). */
export async function weir(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, CI: 'true', ...env }, maxBuffer: 16 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

/** Like weir(), but fails the test (showing the output) unless the command succeeded. */
export async function weirOk(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await weir(args, env);
  if (r.code !== 0) throw new Error(`weir ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export function clusterInfo(dir: string): { pid: number; url: string; port: number } {
  return JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as { pid: number; url: string; port: number };
}

export async function rest<T>(dir: string, p: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(new URL(p, clusterInfo(dir).url), init);
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface JobJson {
  jid: string;
  name: string;
  state: string;
  restarts: number;
  params: unknown;
  vertices: { id: number; name: string; metrics: Record<string, number | string | null> }[];
}
