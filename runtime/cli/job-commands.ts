/**
 * The commands that act on a job of a running standalone cluster, through its REST API:
 * `weir list`, `weir status <job>`, `weir cancel <job>`, `weir savepoint <job> [dir]`,
 * `weir stop <job> [--drain] [--savepoint-dir D]`, `weir logs <job>`. A job is named by its id, a
 * unique prefix of it, or its name (the newest job of that name).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SavepointRef } from '../cluster/job-master.ts';
import { connect } from './cluster-client.ts';
import type { Command } from './command.ts';
import { rate } from './progress-line.ts';

interface JobSummary {
  jid: string;
  name: string;
  state: string;
  duration: number;
  slots: number;
  restarts: number;
}

interface JobDetails extends JobSummary {
  module: string;
  params: unknown;
  taskmanagers: number[];
  watermark: number | null;
  error: string | null;
  vertices: { id: number; name: string; parallelism: number; metrics: Record<string, number | string | null> }[];
}

function parse(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
}

function needJob(positionals: string[], usage: string): string | undefined {
  if (positionals.length < 1) {
    console.error(`usage: ${usage}`);
    return undefined;
  }
  return encodeURIComponent(positionals[0]!);
}

function resumeHint(job: JobDetails | undefined, sp: SavepointRef): string {
  return `resume with: weir run ${job?.module ?? '<job.ts>'} --from-savepoint ${sp.location}`;
}

export const listCommand: Command = {
  summary: 'list the jobs of the running cluster',
  async run(args) {
    const { values } = parse(args);
    const { client } = connect(values.dir);
    const { jobs } = await client.get<{ jobs: JobSummary[] }>('/jobs');
    if (jobs.length === 0) console.log('no jobs');
    for (const j of jobs) console.log(`${j.jid}  ${j.state.padEnd(9)} ${j.name.padEnd(24)} ${(j.duration / 1000).toFixed(0).padStart(6)} s  ${j.slots} slots${j.restarts ? `  ${j.restarts} restarts` : ''}`);
    return 0;
  },
};

export const statusCommand: Command = {
  summary: "a job's state, operators with records/s and back-pressure, checkpoints",
  async run(args) {
    const { values, positionals } = parse(args);
    const ref = needJob(positionals, 'weir status <job> [--dir D]');
    if (!ref) return 2;
    const { client } = connect(values.dir);
    const j = await client.get<JobDetails>(`/jobs/${ref}`);
    const cps = await client.get<{ counts: { completed: number; failed: number }; latest: { completed: { id: number; end_to_end_duration: number } | null } }>(`/jobs/${ref}/checkpoints`);
    console.log(`${j.jid}  ${j.name}  ${j.state}  ${(j.duration / 1000).toFixed(0)} s  ${j.slots} slots on task managers ${j.taskmanagers.join(', ') || '-'}${j.restarts ? `  restarts ${j.restarts}` : ''}`);
    console.log(`module ${j.module}  params ${JSON.stringify(j.params)}`);
    for (const v of j.vertices) {
      const m = v.metrics;
      console.log(`  [${v.id}] ${v.name}  x${v.parallelism}  in ${rate(Number(m.numRecordsInPerSecond))}  out ${rate(Number(m.numRecordsOutPerSecond))}  back-pressure ${m.backPressureLevel}`);
    }
    if (j.watermark !== null) console.log(`watermark ${new Date(j.watermark).toISOString()}`);
    const last = cps.latest.completed;
    console.log(`checkpoints ${cps.counts.completed} completed, ${cps.counts.failed} failed${last ? `; last #${last.id} in ${Math.round(last.end_to_end_duration)} ms` : ''}`);
    if (j.error) console.log(`error: ${j.error}`);
    return 0;
  },
};

export const cancelCommand: Command = {
  summary: 'cancel a job of the running cluster (no savepoint)',
  async run(args) {
    const { values, positionals } = parse(args);
    const ref = needJob(positionals, 'weir cancel <job> [--dir D]');
    if (!ref) return 2;
    const { client } = connect(values.dir);
    await client.request('PATCH', `/jobs/${ref}`);
    console.log(`job ${decodeURIComponent(ref)} canceled`);
    return 0;
  },
};

export const savepointCommand: Command = {
  summary: 'take a savepoint of a running job (it goes on); optionally copied to a directory',
  async run(args) {
    const { values, positionals } = parse(args);
    const ref = needJob(positionals, 'weir savepoint <job> [dir] [--dir D]');
    if (!ref) return 2;
    const { client } = connect(values.dir);
    const target = positionals[1] ? path.resolve(positionals[1]) : undefined;
    const r = await client.post<{ savepoint: SavepointRef }>(`/jobs/${ref}/savepoints`, target ? { 'target-directory': target } : {});
    const job = await client.get<JobDetails>(`/jobs/${ref}`);
    console.log(`savepoint ${r.savepoint.checkpointId} at ${r.savepoint.location}`);
    console.log(resumeHint(job, r.savepoint));
    return 0;
  },
};

export const stopCommand: Command = {
  summary: 'stop a job with a savepoint (sinks commit what it covers); prints how to resume',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { dir: { type: 'string' }, drain: { type: 'boolean' }, 'savepoint-dir': { type: 'string' } },
    });
    const ref = needJob(positionals, 'weir stop <job> [--drain] [--savepoint-dir D] [--dir D]');
    if (!ref) return 2;
    const { client } = connect(values.dir);
    const target = values['savepoint-dir'] ? path.resolve(values['savepoint-dir']) : undefined;
    const r = await client.post<{ savepoint: SavepointRef }>(`/jobs/${ref}/stop`, { drain: values.drain === true, ...(target ? { targetDirectory: target } : {}) });
    const job = await client.get<JobDetails>(`/jobs/${ref}`);
    console.log(`job ${job.jid} stopped with savepoint ${r.savepoint.checkpointId} at ${r.savepoint.location}`);
    console.log(resumeHint(job, r.savepoint));
    return 0;
  },
};

export const logsCommand: Command = {
  summary: "a job's log on the cluster (submission, checkpoints, failovers, end)",
  async run(args) {
    const { values, positionals } = parse(args);
    const ref = needJob(positionals, 'weir logs <job> [--dir D]');
    if (!ref) return 2;
    const { client } = connect(values.dir);
    process.stdout.write(await client.get<string>(`/jobs/${ref}/log`));
    return 0;
  },
};
