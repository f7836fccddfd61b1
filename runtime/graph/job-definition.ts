/**
 * What the cluster knows of a job: a module whose default export is a job definition (made by the
 * API's `defineJob`). The job manager and every task manager import the module and build its graph
 * with the same parameters, so each gets the same graph with its closures; only the module URL and
 * the parameters cross threads, which is why parameters must be plain JSON data.
 *
 * The definition builds its own graph (`buildGraph`), so the cluster does not depend on the API that
 * the job was written with: the API sits above the runtime, not below it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobValidationError } from '../errors.ts';
import type { StreamGraph } from './stream-graph.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * `T` itself if it is JSON data, else a type that `T` does not satisfy. Unlike `T extends JsonValue`
 * it accepts parameters declared as an `interface` (which has no index signature); it rejects
 * functions, bigints, symbols and objects with methods (Date, Map, class instances).
 */
export type JsonData<T> = T extends string | number | boolean | null | undefined
  ? T
  : T extends (...args: never) => unknown
    ? never
    : T extends readonly unknown[]
      ? { [I in keyof T]: JsonData<T[I]> }
      : T extends object
        ? { [K in keyof T]: JsonData<T[K]> }
        : never;

export interface GraphDefaults {
  parallelism: number;
  maxParallelism: number;
}

const JOB_DEFINITION = Symbol.for('weir.job-definition');

export interface JobDefinition<P = undefined> {
  readonly [JOB_DEFINITION]: true;
  /** The job module's URL (its `import.meta.url`). */
  readonly moduleUrl: string;
  /** Runs the job's build function on a fresh graph with these parameters and defaults. */
  readonly buildGraph: (params: P, defaults: GraphDefaults) => StreamGraph;
}

/** A job definition whose parameter type is not known (a module loaded by URL). */
export type AnyJobDefinition = JobDefinition<JsonValue | undefined>;

export function jobDefinition<P>(moduleUrl: string, buildGraph: (params: P, defaults: GraphDefaults) => StreamGraph): JobDefinition<P> {
  return { [JOB_DEFINITION]: true, moduleUrl, buildGraph };
}

export function isJobDefinition(value: unknown): value is AnyJobDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_DEFINITION] === true;
}

/** Imports a job module and returns its definition, with an error that says what the module lacks. */
export async function loadJob(moduleUrl: string): Promise<AnyJobDefinition> {
  let mod: { default?: unknown };
  try {
    mod = (await import(moduleUrl)) as { default?: unknown };
  } catch (e) {
    const hint = commonJsScopeHint(moduleUrl);
    if (hint) throw new JobValidationError(`job module ${moduleUrl} could not be loaded: ${hint}`, { cause: e });
    throw e;
  }
  if (!isJobDefinition(mod.default)) {
    const hint = commonJsScopeHint(moduleUrl);
    throw new JobValidationError(`job module ${moduleUrl} must \`export default defineJob(import.meta.url, (env, params) => { ... })\`${hint ? `; ${hint}` : ''}`);
  }
  return mod.default;
}

/**
 * Job modules are ES modules. Node (and tsx) load a `.ts` file as CommonJS unless the nearest
 * package.json says `"type": "module"`, which fails in confusing ways (ERR_REQUIRE_CYCLE_MODULE, or
 * a default export nested one level down). Says so, naming the package.json or its absence.
 */
export function commonJsScopeHint(moduleUrl: string): string | undefined {
  if (!moduleUrl.startsWith('file:')) return undefined;
  const file = fileURLToPath(moduleUrl);
  if (!/\.(ts|tsx|js|jsx)$/.test(file)) return undefined; // .mts/.mjs are ES modules anyway
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      let type: unknown;
      try {
        type = (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type;
      } catch {
        return undefined;
      }
      if (type === 'module') return undefined;
      return `${pkg} does not say "type": "module", so Node loads ${path.basename(file)} as CommonJS; Weir jobs are ES modules: add "type": "module" to it, or name the file .mts`;
    }
    if (path.dirname(dir) === dir) {
      return `no package.json above ${path.dirname(file)} says "type": "module", so Node loads ${path.basename(file)} as CommonJS; Weir jobs are ES modules: put a package.json with {"type": "module"} in the job's folder, or name the file .mts`;
    }
  }
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
