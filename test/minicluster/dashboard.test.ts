import { afterEach, describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster } from 'weir';
import { startDashboard, type Dashboard } from '../../runtime/rest/dashboard.ts';
import failing from './jobs/failing.ts';

let handle: JobHandle | undefined;
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  await handle?.cancel();
});

describe('dashboard and REST API', () => {
  it('serves a running job, its metrics and checkpoints', async () => {
    handle = await new MiniCluster({ workers: 2, stateBackend: 'heap' }).submit(failing, { params: { failAt: -1, unbounded: true }, parallelism: 2 });
    const h = handle;
    dashboard = await startDashboard(() => [h]);
    const get = async (p: string): Promise<unknown> => (await fetch(new URL(p, dashboard!.url))).json();
    expect(await get('/api/jobs')).toEqual([{ jobId: h.jobId, status: 'running', restarts: 0 }]);
    const job = (await get(`/api/jobs/${h.jobId}`)) as { chains: { operators: string[] }[] };
    expect(job.chains.map((c) => c.operators)).toEqual([['datagen', 'price-orders'], ['collect:failing-out']]);
    let metrics = (await get(`/api/jobs/${h.jobId}/metrics`)) as { operators: { name: string; recordsIn: number }[] };
    for (let i = 0; i < 100 && (metrics.operators.find((o) => o.name === 'price-orders')?.recordsIn ?? 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      metrics = (await get(`/api/jobs/${h.jobId}/metrics`)) as typeof metrics;
    }
    expect(metrics.operators.find((o) => o.name === 'price-orders')!.recordsIn).toBeGreaterThan(0);
    expect(await get(`/api/jobs/${h.jobId}/checkpoints`)).toEqual([]);
    const page = await (await fetch(dashboard.url)).text();
    expect(page).toContain('<title>Weir</title>');
    const missing = await fetch(new URL('/api/jobs/nope', dashboard.url));
    expect(missing.status).toBe(404);
  });
});
