/** For sibling-threads.test.ts: answers each message with its thread id; ends once its port closes. */
import { threadId, workerData } from 'node:worker_threads';
import type { SiblingThreadData } from '../../../../runtime/sibling-threads.ts';

const { port } = workerData as SiblingThreadData;
port.on('message', (m: unknown) => port.postMessage({ echo: m, threadId }));
port.on('close', () => process.exit(0));
