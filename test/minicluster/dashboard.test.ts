/**
 * The REST API over one in-process job (`weir run --dashboard`): the cluster's endpoints and
 * dashboard page, serving that job alone.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type JobHandle, MiniCluster } from 'weir';
import { SingleJobService } from '../../runtime/cluster/single-job-service.ts';
import { startRestServer, type RestServer } from '../../runtime/rest/server.ts';
import failing from './jobs/failing.ts';

let handle: JobHandle | undefined;
let server: RestServer | undefined;
let service: SingleJobService | undefined;
afterEach(async () => {
  service?.close();
  await server?.close();
  await handle?.cancel();
});

describe('REST API of an in-process run', () => {
  it('serves the running job, its vertices with live rates, checkpoints, and refuses other jobs', async () => {
    const params = { failAt: -1, unbounded: true };
    handle = await new MiniCluster({ workers: 2, stateBackend: 'heap', onWarning: () => {} }).submit(failing, { params, parallelism: 2 });
    const h = handle;
    service = new SingleJobService(h, failing.moduleUrl, params);
    server = await startRestServer(service, { port: 0 });
    const get = async <T>(p: string): Promise<T> => (await fetch(new URL(p, server!.url))).json() as Promise<T>;
    expect(await get('/jobs')).toMatchObject({ jobs: [{ jid: h.jobId, name: 'failing', state: 'RUNNING', restarts: 0 }] });
    const job = await get<{ vertices: { id: number; operators: string[]; parallelism: number }[] }>(`/jobs/${h.jobId.slice(0, 8)}`);
    expect(job.vertices.map((v) => v.operators)).toEqual([['datagen', 'price-orders'], ['collect:failing-out']]);
    expect(job.vertices.map((v) => v.parallelism)).toEqual([2, 2]);
    await vi.waitFor(
      async () => {
        const m = await get<{ id: string; value: string }[]>(`/jobs/${h.jobId}/vertices/0/metrics`);
        expect(Number(m.find((x) => x.id === 'numRecordsOutPerSecond')!.value)).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(await get(`/jobs/${h.jobId}/checkpoints`)).toMatchObject({ counts: { total: 0 }, history: [] });
    const page = await (await fetch(server.url)).text();
    expect(page).toContain('<title>Weir cluster</title>');
    expect((await fetch(new URL('/jobs/nope', server.url))).status).toBe(404);
    const submit = await fetch(new URL('/jobs', server.url), { method: 'POST', body: JSON.stringify({ module: 'x.ts' }) });
    expect(submit.status).toBe(400);
    expect(await submit.json()).toEqual({ errors: [expect.stringContaining('in-process run of one job')] });
    expect((await fetch(new URL(`/jobs/${h.jobId}`, server.url), { method: 'PATCH' })).status).toBe(202);
    expect(await get(`/jobs/${h.jobId}`)).toMatchObject({ state: 'CANCELED' });
  });
});
