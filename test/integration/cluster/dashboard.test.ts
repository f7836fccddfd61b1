/**
 * The cluster's dashboard in headless Chromium (Debian's chromium driven by playwright-core): the
 * jobs list, the job's graph with parallelism, records/s, back-pressure and watermarks, checkpoint
 * history with durations and sizes, exceptions after a task manager is killed, the savepoint and
 * cancel actions, all updating live without a reload. A screenshot is kept in test-artifacts/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { alive, clusterInfo, repo, rest, weirOk } from './helpers.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-dashboard-'));
const dir = path.join(root, 'cluster');
const SECRET = 'swordfish-secret-value';
let pid: number | undefined;
let browser: Browser | undefined;
let runner: ChildProcess | undefined;
afterAll(async () => {
  await browser?.close();
  if (runner?.exitCode === null) runner.kill('SIGKILL');
  if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('dashboard', () => {
  it('shows jobs, graph, watermarks, checkpoints and exceptions live, and acts on the job', async () => {
    await weirOk(['cluster', 'start', '--dir', dir, '--workers', '1', '--slots', '2', '--port', '0', '--state', 'heap']);
    pid = clusterInfo(dir).pid;
    const params = JSON.stringify({ count: 1_000_000, seed: 3, ratePerSecond: 500, outDir: path.join(root, 'out'), dbPassword: SECRET });
    // submitted by `weir run` in the foreground: its progress lines come from the REST API
    runner = spawn(process.execPath, [path.join(repo, 'runtime/cli/bin.mjs'), 'run', 'test/chaos/jobs/keyed-aggregation.ts', '--dir', dir, '--parallelism', '1', '--checkpoint-interval', '200', '--params', params], {
      cwd: repo,
      env: { ...process.env, CI: '', WEIR_PROGRESS_MS: '300' },
    });
    let runnerErr = '';
    runner.stderr!.on('data', (d: Buffer) => (runnerErr += d.toString()));
    const runnerExit = new Promise<number | null>((resolve) => runner!.on('exit', resolve));
    await vi.waitFor(() => expect(runnerErr).toMatch(/job [0-9a-f]{32} submitted/), { timeout: 20_000, interval: 50 });
    const jid = /job ([0-9a-f]{32}) submitted/.exec(runnerErr)![1]!;

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(clusterInfo(dir).url);

    // the jobs list and the selected job
    const row = page.locator(`tr.job[data-jid="${jid}"]`);
    await row.locator('td.state', { hasText: 'RUNNING' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => row.textContent()).toContain('keyed-aggregation');
    await expect.poll(() => page.locator('#job-state').textContent()).toBe('RUNNING');
    // parameters are shown redacted
    await expect.poll(() => page.locator('#job-info').textContent()).toContain('"dbPassword":"******"');
    expect(await page.content()).not.toContain(SECRET);

    // the graph: the source vertex with its parallelism, a live rate and a watermark
    const source = page.locator('.vertex', { hasText: 'orders' }).first();
    expect(await source.locator('.parallelism').textContent()).toBe('1');
    await expect.poll(async () => (await source.locator('.rate-out').textContent()) ?? '', { timeout: 20_000 }).toMatch(/^[1-9][\d.]*k?\/s$/);
    await expect.poll(async () => page.locator('.vertex .wm').allTextContents(), { timeout: 20_000 }).toContainEqual(expect.stringMatching(/^1970-01-01 /));
    expect(await page.locator('.vertex').count()).toBeGreaterThanOrEqual(2);
    expect(await source.locator('.bp').textContent()).toMatch(/^(ok|low|high)$/);
    await expect.poll(() => page.locator('#watermark').textContent()).toMatch(/job watermark: 1970-01-01/);

    // checkpoint history with durations and sizes
    const completed = page.locator('tr.checkpoint', { hasText: 'COMPLETED' });
    await completed.first().waitFor({ timeout: 20_000 });
    expect(await completed.first().textContent()).toMatch(/checkpoint\s*COMPLETED\s*\d+ ms\s*[\d.]+ (B|KB|MB)/);

    // a task manager dies: the exception appears without a reload, the job runs again
    await rest(dir, '/taskmanagers/0/kill', { method: 'POST' });
    await page.locator('.exception', { hasText: 'task manager 0' }).waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 30_000 }).toBe('RUNNING');
    await expect.poll(() => row.locator('td:nth-child(4)').textContent()).toBe('1');

    // actions: a savepoint (its row joins the history), then cancel
    await page.locator('#btn-savepoint').click();
    await expect.poll(() => page.locator('#message').textContent(), { timeout: 30_000 }).toMatch(/^savepoint at .*savepoints\/sp-\d+$/);
    await page.locator('tr.checkpoint', { hasText: 'savepoint' }).first().waitFor({ timeout: 10_000 });
    mkdirSync(path.join(repo, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(repo, 'test-artifacts', 'dashboard.png'), fullPage: true });
    await page.locator('#btn-cancel').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('CANCELED');
    expect(await page.locator('#btn-cancel').isDisabled()).toBe(true);
    await expect.poll(() => row.locator('td.state').textContent()).toBe('CANCELED');
    // the foreground run showed live progress, then the end
    expect(await runnerExit).toBe(1);
    expect(runnerErr).toMatch(/in [\d.]+k?\/s {2}out [\d.]+k?\/s {2}watermark 1970-01-01 \S+ {2}checkpoint #\d+ \d+ ms {2}back-pressure (ok|low|high)/);
    expect(runnerErr).toMatch(/restarts 1/);
    expect(runnerErr).toMatch(/canceled in/);

    await weirOk(['cluster', 'stop', '--dir', dir]);
    expect(alive(pid)).toBe(false);
  }, 120_000);
});
