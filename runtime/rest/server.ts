/**
 * The REST API and dashboard of a standalone cluster, or of one in-process job (`weir run
 * --dashboard`): docs/cluster.md lists the endpoints. JSON in
 * and out, named like Flink's REST API where an endpoint means the same; the dashboard is one
 * static page (dashboard-page.ts) that polls this API. Access rules: rest-auth.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, WeirError } from '../errors.ts';
import { JobNotFoundError, type JobService, type SubmitRequest } from '../cluster/cluster-job.ts';
import { NotEnoughSlotsError } from '../cluster/slot-pool.ts';
import { checkBinding, refusal, tokenMatches } from './rest-auth.ts';
import { checkpoints, exceptions, jobDetails, jobSummary, vertexMetrics } from './job-views.ts';
import { DASHBOARD_PAGE } from './dashboard-page.ts';

export interface RestServerOptions {
  host?: string;
  port?: number;
  token?: string;
  /** Called by DELETE /cluster (after the answer is sent). */
  onShutdown?: () => void;
}

export interface RestServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 1 << 20;

async function body(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body over 1 MiB');
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new HttpError(400, `the body is not a JSON object: ${(e as Error).message}`);
  }
}

function send(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

function optionalString(b: Record<string, unknown>, k: string): string | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `${k} must be a string`);
  return v;
}

function optionalNumber(b: Record<string, unknown>, k: string): number | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new HttpError(400, `${k} must be a number >= 0`);
  return v;
}

function submitRequest(b: Record<string, unknown>): SubmitRequest {
  const module = optionalString(b, 'module');
  if (!module) throw new HttpError(400, 'module (the path of the job module on the cluster machine) is required');
  return {
    module,
    params: b.params as SubmitRequest['params'],
    parallelism: optionalNumber(b, 'parallelism'),
    fromSavepoint: optionalString(b, 'fromSavepoint'),
    allowNonRestoredState: b.allowNonRestoredState === true,
    checkpointIntervalMs: optionalNumber(b, 'checkpointInterval'),
    waitForSlots: b.waitForSlots === true,
  };
}

export async function startRestServer(cluster: JobService, options: RestServerOptions = {}): Promise<RestServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token;
  checkBinding(host, token);

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    // The dashboard: a token in the query (once) becomes a cookie the page's calls carry.
    if (parts.length === 0 && method === 'GET' && token && url.searchParams.has('token')) {
      if (!tokenMatches(url.searchParams.get('token') ?? undefined, token)) throw new HttpError(401, 'wrong token');
      res.writeHead(303, { location: '/', 'set-cookie': `weir_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` });
      res.end();
      return;
    }
    const refused = refusal(req, token);
    if (refused) throw new HttpError(refused.status, refused.error);
    if (parts.length === 0 && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" });
      res.end(DASHBOARD_PAGE);
      return;
    }
    const [a, b, c, d, e] = parts;
    if (a === 'overview' && method === 'GET') {
      const jobs = cluster.list();
      const count = (s: string): number => jobs.filter((j) => j.status === s).length;
      const tms = cluster.taskManagers();
      return send(res, 200, {
        taskmanagers: tms.filter((t) => t.alive).length,
        'slots-total': cluster.totalSlots,
        'slots-available': cluster.freeSlots,
        'jobs-running': count('running'),
        'jobs-waiting': count('waiting'),
        'jobs-finished': count('finished') + count('stopped'),
        'jobs-cancelled': count('canceled'),
        'jobs-failed': count('failed'),
        'start-time': cluster.startedAt,
      });
    }
    if (a === 'taskmanagers') {
      if (!b && method === 'GET') return send(res, 200, { taskmanagers: cluster.taskManagers() });
      if (b && c === 'kill' && method === 'POST') {
        cluster.killTaskManager(Number(b));
        return send(res, 202, {});
      }
    }
    if (a === 'cluster' && !b && method === 'DELETE') {
      send(res, 202, {});
      res.on('finish', () => options.onShutdown?.());
      return;
    }
    if (a !== 'jobs') throw new HttpError(404, `no endpoint ${method} ${url.pathname}; see docs/cluster.md`);
    if (!b) {
      if (method === 'GET') return send(res, 200, { jobs: cluster.list().map(jobSummary) });
      if (method === 'POST') {
        const job = await cluster.submit(submitRequest(await body(req)));
        return send(res, 200, { jobid: job.id, state: job.status.toUpperCase() });
      }
    }
    if (b && !c) {
      if (method === 'GET') return send(res, 200, jobDetails(cluster, cluster.job(b)));
      if (method === 'PATCH' || method === 'DELETE') {
        await cluster.cancel(b);
        return send(res, 202, {});
      }
    }
    if (b && c === 'cancel' && method === 'POST') {
      await cluster.cancel(b);
      return send(res, 202, {});
    }
    if (b && c === 'checkpoints' && method === 'GET') return send(res, 200, checkpoints(cluster.job(b)));
    if (b && c === 'exceptions' && method === 'GET') return send(res, 200, exceptions(cluster.job(b)));
    if (b && c === 'log' && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(cluster.logOf(b));
      return;
    }
    if (b && c === 'savepoints' && method === 'POST') {
      const q = await body(req);
      const target = optionalString(q, 'target-directory');
      const sp = q['cancel-job'] === true ? await cluster.stop(b, { targetDir: target }) : await cluster.savepoint(b, target);
      return send(res, 200, { status: { id: 'COMPLETED' }, operation: { location: sp.location }, savepoint: sp });
    }
    if (b && c === 'stop' && method === 'POST') {
      const q = await body(req);
      const sp = await cluster.stop(b, { targetDir: optionalString(q, 'targetDirectory'), drain: q.drain === true });
      return send(res, 200, { status: { id: 'COMPLETED' }, operation: { location: sp.location }, savepoint: sp });
    }
    if (b && c === 'vertices' && d && e === 'metrics' && method === 'GET') {
      const m = vertexMetrics(cluster.job(b), Number(d));
      if (!m) throw new HttpError(404, `job ${b} has no vertex ${d}`);
      return send(res, 200, m);
    }
    throw new HttpError(404, `no endpoint ${method} ${url.pathname}; see docs/cluster.md`);
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status =
        err instanceof HttpError ? err.status : err instanceof JobNotFoundError ? 404 : err instanceof NotEnoughSlotsError ? 409 : err instanceof WeirError && err.domain === 'user' ? 400 : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) send(res, status, { errors: [message] });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new ConfigError('--port', `port ${options.port} on ${host} is in use; choose another (0: any free port)`) : e),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${port}/`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
