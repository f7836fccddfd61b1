/**
 * A keyed state backend wrapper that counts the values its map and value states hand out, per
 * state name: the work an operator does reading state, for tests that bound it per record (a
 * count, not a timing). Keys iterated without their values (`MapState.keys()`) are not counted.
 * With `writes`, it also counts their writes (put, remove, update, clear) per state name.
 */
import type { KeyedStateBackend, MapState, MapStateDescriptor, StateKey, ValueState, ValueStateDescriptor } from '../../state/index.ts';

export class StateReads {
  readonly values = new Map<string, number>();
  of(state: string): number {
    return this.values.get(state) ?? 0;
  }
  reset(): void {
    this.values.clear();
  }
  note(state: string, n = 1): void {
    this.values.set(state, this.of(state) + n);
  }
}

export function countingState(reads: StateReads, writes = new StateReads()): (backend: KeyedStateBackend) => KeyedStateBackend {
  return (backend) =>
    new Proxy(backend, {
      get(target, prop) {
        if (prop === 'getMapState') {
          return <UK extends StateKey, UV>(d: MapStateDescriptor<UK, UV>): MapState<UK, UV> => countMap(target.getMapState(d), d.name, reads, writes);
        }
        if (prop === 'getValueState') {
          return <T>(d: ValueStateDescriptor<T>): ValueState<T> => countValue(target.getValueState(d), d.name, reads, writes);
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
}

function countMap<UK extends StateKey, UV>(m: MapState<UK, UV>, name: string, reads: StateReads, writes: StateReads): MapState<UK, UV> {
  return {
    get: (k) => {
      const v = m.get(k);
      if (v !== undefined) reads.note(name);
      return v;
    },
    put: (k, v) => {
      writes.note(name);
      m.put(k, v);
    },
    remove: (k) => {
      writes.note(name);
      m.remove(k);
    },
    contains: (k) => m.contains(k),
    entries: function* () {
      for (const e of m.entries()) {
        reads.note(name);
        yield e;
      }
    },
    keys: () => m.keys(),
    isEmpty: () => m.isEmpty(),
    clear: () => {
      writes.note(name);
      m.clear();
    },
  };
}

function countValue<T>(s: ValueState<T>, name: string, reads: StateReads, writes: StateReads): ValueState<T> {
  return {
    value: () => {
      const v = s.value();
      if (v !== undefined) reads.note(name);
      return v;
    },
    update: (v) => {
      writes.note(name);
      s.update(v);
    },
    clear: () => {
      writes.note(name);
      s.clear();
    },
  };
}

/** Counts the timers registered with `backend` from now on (wraps its timer service's `register`). */
export function countTimerRegistrations(backend: KeyedStateBackend): { n: number } {
  const c = { n: 0 };
  const timers = backend.timers;
  const register = timers.register.bind(timers);
  timers.register = (...args) => {
    c.n++;
    register(...args);
  };
  return c;
}
