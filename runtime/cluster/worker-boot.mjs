// Worker threads start here: TypeScript modules (the runtime and the user's job module) load
// through tsx, registered for this thread before the entry module is imported.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
