/**
 * Checks a job graph before anything runs. Each error names the operator and says how to fix it.
 * What runs but may hurt later (state that a savepoint cannot map back) comes back as warnings.
 */
import { JobValidationError } from '../errors.ts';
import { resolvePartitioning } from './execution-plan.ts';
import type { StreamGraph, StreamNode } from './stream-graph.ts';

/** Throws JobValidationError listing every problem; returns warnings (the job runs, but read them). */
export function validateGraph(graph: StreamGraph): string[] {
  const problems: string[] = [];
  const warnings: string[] = [];
  const maxP = graph.maxParallelism;
  if (!Number.isInteger(maxP) || maxP < 1 || maxP > 32768) problems.push(`max parallelism is ${maxP}; set it to an integer from 1 to 32768 with env.setMaxParallelism(n)`);
  if (graph.nodes.length === 0) problems.push('the job has no operators: start with env.fromSource(...)');
  if (!graph.nodes.some((n) => n.kind === 'sink')) problems.push('the job has no sink, so nothing it computes goes anywhere: end each stream with sinkTo(...)');

  const uids = new Map<string, string>();
  for (const node of graph.nodes) {
    const p = graph.parallelismOf(node);
    const what = `operator '${node.name}' (#${node.id})`;
    if (!Number.isInteger(p) || p < 1) problems.push(`${what} has parallelism ${p}; use an integer >= 1`);
    else if (p > maxP) problems.push(`${what} has parallelism ${p} above the max parallelism ${maxP} (the number of key groups); lower it or raise env.setMaxParallelism(...)`);
    if (node.uid !== undefined) {
      const other = uids.get(node.uid);
      if (other !== undefined) problems.push(`uid '${node.uid}' is used by both '${other}' and '${node.name}'; uids identify operator state and must be unique`);
      uids.set(node.uid, node.name);
    }
    if (node.uid === undefined && (node.kind === 'source' || node.kind === 'sink' || node.keyed)) warnings.push(missingUidWarning(graph, node));
    if (node.kind === 'source' && node.inputs.length > 0) problems.push(`${what} is a source but has inputs`);
    if (node.kind !== 'source' && node.inputs.length === 0) problems.push(`${what} has no input`);
    if (node.inputs.length > 0 && new Set(node.inputs.map((e) => e.inputIndex)).size > 2) problems.push(`${what} has more than two inputs; union streams first`);
    if (node.keyed) {
      const unkeyed = node.inputs.filter((e) => e.partitioning.kind !== 'hash');
      if (unkeyed.length > 0) problems.push(`${what} uses keyed state or timers but its input is not keyed: call keyBy(...) before it`);
    }
    for (const edge of node.inputs) {
      const from = graph.node(edge.source);
      if (resolvePartitioning(graph, edge) === 'forward' && graph.parallelismOf(from) !== p) {
        problems.push(`forward edge from '${from.name}' (parallelism ${graph.parallelismOf(from)}) to '${node.name}' (parallelism ${p}) needs equal parallelism; use rebalance() or keyBy(...)`);
      }
      if (from.kind === 'sink') problems.push(`sink '${from.name}' cannot feed '${node.name}'`);
    }
  }

  // The API only links new nodes to older ones, but a graph built by hand could loop.
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (id: number, path: number[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      const loop = [...path.slice(path.indexOf(id)), id].map((n) => `'${graph.node(n).name}'`).join(' -> ');
      problems.push(`the job graph has a cycle: ${loop}; streams must flow one way`);
      return;
    }
    state.set(id, 'visiting');
    for (const e of graph.node(id).outputs) visit(e.target, [...path, id]);
    state.set(id, 'done');
  };
  for (const n of graph.nodes) visit(n.id, []);

  if (problems.length > 0) {
    throw new JobValidationError(`the job cannot run as written:\n- ${problems.join('\n- ')}`);
  }
  return warnings;
}

/**
 * Savepoints map state back to operators by uid. A derived uid contains the operator's position in
 * the graph, so adding or removing an operator before it changes it, and the next version of the job
 * no longer finds its state (sources start over, sinks lose their pending transactions).
 */
function missingUidWarning(graph: StreamGraph, node: StreamNode): string {
  const what = node.kind === 'source' ? 'source' : node.kind === 'sink' ? 'sink' : 'keyed operator';
  const keeps = node.kind === 'source' ? 'its read position' : node.kind === 'sink' ? 'its pending transactions' : 'its keyed state and timers';
  return (
    `${what} '${node.name}' (#${node.id}) has no uid: ${keeps} is saved under the derived uid '${graph.uidOf(node)}', which changes when ` +
    `operators are added or removed before it, and a savepoint then no longer restores into it; give it a stable one: { uid: '...' }`
  );
}
