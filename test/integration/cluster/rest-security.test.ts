/**
 * Off loopback the REST API and dashboard need the cluster's token: a call without it (or with a
 * wrong one) is refused with 401; with it, as a bearer token or as the cookie the dashboard gets
 * from `/?token=`, it is answered. `weir` commands find the token in the cluster directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { alive, clusterInfo, repo, weirOk } from './helpers.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-cluster-token-'));
const dir = path.join(root, 'cluster');
let pid: number | undefined;
afterAll(() => {
  if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A non-loopback IPv4 address of this machine, if it has one (else loopback: the token is checked whatever the address). */
function externalAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

describe('REST API off loopback', () => {
  it('refuses calls without the token and answers calls with it (and weir run stops with a savepoint on Ctrl-C)', async () => {
    const token = 'test-token-0123456789abcdef';
    const started = await weirOk(['cluster', 'start', '--dir', dir, '--workers', '1', '--slots', '1', '--port', '0', '--host', '0.0.0.0', '--state', 'heap'], { WEIR_TOKEN: token });
    expect(started.stdout).toContain(`token in ${path.join(dir, 'token')}`);
    expect(statSync(path.join(dir, 'token')).mode & 0o077).toBe(0);
    const info = clusterInfo(dir);
    pid = info.pid;
    const base = `http://${externalAddress()}:${info.port}`;

    for (const p of ['/jobs', '/overview', '/taskmanagers', '/']) expect((await fetch(base + p)).status).toBe(401);
    expect((await fetch(`${base}/jobs`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${base}/cluster`, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(`${base}/?token=wrong`, { redirect: 'manual' })).status).toBe(401);

    const ok = await fetch(`${base}/jobs`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ jobs: [] });
    // the dashboard: the token in the query once becomes an HttpOnly cookie
    const login = await fetch(`${base}/?token=${token}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^weir_token=.*HttpOnly; SameSite=Strict/);
    const page = await fetch(`${base}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Weir cluster</title>');

    // the CLI reads the token from the cluster directory
    expect((await weirOk(['list', '--dir', dir], { WEIR_TOKEN: '' })).stdout).toContain('no jobs');

    // weir run in the foreground on the cluster: Ctrl-C stops the job with a savepoint and says how to resume
    const run = spawn(process.execPath, [path.join(repo, 'runtime/cli/bin.mjs'), 'run', 'test/chaos/jobs/keyed-aggregation.ts', '--dir', dir, '--params', JSON.stringify({ count: 100_000, seed: 1, ratePerSecond: 200, outDir: path.join(root, 'out') })], {
      cwd: repo,
      env: { ...process.env, WEIR_TOKEN: '', CI: 'true' },
    });
    let err = '';
    run.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | string>((resolve) => run.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    await vi.waitFor(() => expect(err).toMatch(/job [0-9a-f]{32} submitted/), { timeout: 20_000, interval: 50 });
    run.kill('SIGINT');
    expect(await exited, err).toBe(0);
    expect(err).toMatch(/resume with: weir run test\/chaos\/jobs\/keyed-aggregation.ts --from-savepoint \S+\/savepoints\/sp-\d+/);
    expect(err).toMatch(/stopped in/);
    expect((await weirOk(['list', '--dir', dir], { WEIR_TOKEN: '' })).stdout).toMatch(/STOPPED\s+keyed-aggregation/);
    await weirOk(['cluster', 'stop', '--dir', dir], { WEIR_TOKEN: '' });
    expect(alive(pid)).toBe(false);
  }, 60_000);
});
