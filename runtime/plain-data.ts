/**
 * Plain data: what Weir keeps in state and carries between workers, because it survives encoding
 * (msgpack with msgpackr's `moreTypes`) unchanged:
 *
 *   undefined, null, booleans, numbers, strings, bigints,
 *   arrays and plain objects ({...} or Object.create(null)) of plain data,
 *   Map and Set of plain data, Date, and typed arrays (Uint8Array, Float64Array, ...; a Node Buffer
 *   is kept as a Uint8Array).
 *
 * Anything else (class instances, functions, symbols, WeakMaps, promises, ...) would come back
 * changed (a class instance as a plain object without its methods, a function as nothing), so it
 * is rejected with the path inside the value and the type found there. A shared basic: state
 * (state/value-serializer.ts) and the exchange (runtime/exchange/batch-codec.ts) use it.
 *
 * Not checked, and changed by encoding: symbol-keyed and non-enumerable properties (dropped),
 * extra properties on arrays (dropped), shared references (become separate copies).
 */
import { WeirError } from './errors.ts';

/** Deeper than this is taken for a cycle (which encoding cannot carry). */
const MAX_DEPTH = 100;

/** A value that is not plain data; `path` is where inside it (`$` is the value itself). */
export class NotPlainDataError extends WeirError {
  private readonly segments: string[] = [];

  constructor(
    /** What was found, e.g. 'an instance of class Point', 'a function'. */
    readonly found: string,
  ) {
    super(found, { domain: 'user' });
  }

  /** `$`, `$.items[3]`, `$.seen<Set element>`... */
  get path(): string {
    return `$${this.segments.join('')}`;
  }

  /** Called while the error unwinds through the containers, innermost first. */
  within(segment: string): this {
    this.segments.unshift(segment);
    this.message = `${this.found} at ${this.path}`;
    return this;
  }
}

const TYPED_ARRAYS: ReadonlySet<unknown> = new Set([
  Uint8Array.prototype,
  Int8Array.prototype,
  Uint16Array.prototype,
  Int16Array.prototype,
  Uint32Array.prototype,
  Int32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
]);

/** Says what a value is, for error messages: 'a function', 'an instance of class Point'. */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'function') return `a function${(v as { name?: string }).name ? ` (${(v as { name: string }).name})` : ''}`;
  if (t === 'symbol') return 'a symbol';
  if (t !== 'object') return `a ${t}`;
  if (Array.isArray(v)) return 'an array';
  const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
  if (proto === Object.prototype || proto === null) return 'a plain object';
  const name = proto?.constructor?.name;
  return name ? `an instance of class ${name}` : 'an object with a custom prototype';
}

function segment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function bad(v: unknown): NotPlainDataError {
  return new NotPlainDataError(describeType(v));
}

function tooDeep(): NotPlainDataError {
  return new NotPlainDataError(`a value nested more than ${MAX_DEPTH} levels deep (a cycle?)`);
}

/**
 * An independent deep copy of `value` (nothing mutable shared with it), or a NotPlainDataError.
 * Primitives are returned as they are, so the common case costs one `typeof`.
 */
export function copyPlainData<T>(value: T): T {
  if (typeof value === 'object') return value === null ? value : (copyObject(value, 0) as T);
  if (typeof value === 'function' || typeof value === 'symbol') throw bad(value);
  return value;
}

function copyValue(v: unknown, depth: number): unknown {
  if (typeof v === 'object') return v === null ? v : copyObject(v, depth);
  if (typeof v === 'function' || typeof v === 'symbol') throw bad(v);
  return v;
}

// Fast paths, measured: a plain object is copied with a native spread and only its object-valued
// fields are visited again (about 3x faster than building it key by key); one try/catch per
// container, not per element (the failing position is known from the loop variable). Every test
// of a type is written `typeof x === '...'`, never through a variable holding `typeof x`: only
// the direct comparison compiles to an inline check (V8's TestTypeOf); the other calls V8's
// Typeof builtin (in Nexmark q19 with heap state, 7% of a task manager thread's samples were in it;
// most of that time went to the checks' own loops instead, q19 within the noise).

function copyObject(v: object, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw tooDeep();
  const d = depth + 1;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    let key = '';
    try {
      for (const k in out) {
        const x = out[k];
        if (typeof x === 'object') {
          if (x !== null) {
            key = k;
            out[k] = copyObject(x, d);
          }
        } else if (typeof x === 'function' || typeof x === 'symbol') {
          key = k;
          throw bad(x);
        }
      }
    } catch (e) {
      throw within(e, segment(key));
    }
    return out;
  }
  if (proto === Array.prototype) {
    const out = (v as unknown[]).slice();
    const n = out.length;
    let i = 0;
    try {
      for (; i < n; i++) {
        const x = out[i];
        if (typeof x === 'object') {
          if (x !== null) out[i] = copyObject(x, d);
        } else if (typeof x === 'function' || typeof x === 'symbol') throw bad(x);
      }
    } catch (e) {
      throw within(e, `[${i}]`);
    }
    return out;
  }
  if (proto === Map.prototype) {
    const out = new Map<unknown, unknown>();
    let k: unknown;
    let atKey = true;
    try {
      for (const [key, x] of v as Map<unknown, unknown>) {
        k = key;
        atKey = true;
        const ck = copyValue(key, d);
        atKey = false;
        out.set(ck, copyValue(x, d));
      }
    } catch (e) {
      throw within(e, atKey ? '<Map key>' : `<Map value of ${describeKey(k)}>`);
    }
    return out;
  }
  if (proto === Set.prototype) {
    const out = new Set<unknown>();
    try {
      for (const x of v as Set<unknown>) out.add(copyValue(x, d));
    } catch (e) {
      throw within(e, '<Set element>');
    }
    return out;
  }
  if (proto === Date.prototype) return new Date((v as Date).getTime());
  if (TYPED_ARRAYS.has(proto)) return (v as Uint8Array).slice();
  if (v instanceof Uint8Array) return new Uint8Array(v); // Buffer: kept as a Uint8Array, as decoding gives it back
  throw bad(v);
}

/** Throws a NotPlainDataError if `value` is not plain data; allocates nothing. */
export function checkPlainData(value: unknown): void {
  if (typeof value === 'object') {
    if (value !== null) checkObject(value, 0);
  } else if (typeof value === 'function' || typeof value === 'symbol') throw bad(value);
}

/**
 * checkPlainData of a value that replaces `previous`, a value checked before and not changed since
 * (a state's own, under a serializer whose users promise not to change values: sharedPlainData).
 * The same value is not walked again, nor an array's elements that `previous` holds at the same
 * index or one off (one inserted or removed before them, as in a top-N list that a new value
 * enters): a list of ten records that gains one walks one record, not eleven.
 */
export function checkPlainDataReplacing(value: unknown, previous: unknown): void {
  if (value === previous) return;
  if (!Array.isArray(previous) || !Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) {
    checkPlainData(value);
    return;
  }
  const n = previous.length;
  let i = 0;
  try {
    for (; i < value.length; i++) {
      const x: unknown = value[i];
      if (typeof x === 'object' && x !== null && ((i < n && previous[i] === x) || (i > 0 && i <= n && previous[i - 1] === x) || (i + 1 < n && previous[i + 1] === x))) continue;
      checkValue(x, 1);
    }
  } catch (e) {
    throw within(e, `[${i}]`);
  }
}

function checkValue(v: unknown, depth: number): void {
  if (typeof v === 'object') {
    if (v !== null) checkObject(v, depth);
  } else if (typeof v === 'function' || typeof v === 'symbol') throw bad(v);
}

function checkObject(v: object, depth: number): void {
  if (depth >= MAX_DEPTH) throw tooDeep();
  const d = depth + 1;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    let key = '';
    try {
      for (const k in v) {
        const x = (v as Record<string, unknown>)[k];
        // Numbers and strings first: most fields are, and they need no further test (a quarter
        // less time a 9-field record than going through checkValue's three tests each).
        if (typeof x === 'number' || typeof x === 'string') continue;
        key = k;
        checkValue(x, d);
      }
    } catch (e) {
      throw within(e, segment(key));
    }
    return;
  }
  if (proto === Array.prototype) {
    const a = v as unknown[];
    let i = 0;
    try {
      for (; i < a.length; i++) {
        const x = a[i];
        if (typeof x === 'number' || typeof x === 'string') continue;
        checkValue(x, d);
      }
    } catch (e) {
      throw within(e, `[${i}]`);
    }
    return;
  }
  if (proto === Map.prototype) {
    let k: unknown;
    let atKey = true;
    try {
      for (const [key, x] of v as Map<unknown, unknown>) {
        k = key;
        atKey = true;
        checkValue(key, d);
        atKey = false;
        checkValue(x, d);
      }
    } catch (e) {
      throw within(e, atKey ? '<Map key>' : `<Map value of ${describeKey(k)}>`);
    }
    return;
  }
  if (proto === Set.prototype) {
    try {
      for (const x of v as Set<unknown>) checkValue(x, d);
    } catch (e) {
      throw within(e, '<Set element>');
    }
    return;
  }
  if (proto === Date.prototype || TYPED_ARRAYS.has(proto) || v instanceof Uint8Array) return;
  throw bad(v);
}

function describeKey(k: unknown): string {
  return typeof k === 'string' ? JSON.stringify(k) : typeof k === 'object' && k !== null ? describeType(k) : String(k);
}

function within(e: unknown, seg: string): unknown {
  return e instanceof NotPlainDataError ? e.within(seg) : e;
}
