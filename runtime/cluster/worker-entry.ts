/** The task manager inside a worker thread: control calls through comlink, events on the parent port. */
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-endpoint.ts';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { TaskManager } from './task-manager.ts';
import type { TaskManagerEvent } from './protocol.ts';

const { control, heartbeatMs } = workerData as { control: MessagePort; heartbeatMs: number };
const report = (event: TaskManagerEvent): void => parentPort!.postMessage(event);
const manager = new TaskManager(report);
Comlink.expose(manager, nodeEndpoint(control as unknown as Parameters<typeof nodeEndpoint>[0]));
// Heartbeats from this thread's event loop: they stop when the thread dies or is stuck
// (heartbeat-monitor.ts). The first one says the task manager is up.
report({ type: 'heartbeat' });
setInterval(() => report({ type: 'heartbeat' }), heartbeatMs).unref();
