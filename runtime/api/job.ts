/**
 * A job is a module whose default export is `defineJob(import.meta.url, build)`; the cluster imports
 * it and runs `build` on a fresh `StreamEnv` (see runtime/graph/job-definition.ts for why).
 *
 *     interface Params { lines: number }          // an interface or a type alias, of JSON data
 *     export default defineJob(import.meta.url, (env, params: Params) => { ... });
 */
import { jobDefinition, type JobDefinition, type JsonData } from '../graph/job-definition.ts';
import { StreamEnv } from './environment.ts';

export type { JobDefinition, JsonValue } from '../graph/job-definition.ts';

/**
 * Where `defineJob` wants the module URL, this is the module URL's type when the parameters are
 * JSON data, and otherwise a string type whose text is the error, so tsc says what is wrong.
 */
type ModuleUrl<P> = [P] extends [JsonData<P>]
  ? string
  : 'job params must be JSON data (strings, finite numbers, booleans, null, arrays, plain objects; no Date, Map, class instance, function or bigint): they are sent to worker threads';

export function defineJob<P = undefined>(moduleUrl: ModuleUrl<P>, build: (env: StreamEnv, params: P) => void): JobDefinition<P> {
  return jobDefinition<P>(moduleUrl, (params, defaults) => {
    const env = new StreamEnv(defaults);
    build(env, params);
    return env.graph;
  });
}
