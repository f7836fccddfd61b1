/** For sibling-threads.test.ts: asks for a sibling thread (sibling-echo.ts) and reports its answer. */
import { parentPort } from 'node:worker_threads';
import { startSiblingThread } from '../../../../runtime/sibling-threads.ts';

const port = startSiblingThread(new URL('../../../../runtime/cluster/worker-boot.mjs', import.meta.url), new URL('./sibling-echo.ts', import.meta.url).href);
port.on('message', (m: unknown) => parentPort!.postMessage(m));
port.postMessage('ping');
