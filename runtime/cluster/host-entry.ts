/**
 * A long-lived task manager thread of a standalone cluster (task-manager-host.ts): it outlives jobs
 * and hosts the task managers of several jobs at once, one `TaskManager` per (job, attempt, place),
 * each with its own tasks and data plane. Control calls name the hosted task manager by key; its
 * events go to the parent tagged with that key. Heartbeats are the thread's own.
 */
import * as Comlink from 'comlink';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadJob } from '../graph/job-definition.ts';
import { nodeEndpoint } from './comlink-endpoint.ts';
import type { HostMessage, TaskManagerHostApi } from './task-manager-host.ts';
import { TaskManager } from './task-manager.ts';
import { serveLinkPort } from './link-port.ts';

const { control, links, heartbeatMs } = workerData as { control: MessagePort; links: MessagePort; heartbeatMs: number };
const post = (message: HostMessage): void => parentPort!.postMessage(message);
const hosted = new Map<string, TaskManager>();

function get(key: string): TaskManager {
  const m = hosted.get(key);
  if (!m) throw new Error(`no task manager ${key} on this host (closed, or never opened)`);
  return m;
}

const api: TaskManagerHostApi = {
  async open(key) {
    if (!hosted.has(key)) hosted.set(key, new TaskManager((event) => post({ type: 'event', key, event })));
  },
  async prepare(moduleUrl) {
    await loadJob(moduleUrl);
  },
  deploy: (key, d) => get(key).deploy(d),
  start: (key) => get(key).start(),
  cancel: (key) => get(key).cancel(),
  metrics: (key) => get(key).metrics(),
  triggerCheckpoint: (key, id, kind) => get(key).triggerCheckpoint(id, kind),
  notifyCheckpointComplete: (key, id, final) => get(key).notifyCheckpointComplete(id, final),
  notifyCheckpointAborted: (key, id) => get(key).notifyCheckpointAborted(id),
  sendSourceEvent: (key, taskId, event) => get(key).sendSourceEvent(taskId, event),
  async close(key) {
    const m = hosted.get(key);
    hosted.delete(key);
    await m?.shutdown();
  },
  async hosted() {
    return [...hosted.keys()];
  },
};

serveLinkPort(links, (offer) => get(offer.key!).connectPeer(offer.peer, offer.port));
Comlink.expose(api, nodeEndpoint(control as unknown as Parameters<typeof nodeEndpoint>[0]));
post({ type: 'heartbeat' });
setInterval(() => post({ type: 'heartbeat' }), heartbeatMs).unref();
