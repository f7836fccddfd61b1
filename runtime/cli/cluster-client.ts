/**
 * How the `weir` command finds and talks to a running standalone cluster: the cluster directory
 * (`--dir`, else `$WEIR_HOME/cluster`, else `~/.weir/cluster`) holds `cluster.json` (pid, REST URL),
 * `cluster.pid`, `cluster.log`, and `token` (mode 0600) when the cluster needs one.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WeirError } from '../errors.ts';
import { weirHome } from '../weir-home.ts';

export interface ClusterInfo {
  pid: number;
  url: string;
  host: string;
  port: number;
  startedAt: number;
  taskManagers: number;
  slotsPerTaskManager: number;
}

export function clusterDir(flag?: string): string {
  return flag ? path.resolve(flag) : path.join(weirHome(), 'cluster');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The cluster running from `dir`, or undefined (no cluster.json, or its process is gone). */
export function runningCluster(dir: string): ClusterInfo | undefined {
  const file = path.join(dir, 'cluster.json');
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo;
    return isAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

export function clusterToken(dir: string): string | undefined {
  if (process.env.WEIR_TOKEN) return process.env.WEIR_TOKEN;
  const file = path.join(dir, 'token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export class ClusterRequestError extends WeirError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message, { domain: 'user' });
  }
}

export class RestClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  async request<T>(method: string, p: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(new URL(p, this.baseUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new WeirError(`the cluster at ${this.baseUrl} does not answer (${(e as Error).message}); is it running? (weir cluster start)`, { domain: 'user' });
    }
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const value = type.includes('json') && text ? (JSON.parse(text) as unknown) : text;
    if (!res.ok) {
      const errors = (value as { errors?: string[] }).errors;
      throw new ClusterRequestError(res.status, errors?.join('; ') ?? `${res.status} ${res.statusText}`);
    }
    return value as T;
  }
  get<T>(p: string): Promise<T> {
    return this.request<T>('GET', p);
  }
  post<T>(p: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', p, body);
  }
}

/** A client for the cluster running from `dir`; fails with what to do when none runs. */
export function connect(dirFlag?: string): { client: RestClient; info: ClusterInfo; dir: string } {
  const dir = clusterDir(dirFlag);
  const info = runningCluster(dir);
  if (!info) throw new WeirError(`no cluster is running from ${dir}; start one with: weir cluster start${dirFlag ? ` --dir ${dirFlag}` : ''}`, { domain: 'user' });
  return { client: new RestClient(info.url, clusterToken(dir)), info, dir };
}
