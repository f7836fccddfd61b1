/**
 * `npm run demo:servers` itself, small (DEMO_EVENTS): it starts Kafka, MariaDB and the StarRocks
 * loopback server with test/services/ in a private directory, must exit 0, stop them, and print the
 * numbers the brute force computes from the same generated input (read back by the demo from
 * StarRocks and the lake).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bruteForce } from './brute-force.ts';

const home = mkdtempSync(path.join(os.tmpdir(), 'weir-demo-servers-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const root = path.resolve(import.meta.dirname, '../../..');

const cents = (dollars: string): number => Math.round(Number(dollars.replaceAll(',', '')) * 100);

describe('npm run demo:servers', () => {
  it('runs the live-room job on Kafka, MariaDB and StarRocks and prints what the brute force computes', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'jobs/live-room/run-servers.ts')], {
      cwd: root,
      env: { ...process.env, WEIR_HOME: home, DEMO_EVENTS: '3000' },
      maxBuffer: 16 << 20,
    });
    // the same data the demo generates (run-servers.ts: 50 events per second of event time)
    const expected = bruteForce({ events: 3000, eventsPerSecond: 50 });

    const total = expected.roomRevenue.reduce((a, r) => a + Number(r.split('|')[5]), 0);
    const [, raw, olap, daily] = /revenue: ODS events \$([\d,.]+) = StarRocks room_revenue \$([\d,.]+) = lake dws_anchor_daily \$([\d,.]+)/.exec(stdout)!;
    expect([cents(raw!), cents(olap!), cents(daily!)]).toEqual([total, total, total]);

    const rankMinute = /top-10 anchors of minute (\S+)/.exec(stdout)![1]!;
    const ranks = [...stdout.matchAll(/ {2}#(\d+)\s+anchor (\d+)\s+\S+\s+\$([\d,.]+)/g)].map((m) => `${rankMinute}|${m[1]}|${m[2]}|${cents(m[3]!)}`);
    expect(ranks.length).toBeGreaterThan(0);
    expect(ranks).toEqual(expected.top10.filter((r) => r.startsWith(`${rankMinute}|`)).sort((a, b) => Number(a.split('|')[1]) - Number(b.split('|')[1])));

    const days = [...stdout.matchAll(/ {2}day (\S+) {2}DAU (\d+) {2}eDAU (\d+) {2}final/g)].flatMap((m) => [`${m[1]}|dau|${m[2]}`, `${m[1]}|edau|${m[3]}`]);
    expect(days.sort()).toEqual(expected.dailyUsers.map((r) => r.split('|').slice(0, 3).join('|')).sort());
    expect(Number(/profit-and-loss alerts: (\d+)/.exec(stdout)![1])).toBe(expected.alertCount);

    // the services are gone with their state directory
    const servicesDir = /services under (\S+)\)/.exec(stdout)![1]!;
    expect(existsSync(servicesDir)).toBe(false);
  }, 120_000);
});
