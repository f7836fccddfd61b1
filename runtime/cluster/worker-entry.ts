/** The task manager inside a worker thread: control calls through comlink, events on the parent port. */
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-endpoint.ts';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { TaskManager } from './task-manager.ts';
import type { TaskManagerEvent } from './protocol.ts';

const { control } = workerData as { control: MessagePort };
const manager = new TaskManager((event: TaskManagerEvent) => parentPort!.postMessage(event));
Comlink.expose(manager, nodeEndpoint(control as unknown as Parameters<typeof nodeEndpoint>[0]));
