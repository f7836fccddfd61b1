/**
 * The temporal join's held facts in keyed state, written incrementally at barriers: a log per key
 * group (MapState `temporal-join-held` under one key per key group), one chunk per barrier holding
 * the facts of that key group that arrived since the previous barrier and were still waiting, and
 * the operator's watermark at the barrier (entry -1) once some chunk holds facts at or before it.
 *
 * Why a log and not a bucket per (key, time) with a timer, as facts waited before: the facts stay
 * in memory after the barrier (HeldFacts fires them), so state only has to let a restore find the
 * ones not yet joined. A fact is written once, at the first barrier it waits across, in a chunk
 * with the others of its key group (one map entry per key group and barrier, not one per fact,
 * and no timer); facts that arrive and are joined between two barriers are never written. A
 * chunk is removed at the first barrier after the watermark passed its last fact. Which facts of
 * a chunk are already joined the watermark says: a fact is joined exactly when the operator's
 * watermark passes its time (a barrier never comes in the middle of a watermark step), so on
 * restore the facts after the key group's stored watermark are the ones still waiting.
 * Rescaling and savepoints work as for any keyed state: a key group's log moves with it.
 */
import type { KeyedStateBackend } from '../../state/backend.ts';
import { mapState } from '../../state/descriptors.ts';
import type { MapState } from '../../state/handles.ts';
import type { StateKey } from '../../state/key-groups.ts';
import { sharedPlainData } from '../../state/value-serializer.ts';
import type { HeldFact } from './held-facts.ts';

export const HELD_LOG = 'temporal-join-held';
/**
 * The log's key in key group `kg`: the key group's number (the key group, not the key, places
 * it; the key must still differ between key groups, since the LMDB backend caches entries by key).
 */
const logKey = (kg: number): number => kg;
/** The log entry holding the watermark at the last barrier (chunks are numbered from 0). */
const WATERMARK_ENTRY = -1;

/** Facts of one key group that arrived between two barriers, in arrival order (columns). */
interface LogChunk<F> {
  t: number[];
  k: StateKey[];
  f: F[];
}

type LogEntry<F> = LogChunk<F> | number;

/** A chunk in state: its number and the earliest and latest time of its facts. */
interface ChunkInfo {
  id: number;
  minT: number;
  maxT: number;
}

interface GroupLog {
  chunks: ChunkInfo[];
  /** The watermark stored in the key group's log (-Infinity: none). */
  written: number;
}

export class HeldFactLog<F> {
  private readonly state: MapState<number, LogEntry<F>>;
  /** Facts held since the last barrier, in arrival order: written at the next one unless joined by then. */
  private unsaved: HeldFact<F>[] = [];
  /** Key groups with chunks in state. */
  private readonly groups = new Map<number, GroupLog>();
  private nextId = 0;

  constructor(private readonly backend: KeyedStateBackend) {
    // Shared: a chunk is built at the barrier and never changed; the facts in it are the ones held
    // in memory, which the operator does not change either.
    this.state = backend.getMapState(mapState<number, LogEntry<F>>(HELD_LOG, { serializer: sharedPlainData() }));
  }

  /**
   * A fact the operator now holds in memory. `held` facts are waiting, `watermark` the operator's:
   * without barriers the list would grow forever, so facts already joined (at or before the
   * watermark) are dropped from it whenever it is more than twice as long as what is held.
   */
  add(f: HeldFact<F>, held: number, watermark: number): void {
    const u = this.unsaved;
    u.push(f);
    if (u.length > 2 * held + 4096) this.unsaved = u.filter((x) => x.time > watermark);
  }

  /**
   * The barrier: a chunk per key group for the facts that arrived since the last one and still wait
   * (after `watermark`), the chunks whose facts were all joined removed, and the watermark stored
   * where a chunk holds facts at or before it. Leaves the backend's current key changed.
   */
  persist(watermark: number): void {
    const { backend, state } = this;
    const byGroup = new Map<number, LogChunk<F>>();
    for (const f of this.unsaved) {
      if (f.time <= watermark) continue;
      let c = byGroup.get(f.keyGroup);
      if (c === undefined) byGroup.set(f.keyGroup, (c = { t: [], k: [], f: [] }));
      c.t.push(f.time);
      c.k.push(f.key);
      c.f.push(f.fact);
    }
    this.unsaved = [];
    for (const [kg, c] of byGroup) {
      backend.setCurrentKey(logKey(kg), kg);
      const id = this.nextId++;
      state.put(id, c);
      let group = this.groups.get(kg);
      if (group === undefined) this.groups.set(kg, (group = { chunks: [], written: -Infinity }));
      group.chunks.push(chunkInfo(id, c.t));
    }
    for (const [kg, group] of this.groups) {
      // After a restore the watermark starts over: what the log says was joined stays joined.
      const w = Math.max(watermark, group.written);
      const joined = group.chunks.some((c) => c.maxT <= w);
      const needsWatermark = w > group.written && group.chunks.some((c) => c.minT <= w && c.maxT > w);
      if (!joined && !needsWatermark) continue;
      backend.setCurrentKey(logKey(kg), kg);
      const left = joined ? group.chunks.filter((c) => c.maxT > w) : group.chunks;
      if (left.length === 0) {
        this.groups.delete(kg);
        state.clear();
        continue;
      }
      if (joined) for (const c of group.chunks) if (c.maxT <= w) state.remove(c.id);
      group.chunks = left;
      if (needsWatermark) {
        state.put(WATERMARK_ENTRY, w);
        group.written = w;
      }
    }
  }

  /**
   * After a restore: calls `hold` for every fact of the logs of this subtask's key groups that was
   * not yet joined, in arrival order per key group, and remembers the chunks (they stay in state
   * until the watermark passes them). Leaves the backend's current key changed.
   */
  restore(hold: (time: number, key: StateKey, keyGroup: number, fact: F) => void): void {
    const { backend, state } = this;
    for (const [key, kg] of [...backend.keys(HELD_LOG)]) {
      backend.setCurrentKey(key, kg);
      let written = -Infinity;
      const chunks: [number, LogChunk<F>][] = [];
      for (const [id, entry] of state.entries()) {
        if (id === WATERMARK_ENTRY) written = entry as number;
        else chunks.push([id, entry as LogChunk<F>]);
      }
      chunks.sort((a, b) => a[0] - b[0]);
      const group: GroupLog = { chunks: [], written };
      for (const [id, c] of chunks) {
        for (let i = 0; i < c.t.length; i++) if (c.t[i]! > written) hold(c.t[i]!, c.k[i]!, kg, c.f[i]!);
        group.chunks.push(chunkInfo(id, c.t));
        this.nextId = Math.max(this.nextId, id + 1);
      }
      if (group.chunks.length > 0) this.groups.set(kg, group);
    }
  }
}

function chunkInfo(id: number, times: readonly number[]): ChunkInfo {
  let minT = Infinity;
  let maxT = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t < minT) minT = t;
    if (t > maxT) maxT = t;
  }
  return { id, minT, maxT };
}
