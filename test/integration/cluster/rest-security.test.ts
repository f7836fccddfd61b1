/**
 * Off loopback the REST API and dashboard need the cluster's token: a call without it (or with a
 * wrong one) is refused with 401; with it, as a bearer token or as the cookie the dashboard gets
 * from `/?token=`, it is answered. `weir` commands find the token in the cluster directory.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, clusterInfo, weirOk } from './helpers.ts';

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
  it('refuses calls without the token and answers calls with it', async () => {
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
    await weirOk(['cluster', 'stop', '--dir', dir], { WEIR_TOKEN: '' });
    expect(alive(pid)).toBe(false);
  }, 60_000);
});
