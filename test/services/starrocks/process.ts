/**
 * Starts the loopback StarRocks test server (server.ts) as a child process with its own state dir,
 * for tests that kill and restart it. `restart()` keeps the state dir, so the ports and everything
 * journaled survive. The test-only endpoints are wrapped as methods.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fault } from './server.ts';
import type { LabelEvent, Row, TableDef } from './state.ts';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
/** The repository, where `--import tsx` resolves. */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface StarRocksTestServerOptions {
  stateDir?: string;
  user?: string;
  password?: string;
}

export class StarRocksTestServer {
  readonly stateDir: string;
  readonly user: string;
  readonly password: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  fePort = 0;
  bePort = 0;

  private constructor(options: StarRocksTestServerOptions) {
    this.stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'weir-starrocks-'));
    this.user = options.user ?? 'root';
    this.password = options.password ?? 'sr-test-secret';
  }

  static async start(options: StarRocksTestServerOptions = {}): Promise<StarRocksTestServer> {
    const s = new StarRocksTestServer(options);
    await s.launch();
    return s;
  }

  get feUrl(): string {
    return `http://127.0.0.1:${this.fePort}`;
  }

  private async launch(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER, '--state-dir', this.stateDir, '--user', this.user, '--password', this.password], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: REPO,
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const ports = await new Promise<{ fePort: number; bePort: number }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { fePort: number; bePort: number });
      });
      child.once('exit', (code) => reject(new Error(`the StarRocks test server exited (${code}) before it listened`)));
    });
    this.fePort = ports.fePort;
    this.bePort = ports.bePort;
  }

  /** Whether the process is running (an injected crash ends it). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for the process to end (after an injected crash). */
  async waitForExit(): Promise<void> {
    await this.exited;
  }

  /** Kills the process (SIGKILL: nothing is flushed that the journal did not already hold). */
  async kill(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  private async call<R>(method: string, p: string, body?: unknown): Promise<R> {
    const res = await fetch(`${this.feUrl}${p}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const json = (await res.json()) as R & { error?: string };
    if (!res.ok) throw new Error(`${method} ${p}: ${json.error ?? res.status}`);
    return json;
  }

  createTable(def: TableDef): Promise<unknown> {
    return this.call('POST', '/__test/tables', def);
  }

  async rows(db: string, table: string): Promise<Row[]> {
    return (await this.call<{ rows: Row[] }>('GET', `/__test/tables/${db}/${table}`)).rows;
  }

  /** A Duplicate Key table's rows from the `offset`th on (appended in commit order). */
  async rowsFrom(db: string, table: string, offset: number): Promise<Row[]> {
    return (await this.call<{ rows: Row[] }>('GET', `/__test/tables/${db}/${table}?offset=${offset}`)).rows;
  }

  async labels(): Promise<LabelEvent[]> {
    return (await this.call<{ events: LabelEvent[] }>('GET', '/__test/labels')).events;
  }

  async transactions(): Promise<{ label: string; state: string; table: string; pendingRows: number; reason?: string }[]> {
    return (await this.call<{ transactions: { label: string; state: string; table: string; pendingRows: number; reason?: string }[] }>('GET', '/__test/transactions')).transactions;
  }

  inject(...faults: Fault[]): Promise<unknown> {
    return this.call('POST', '/__test/faults', { faults });
  }

  clearFaults(): Promise<unknown> {
    return this.call('DELETE', '/__test/faults');
  }

  advanceClock(ms: number): Promise<unknown> {
    return this.call('POST', '/__test/clock', { advanceMs: ms });
  }
}
