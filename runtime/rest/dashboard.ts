/**
 * A small web dashboard and REST API for running jobs (`weir run --dashboard PORT`):
 *
 *   GET /                       the dashboard page (refreshes itself every second)
 *   GET /api/jobs               [{ jobId, status, restarts }]
 *   GET /api/jobs/:id           the job: status, restarts, chains (operators fused per task)
 *   GET /api/jobs/:id/metrics   per-operator metrics (records in/out, records/s, back-pressure, watermark)
 *   GET /api/jobs/:id/checkpoints  checkpoint history
 *
 * Read-only, bound to loopback by default.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobHandle } from '../cluster/job-manager.ts';

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

function describeJob(h: JobHandle): unknown {
  return {
    jobId: h.jobId,
    status: h.status,
    restarts: h.restarts,
    taskManagers: h.liveTaskManagers,
    chains: h.plan.chains.map((c) => ({ parallelism: c.parallelism, operators: c.nodeIds.map((id) => h.graph.node(id).name) })),
  };
}

export async function startDashboard(jobs: () => JobHandle[], options: { port?: number; host?: string } = {}): Promise<Dashboard> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const parts = url.pathname.split('/').filter(Boolean);
      if (req.method !== 'GET') return json(res, 405, { error: 'read-only API: use GET' });
      if (parts.length === 0) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(PAGE);
      }
      if (parts[0] !== 'api' || parts[1] !== 'jobs') return json(res, 404, { error: `no such path ${url.pathname}; see /api/jobs` });
      const all = jobs();
      if (parts.length === 2) return json(res, 200, all.map((h) => ({ jobId: h.jobId, status: h.status, restarts: h.restarts })));
      const job = all.find((h) => h.jobId === parts[2]);
      if (!job) return json(res, 404, { error: `no job ${parts[2]}; see /api/jobs` });
      if (parts.length === 3) return json(res, 200, describeJob(job));
      if (parts[3] === 'metrics') return json(res, 200, await job.metrics());
      if (parts[3] === 'checkpoints') return json(res, 200, job.checkpoints());
      return json(res, 404, { error: `no such path ${url.pathname}` });
    })().catch((e: unknown) => json(res, 500, { error: e instanceof Error ? e.message : String(e) }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Weir</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}
table{border-collapse:collapse;min-width:60%}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.s{color:#666}.bad{color:#b00}
</style></head><body>
<h1>Weir</h1><div id="jobs"></div>
<script>
const fmt = (n) => typeof n !== 'number' ? n : n >= 1e6 ? (n/1e6).toFixed(2)+'M' : n >= 1e3 ? (n/1e3).toFixed(1)+'k' : String(Math.round(n));
const wm = (w) => (typeof w === 'number' && isFinite(w)) ? new Date(w).toISOString().slice(11,23) : '-';
async function refresh() {
  const jobs = await (await fetch('/api/jobs')).json();
  let html = '';
  for (const j of jobs) {
    const [m, cps] = await Promise.all([fetch('/api/jobs/'+j.jobId+'/metrics').then(r=>r.json()), fetch('/api/jobs/'+j.jobId+'/checkpoints').then(r=>r.json())]);
    html += '<h2>job '+j.jobId+' <span class="s">'+j.status+(j.restarts?', '+j.restarts+' restarts':'')+', '+(m.elapsedMs/1000).toFixed(0)+' s</span></h2>';
    html += '<table><tr><th>operator</th><th>parallelism</th><th>records in</th><th>records/s</th><th>records out</th><th>back-pressured</th><th>watermark</th></tr>';
    for (const o of m.operators) html += '<tr><td>'+o.name+'</td><td>'+o.parallelism+'</td><td>'+fmt(o.recordsIn)+'</td><td>'+fmt(o.recordsInPerSecond)+'</td><td>'+fmt(o.recordsOut)+'</td><td>'+fmt(o.backPressuredMs)+' ms</td><td>'+wm(o.watermark)+'</td></tr>';
    html += '</table><h2>checkpoints</h2><table><tr><th>id</th><th>status</th><th>duration</th><th>size</th><th>alignment</th></tr>';
    for (const c of cps.slice(-8).reverse()) html += '<tr><td>'+c.id+(c.savepoint?' (savepoint)':'')+'</td><td class="'+(c.status==='aborted'?'bad':'')+'">'+c.status+'</td><td>'+(c.durationMs??'-')+' ms</td><td>'+fmt(c.bytes??0)+'B</td><td>'+(c.alignmentMs??'-')+' ms</td></tr>';
    html += '</table>';
  }
  document.getElementById('jobs').innerHTML = html || '<p>no jobs</p>';
}
refresh(); setInterval(refresh, 1000);
</script></body></html>`;
