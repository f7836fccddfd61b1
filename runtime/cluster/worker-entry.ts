/** The task manager inside a worker thread: control calls through comlink, events on the parent port, data link ends on the link port (link-port.ts). */
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-endpoint.ts';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { TaskManager } from './task-manager.ts';
import { serveLinkPort } from './link-port.ts';
import type { TaskManagerEvent } from './protocol.ts';

const { control, links, heartbeatMs } = workerData as { control: MessagePort; links: MessagePort; heartbeatMs: number };
const report = (event: TaskManagerEvent): void => parentPort!.postMessage(event);
const manager = new TaskManager(report);
serveLinkPort(links, (offer) => manager.connectPeer(offer.peer, offer.port));
Comlink.expose(manager, nodeEndpoint(control as unknown as Parameters<typeof nodeEndpoint>[0]));
// Heartbeats from this thread's event loop: they stop when the thread dies or is stuck
// (heartbeat-monitor.ts). The first one says the task manager is up.
report({ type: 'heartbeat' });
setInterval(() => report({ type: 'heartbeat' }), heartbeatMs).unref();
