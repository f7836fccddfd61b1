/**
 * Loopback StarRocks test server (a standalone program): the HTTP API that loaders use, as StarRocks
 * documents it, on two loopback ports, a frontend (FE) and a backend (BE):
 *
 *   FE  PUT  /api/{db}/{table}/_stream_load              307 -> BE (Stream Load)
 *   FE  POST /api/transaction/{begin,prepare,commit,rollback}, PUT /api/transaction/load
 *                                                          307 -> BE (Stream Load transaction interface)
 *   FE  GET  /api/{db}/get_load_state?label=L              {"Status":"OK","state":"PREPARED",...}
 *   BE  the same load and transaction paths, answered
 *   BE  GET  /api/_load_error_log?file=F                   the rejected rows of a failed load (ErrorURL)
 *
 * Every /api request needs HTTP Basic auth with the configured user and password (401 otherwise), on
 * the FE and on the BE, so a client that drops the Authorization header when it follows the 307 fails.
 * Headers: label, db, table, format (csv/json), columns, column_separator, row_delimiter,
 * strip_outer_array, partial_update, max_filter_ratio, timeout, idle_transaction_timeout,
 * prepared_timeout. The state machine is state.ts (journal in the state dir, replayed on start).
 *
 * TEST-ONLY endpoints (not StarRocks API; on the FE port, under /__test/, no auth):
 *   POST /__test/tables        {db, table, columns:[{name,type}], primaryKey:[...]}   create a table
 *   GET  /__test/tables/{db}/{table}[?offset=N]            {rows:[...],total} (Primary Key tables sorted by key,
 *                                                          Duplicate Key tables in commit order from N)
 *   GET  /__test/labels                                    the label log: every begin/load/prepare/commit/
 *                                                          publish/rollback/abort/stream_load with its result
 *   GET  /__test/transactions                              every label's latest transaction and state
 *   POST /__test/faults        {faults:[Fault...]}         failure answers on demand (below); DELETE clears
 *   POST /__test/clock         {advanceMs}                 moves the server's clock (timeouts without sleeping)
 *   POST /__test/publish                                   publishes COMMITTED transactions now
 *   GET  /__test/health
 *
 * A Fault applies to the next `count` (default 1) requests of `op` (begin, load, prepare, commit,
 * rollback, stream_load, get_load_state; optional `label` substring), on the node that answers the op:
 *   fail          answer Status FAILED (begin/load/prepare: the transaction is rolled back, as documented)
 *   http500       answer 500 without doing anything
 *   drop          close the connection without doing anything
 *   drop-after    do it, then close the connection without answering (the answer is lost)
 *   delay         wait `ms` before doing it (a client timeout)
 *   crash-after   do it (journaled), then exit the process without answering (a crash between steps)
 *   crash         exit the process without doing anything
 *   publish-timeout  commit only: COMMITTED now, answer FAILED "publish timeout", VISIBLE a moment later
 *
 * Start: node --import tsx test/services/starrocks/server.ts --state-dir DIR [--user U] [--password P]
 * [--fe-port N] [--be-port N]. Prints one JSON line {"fePort":..,"bePort":..} when it listens. Ports
 * are kept in DIR/ports.json, so a restart with the same DIR listens where clients expect it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StarRocksState, type Answer, type LoadParams, type TableDef } from './state.ts';

export type FaultKind = 'fail' | 'http500' | 'drop' | 'drop-after' | 'delay' | 'crash-after' | 'crash' | 'publish-timeout';
export type FaultOp = 'begin' | 'load' | 'prepare' | 'commit' | 'rollback' | 'stream_load' | 'get_load_state';
export interface Fault {
  op: FaultOp;
  kind: FaultKind;
  count?: number;
  label?: string;
  ms?: number;
}

interface Options {
  stateDir: string;
  user: string;
  password: string;
  fePort: number;
  bePort: number;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const stateDir = get('state-dir');
  if (!stateDir) throw new Error('--state-dir is required');
  let ports = { fePort: Number(get('fe-port') ?? 0), bePort: Number(get('be-port') ?? 0) };
  const saved = path.join(stateDir, 'ports.json');
  if (existsSync(saved) && ports.fePort === 0) ports = JSON.parse(readFileSync(saved, 'utf8')) as typeof ports;
  return { stateDir, user: get('user') ?? 'root', password: get('password') ?? '', ...ports };
}

class TestServer {
  private clockOffset = 0;
  readonly state: StarRocksState;
  private faults: (Fault & { left: number })[] = [];
  private fe!: Server;
  private be!: Server;
  private bePort = 0;

  constructor(private readonly options: Options) {
    this.state = new StarRocksState(path.join(options.stateDir, 'data'), () => Date.now() + this.clockOffset);
  }

  async listen(): Promise<{ fePort: number; bePort: number }> {
    this.be = createServer((req, res) => void this.handle(req, res, 'be'));
    this.fe = createServer((req, res) => void this.handle(req, res, 'fe'));
    this.bePort = await listenOn(this.be, this.options.bePort);
    const fePort = await listenOn(this.fe, this.options.fePort);
    const ports = { fePort, bePort: this.bePort };
    writeFileSync(path.join(this.options.stateDir, 'ports.json'), JSON.stringify(ports));
    setInterval(() => {
      this.state.tick();
      this.state.publishCommitted();
    }, 50).unref();
    return ports;
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization;
    if (!h?.startsWith('Basic ')) return false;
    const expected = Buffer.from(`${this.options.user}:${this.options.password}`).toString('base64');
    return h.slice(6) === expected;
  }

  private takeFault(op: FaultOp, label: string | undefined): Fault | undefined {
    const i = this.faults.findIndex((f) => f.op === op && (f.label === undefined || (label ?? '').includes(f.label)));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.left <= 0) this.faults.splice(i, 1);
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, node: 'fe' | 'be'): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = await readBody(req);
      if (node === 'fe' && url.pathname.startsWith('/__test/')) return this.testEndpoint(req.method ?? 'GET', url, body, res);
      if (!this.authorized(req)) return send(res, 401, { Status: 'FAILED', Message: 'Access denied: Basic authentication with a valid user and password is required' });
      const op = opOf(req.method ?? 'GET', url.pathname);
      if (!op) return send(res, 404, { Status: 'FAILED', Message: `no such API: ${req.method} ${url.pathname}` });
      if (op.kind === 'error_log') {
        const rows = this.state.errorLogs.get(url.searchParams.get('file') ?? '');
        res.writeHead(rows ? 200 : 404, { 'content-type': 'text/plain' }).end(rows ? rows.join('\n') + '\n' : 'no such error log\n');
        return;
      }
      // The FE sends loads and transactions to a BE; it answers label states itself.
      if (node === 'fe' && op.kind !== 'get_load_state') {
        res.writeHead(307, { location: `http://127.0.0.1:${this.bePort}${url.pathname}${url.search}` }).end();
        return;
      }
      const label = op.kind === 'get_load_state' ? (url.searchParams.get('label') ?? undefined) : header(req, 'label');
      const fault = this.takeFault(op.kind, label);
      if (fault?.kind === 'crash') process.exit(17);
      if (fault?.kind === 'drop') return void req.socket.destroy();
      if (fault?.kind === 'http500') return send(res, 500, { Status: 'FAILED', Message: 'injected internal server error' });
      if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms ?? 1000));
      const answer = this.answer({ ...op, kind: op.kind }, req, body, label, fault);
      if (fault?.kind === 'crash-after') process.exit(17);
      if (fault?.kind === 'drop-after') return void req.socket.destroy();
      send(res, 200, answer);
    } catch (e) {
      send(res, 500, { Status: 'FAILED', Message: `test server error: ${(e as Error).message}` });
    }
  }

  private answer(op: { kind: FaultOp; db?: string; table?: string }, req: IncomingMessage, body: string, label: string | undefined, fault: Fault | undefined): Answer {
    const db = op.db ?? header(req, 'db');
    if (!db) return { Status: 'FAILED', Message: 'the db header is missing' };
    if (op.kind === 'get_load_state') {
      if (!label) return { Status: 'FAILED', Message: 'the label parameter is missing' };
      return { Status: 'OK', Message: 'Success', Label: label, state: this.state.labelState(db, label) };
    }
    if (!label && op.kind !== 'stream_load') return { Status: 'FAILED', Message: 'the label header is missing' };
    const table = op.table ?? header(req, 'table');
    if (fault?.kind === 'fail') {
      if (label && (op.kind === 'load' || op.kind === 'prepare')) this.state.rollback(db, label);
      return { Status: op.kind === 'stream_load' ? 'Fail' : 'FAILED', Message: `injected failure of ${op.kind}`, Label: label ?? '' };
    }
    const seconds = (name: string): number | undefined => {
      const v = header(req, name);
      return v === undefined ? undefined : Number(v);
    };
    switch (op.kind) {
      case 'begin':
        if (!table) return { Status: 'FAILED', Message: 'the table header is missing' };
        return this.state.begin(db, table, label!, { timeoutS: seconds('timeout'), idleTimeoutS: seconds('idle_transaction_timeout') });
      case 'load':
        if (!table) return { Status: 'FAILED', Message: 'the table header is missing' };
        return this.withErrorUrl(this.state.load(db, table, label!, body, loadParams(req)));
      case 'prepare':
        return this.state.prepare(db, label!, { preparedTimeoutS: seconds('prepared_timeout') });
      case 'commit':
        return this.state.commit(db, label!, fault?.kind !== 'publish-timeout');
      case 'rollback':
        return this.state.rollback(db, label!);
      case 'stream_load': {
        const l = label ?? `auto_${Date.now()}_${Math.random().toString(36).slice(2)}`;
        return this.withErrorUrl(this.state.streamLoad(db, op.table!, l, body, loadParams(req), { timeoutS: seconds('timeout') }));
      }
    }
  }

  private withErrorUrl(a: Answer): Answer {
    if (typeof a.ErrorURL === 'string') a.ErrorURL = `http://127.0.0.1:${this.bePort}/api/_load_error_log?file=${encodeURIComponent(a.ErrorURL)}`;
    return a;
  }

  private testEndpoint(method: string, url: URL, body: string, res: ServerResponse): void {
    const p = url.pathname;
    try {
      if (p === '/__test/health') return send(res, 200, { ok: true });
      if (p === '/__test/tables' && method === 'POST') {
        const def = JSON.parse(body) as TableDef;
        this.state.createTable({ ...def, primaryKey: def.primaryKey ?? [] });
        return send(res, 200, { ok: true });
      }
      const t = /^\/__test\/tables\/([^/]+)\/([^/]+)$/.exec(p);
      if (t && method === 'GET') {
        const rows = this.state.tableRows(decodeURIComponent(t[1]!), decodeURIComponent(t[2]!));
        // ?offset=N: a Duplicate Key table's rows from the Nth on (rows are appended in commit order)
        return send(res, 200, { rows: rows.slice(Number(url.searchParams.get('offset') ?? 0)), total: rows.length });
      }
      if (p === '/__test/labels') return send(res, 200, { events: this.state.labelLog() });
      if (p === '/__test/transactions') return send(res, 200, { transactions: this.state.transactions() });
      if (p === '/__test/faults' && method === 'POST') {
        const { faults } = JSON.parse(body) as { faults: Fault[] };
        this.faults.push(...faults.map((f) => ({ ...f, left: f.count ?? 1 })));
        return send(res, 200, { ok: true, pending: this.faults.length });
      }
      if (p === '/__test/faults' && method === 'GET') return send(res, 200, { faults: this.faults });
      if (p === '/__test/faults' && method === 'DELETE') {
        this.faults = [];
        return send(res, 200, { ok: true });
      }
      if (p === '/__test/clock' && method === 'POST') {
        this.clockOffset += (JSON.parse(body) as { advanceMs: number }).advanceMs;
        this.state.tick();
        return send(res, 200, { ok: true, now: this.state.clock() });
      }
      if (p === '/__test/publish' && method === 'POST') {
        this.state.publishCommitted();
        return send(res, 200, { ok: true });
      }
      send(res, 404, { error: `no test endpoint ${method} ${p}` });
    } catch (e) {
      send(res, 400, { error: (e as Error).message });
    }
  }
}

function opOf(method: string, pathname: string): { kind: FaultOp | 'error_log'; db?: string; table?: string } | undefined {
  const txn = /^\/api\/transaction\/(begin|load|prepare|commit|rollback)$/.exec(pathname);
  if (txn) {
    const kind = txn[1] as FaultOp;
    return method === (kind === 'load' ? 'PUT' : 'POST') ? { kind } : undefined;
  }
  const sl = /^\/api\/([^/]+)\/([^/]+)\/_stream_load$/.exec(pathname);
  if (sl && method === 'PUT') return { kind: 'stream_load', db: decodeURIComponent(sl[1]!), table: decodeURIComponent(sl[2]!) };
  const st = /^\/api\/([^/]+)\/get_load_state$/.exec(pathname);
  if (st && method === 'GET') return { kind: 'get_load_state', db: decodeURIComponent(st[1]!) };
  if (pathname === '/api/_load_error_log' && method === 'GET') return { kind: 'error_log' };
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function loadParams(req: IncomingMessage): LoadParams {
  const p: LoadParams = { format: (header(req, 'format') ?? 'csv').toLowerCase() === 'json' ? 'json' : 'csv' };
  const set = <K extends keyof LoadParams>(k: K, v: LoadParams[K] | undefined): void => {
    if (v !== undefined) p[k] = v;
  };
  set('columns', header(req, 'columns'));
  set('columnSeparator', header(req, 'column_separator'));
  set('rowDelimiter', header(req, 'row_delimiter'));
  const strip = header(req, 'strip_outer_array');
  if (strip !== undefined) p.stripOuterArray = strip.toLowerCase() === 'true';
  const partial = header(req, 'partial_update');
  if (partial !== undefined) p.partialUpdate = partial.toLowerCase() === 'true';
  const ratio = header(req, 'max_filter_ratio');
  if (ratio !== undefined) p.maxFilterRatio = Number(ratio);
  return p;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

const options = parseArgs(process.argv.slice(2));
mkdirSync(options.stateDir, { recursive: true });
const server = new TestServer(options);
const ports = await server.listen();
process.stdout.write(JSON.stringify(ports) + '\n');
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
