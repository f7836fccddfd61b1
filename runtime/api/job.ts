/**
 * A job is a module whose default export is `defineJob(import.meta.url, build)`. The job manager
 * and every task manager import the module and run `build` with the same parameters, so each gets
 * the same graph with its closures; only the module URL and the parameters cross threads, which is
 * why parameters must be plain JSON data.
 */
import { JobValidationError } from '../errors.ts';
import { StreamEnv } from './environment.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const JOB_DEFINITION = Symbol.for('weir.job-definition');

export interface JobDefinition<P extends JsonValue | undefined = undefined> {
  readonly [JOB_DEFINITION]: true;
  /** The job module's URL (its `import.meta.url`). */
  readonly moduleUrl: string;
  readonly build: (env: StreamEnv, params: P) => void;
}

export function defineJob<P extends JsonValue | undefined = undefined>(moduleUrl: string, build: (env: StreamEnv, params: P) => void): JobDefinition<P> {
  return { [JOB_DEFINITION]: true, moduleUrl, build };
}

export function isJobDefinition(value: unknown): value is JobDefinition<JsonValue | undefined> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_DEFINITION] === true;
}

/** Imports a job module and returns its definition, with an error that says what the module lacks. */
export async function loadJob(moduleUrl: string): Promise<JobDefinition<JsonValue | undefined>> {
  const mod = (await import(moduleUrl)) as { default?: unknown };
  if (!isJobDefinition(mod.default)) {
    throw new JobValidationError(`job module ${moduleUrl} must \`export default defineJob(import.meta.url, (env, params) => { ... })\``);
  }
  return mod.default;
}

/** Parameters cross threads as data: reject what would not arrive intact, naming where it is. */
export function validateParams(value: unknown, path = 'params'): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new JobValidationError(`${path} is ${value}; job parameters must be finite numbers, strings, booleans, null, arrays or plain objects`);
      return;
    case 'object': {
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((v, i) => validateParams(v, `${path}[${i}]`));
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
        throw new JobValidationError(`${path} is a ${name} instance; job parameters are sent to worker threads as JSON data: pass plain objects (e.g. an ISO string instead of a Date)`);
      }
      for (const [k, v] of Object.entries(value)) validateParams(v, `${path}.${k}`);
      return;
    }
    default:
      throw new JobValidationError(`${path} is a ${typeof value}; job parameters are sent to worker threads as JSON data, so they cannot hold functions, symbols or bigints: build such things inside the job module from plain parameters`);
  }
}

export function buildGraph(job: JobDefinition<JsonValue | undefined>, params: JsonValue | undefined, defaults: { parallelism: number; maxParallelism: number }): StreamEnv {
  const env = new StreamEnv(defaults);
  job.build(env, params);
  return env;
}
