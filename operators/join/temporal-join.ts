/**
 * Event-time temporal join against a versioned dimension table (Flink's
 * `TemporalRowTimeJoinOperator`, `FOR SYSTEM_TIME AS OF fact.time`). Input 0 are facts; input 1 is
 * the dimension table's changelog (e.g. the CDC of `rooms`), each change stamped with the event time
 * from which it is valid. Each fact joins the version of its key that was valid at the fact's time:
 * the latest +I/+U at or before it, unless a -D came after that (-U is ignored: the +U after it
 * carries the new version).
 *
 * Why facts wait: a fact at time t can only be joined once every dimension change up to t has
 * arrived. The operator's watermark is the minimum over both inputs, so the fact is joined exactly
 * when the watermark passes t; until then it waits in memory, and from the first checkpoint barrier
 * it waits across also in keyed state (held-fact-log.ts). A dimension update that races its facts
 * therefore never misattributes them, and facts are never lost: they are state, and so is
 * the table, which survives restarts and rescaling with the checkpoint (LMDB for big tables).
 *
 * Cleanup: once the watermark passes T, only the latest version at or before T can still be needed
 * (later facts are after T). Older versions are dropped when facts of the key are joined and by a
 * timer at the time of each update (+U) or deletion (-D); an insert (+I) is taken as the key's first
 * version and registers none, so loading a table costs one write per row. (A changelog that inserts
 * a key twice without a deletion between keeps the older version until the key's next update,
 * deletion or fact.) A deleted key disappears. If the dimension stream goes quiet, give its source idleness
 * (`withIdleness`) so it does not hold facts back forever.
 *
 * Facts behind the watermark on arrival are late (their versions may be gone): counted and sent to
 * the late side output. Dimension changes behind the watermark still update the table for facts
 * yet to come and are counted as `late-dimension-changes`.
 */
import type { KeySelector } from '../functions.ts';
import { BadRecordError, ConfigError, describeRecord, userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { mapState, valueState } from '../../state/descriptors.ts';
import type { MapState, ValueState } from '../../state/handles.ts';
import { sharedPlainData } from '../../state/value-serializer.ts';
import { copyPlainData } from '../../runtime/plain-data.ts';
import type { Change } from '../changelog.ts';
import type { Operator, OperatorContext, Output, OutputTag } from '../operator.ts';
import { HeldFactLog } from './held-fact-log.ts';
import { HeldFacts } from './held-facts.ts';
import { JoinKeys, LateRecords, requireKeyedState, requireTime, type LateRecord } from './join-keys.ts';

export interface TemporalJoinSpec<F, D, O> {
  /** inner: facts without a valid version are dropped (counted); left: joined with null. */
  kind: 'inner' | 'left';
  join(fact: F, dimension: D | null): O;
  lateOutput?: OutputTag<LateRecord<F, Change<D>>>;
}

const FACT_TIMER = 'f';
/**
 * Facts held in memory at most, across barriers (the rest wait in keyed state with a timer each,
 * as all did before); like the interval join's queued cleanups, a bound on memory when the
 * watermark stalls. A restore holds every fact of the log however many (a rescale that merges
 * subtasks may hold more).
 */
export const MAX_HELD_FACTS = 1 << 18;
/** Facts and timers fired between two yields to the event loop in one watermark step. */
export const FIRE_SLICE = 16_384;
/** Where versions were kept before (a map per key by valid-from time); migrated at open. */
const LEGACY_VERSIONS = 'temporal-join-versions';
const VERSION_TIMER = 'v';

/**
 * A key's versions of its dimension row, by valid-from time (ascending, distinct), as one flat
 * array `[t0, row0, t1, row1, ...]`; a null row is a deletion. One value per key, not a map per
 * key: nearly every key has one version, and a fact reads the key's versions as one point read
 * (one cache entry, one LMDB get on a miss) instead of loading a map (a cached map, a range scan
 * and its user keys). Flat rather than `{t: [...], rows: [...]}` (the layout before, still read):
 * loading a table allocates, checks and encodes one array per row instead of an object and two
 * arrays, and msgpack writes no field names for it.
 */
export type Versions<D> = (number | D | null)[];

/** The layout before Versions (still read from restored state). */
interface VersionColumns<D> {
  t: number[];
  rows: (D | null)[];
}

/** Versions as stored, in either layout. */
type StoredVersions<D> = Versions<D> | VersionColumns<D>;

function flat<D>(v: StoredVersions<D>): Versions<D> {
  if (Array.isArray(v)) return v;
  const out: Versions<D> = [];
  for (let i = 0; i < v.t.length; i++) out.push(v.t[i]!, v.rows[i]!);
  return out;
}

/**
 * `v` with the version valid from `t` added (or replaced), ordered by time. A new value: the
 * state shares its values (sharedPlainData), so a value read from it is never changed in place.
 */
function withVersion<D>(v: Versions<D>, t: number, row: D | null): Versions<D> {
  let i = v.length;
  while (i > 0 && (v[i - 2] as number) > t) i -= 2;
  const out = v.slice();
  if (i > 0 && v[i - 2] === t) out[i - 1] = row;
  else out.splice(i, 0, t, row);
  return out;
}

export class TemporalJoinOperator<F, D, O> implements Operator<unknown, O> {
  private backend!: KeyedStateBackend;
  private keys!: JoinKeys;
  private ctx!: OperatorContext<O>;
  private out!: Output<O>;
  private late!: LateRecords<F, Change<D>>;
  /** Facts waiting for the watermark in memory, between barriers (see snapshotState). */
  private readonly held = new HeldFacts<F>();
  /** The held facts' copy in keyed state, written at barriers (see snapshotState). */
  private log!: HeldFactLog<F>;
  /** Facts waiting for the watermark in keyed state (restored, or past MAX_HELD_FACTS), by event time. */
  private facts!: MapState<number, F[]>;
  /** Versions of the key's dimension row by valid-from time. */
  private versions!: ValueState<StoredVersions<D>>;
  /** The version valid at the time of the last `dropVersionsBefore` (null: none, or deleted). */
  private validAt: D | null = null;

  constructor(
    readonly name: string,
    private readonly spec: TemporalJoinSpec<F, D, O>,
    /** Key selectors of the fact and of the dimension change record. */
    private readonly keySelectors: readonly KeySelector<unknown>[],
    /** Facts held in memory at most (tests lower it). */
    private readonly maxHeldFacts = MAX_HELD_FACTS,
  ) {
    if (spec.kind !== 'inner' && spec.kind !== 'left') {
      throw new ConfigError('temporalJoin.kind', `'${String(spec.kind)}' is not supported: use 'inner' or 'left'`);
    }
  }

  open(ctx: OperatorContext<O>): void {
    this.ctx = ctx;
    this.out = ctx.output;
    this.backend = requireKeyedState(this.name, ctx as OperatorContext<unknown>);
    this.keys = new JoinKeys(this.name, this.backend, this.keySelectors);
    this.late = new LateRecords(ctx as OperatorContext<unknown>, this.spec.lateOutput);
    this.facts = this.backend.getMapState(mapState<number, F[]>('temporal-join-facts'));
    // Shared, not copied in and out: the operator never changes a value it read or wrote (it writes
    // new ones), and copies the version it hands to the join function.
    this.versions = this.backend.getValueState(valueState<StoredVersions<D>>('temporal-join-dimension', { serializer: sharedPlainData() }));
    this.migrateVersionMaps();
    this.log = new HeldFactLog<F>(this.backend);
    this.log.restore((t, key, keyGroup, fact) => this.held.push(t, key, keyGroup, fact));
  }

  /**
   * State restored from before versions were one value per key holds them as a map per key
   * (`temporal-join-versions`): moved into the value state once, at open (a fresh start scans an
   * empty state).
   */
  private migrateVersionMaps(): void {
    const { backend } = this;
    const keys = [...backend.keys(LEGACY_VERSIONS)];
    if (keys.length === 0) return;
    const legacy = backend.getMapState(mapState<number, D | null>(LEGACY_VERSIONS));
    for (const [key, keyGroup] of keys) {
      backend.setCurrentKey(key, keyGroup);
      const versions: Versions<D> = [];
      for (const [t, row] of legacy.entries()) versions.push(t, row);
      if (versions.length > 0) this.versions.update(versions);
      legacy.clear();
    }
  }

  processBatch(values: readonly unknown[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const watermark = this.ctx.currentWatermark();
    const { backend } = this;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const t = requireTime(this.name, times[i]!, v, input);
      if (input === 0) {
        if (t <= watermark) {
          this.late.add(v, t, 0);
          continue;
        }
        const key = this.keys.set(v, 0, keyGroups?.[i], keyHashes?.[i]);
        if (this.held.size < this.maxHeldFacts) this.log.add(this.held.push(t, key, backend.currentKeyGroup(), v as F), this.held.size, watermark);
        else this.holdInState(t, v as F);
        continue;
      }
      const change = v as Change<D>;
      if (change === null || typeof change !== 'object' || typeof change.kind !== 'string') {
        throw new BadRecordError(`temporal join '${this.name}': the dimension input must carry {kind, row} changes`, describeRecord(v));
      }
      if (change.kind === '-U') continue;
      this.keys.set(change, 1, keyGroups?.[i], keyHashes?.[i]);
      if (t <= watermark) this.ctx.metrics.count('late-dimension-changes');
      const row = change.kind === '-D' ? null : change.row;
      const versions = this.versions.value();
      this.versions.update(versions === undefined ? [t, row] : withVersion(flat(versions), t, row));
      // An update (+U) makes the versions before it obsolete once the watermark passes it, and a
      // deletion the whole key; an insert (+I) is a key's first version, so it needs no cleanup
      // timer (loading a table registers none, and reads nothing).
      if (change.kind !== '+I') backend.timers.register('event', t, backend.currentKey(), backend.currentKeyGroup(), VERSION_TIMER);
    }
  }

  /** The current key's fact at `t` waits in keyed state, with a timer (past MAX_HELD_FACTS). */
  private holdInState(t: number, fact: F): void {
    const bucket = this.facts.get(t);
    if (bucket === undefined) {
      const b = this.backend;
      this.facts.put(t, [fact]);
      b.timers.register('event', t, b.currentKey(), b.currentKeyGroup(), FACT_TIMER);
    } else {
      // State hands out copies: the bucket read is ours to change and put back.
      bucket.push(fact);
      this.facts.put(t, bucket);
    }
  }

  /**
   * Joins the facts and runs the cleanups the watermark passed, in time order across the facts
   * held in memory and the timers (facts in state, version cleanups): a key's versions must be
   * cut at a time only after every fact before it was joined. Works in slices of FIRE_SLICE,
   * yielding to the event loop between them, so a large backlog (facts held while the
   * dimension table loads) does not block the task manager's thread, heartbeats included, for
   * the whole step. Nothing else runs in the task meanwhile: its loop awaits this step.
   */
  processWatermark(watermark: number): void | Promise<void> {
    if (this.fireSlice(watermark)) return this.fireRest(watermark);
  }

  private async fireRest(watermark: number): Promise<void> {
    do await yieldToEventLoop();
    while (this.fireSlice(watermark));
  }

  /** Fires up to about FIRE_SLICE due facts and timers; true if more are due. */
  private fireSlice(watermark: number): boolean {
    const { backend, held } = this;
    const timers = backend.timers;
    let budget = FIRE_SLICE;
    // Handlers register no timers, so the earliest one changes only when timers are polled.
    let nextTimer = timers.peekEarliest('event');
    for (;;) {
      const timerFirst = nextTimer !== undefined && (held.size === 0 || nextTimer <= held.earliest());
      if (timerFirst ? nextTimer! > watermark : held.size === 0 || held.earliest() > watermark) return false;
      if (budget-- <= 0) return true;
      if (timerFirst) {
        const t = timers.pollNext('event', nextTimer!)!;
        backend.setCurrentKey(t.key, t.keyGroup);
        this.onTime(t.time, t.namespace === FACT_TIMER);
        nextTimer = timers.peekEarliest('event');
        continue;
      }
      const f = held.pop()!;
      backend.setCurrentKey(f.key, f.keyGroup);
      this.dropVersionsBefore(f.time);
      this.joinFact(f.fact, f.time, this.validAt);
    }
  }

  /**
   * The barrier: the facts held in memory that arrived since the last barrier are written to keyed
   * state, a chunk per key group (HeldFactLog), and stay in memory: a fact is written once however
   * many barriers it waits across, with no timer, and one joined before the next barrier is never
   * written. A restore, at any parallelism and into either backend, holds the facts of the log
   * that were not yet joined (the watermark at the barrier says which).
   */
  snapshotState(): void {
    this.log.persist(this.ctx.currentWatermark());
  }

  /**
   * The watermark passed `time` for the current key: join the facts of that time with the version
   * valid then, and keep only what facts after `time` can need: the latest version at or before it
   * (unless it is a deletion) and later ones. One scan of the versions does both.
   */
  private onTime(time: number, hasFacts: boolean): void {
    this.dropVersionsBefore(time);
    if (hasFacts) this.joinFacts(time, this.validAt);
  }

  /**
   * Keeps only what facts after `time` can need: the latest version at or before it (unless it is
   * a deletion) and later ones; sets `validAt` to that version.
   */
  private dropVersionsBefore(time: number): void {
    const stored = this.versions.value();
    if (stored === undefined) {
      this.validAt = null;
      return;
    }
    const versions = flat(stored);
    // The latest version at or before `time` (index of its time): versions before it are no longer needed.
    let latest = -2;
    while (latest + 2 < versions.length && (versions[latest + 2] as number) <= time) latest += 2;
    const version = latest >= 0 ? (versions[latest + 1] as D | null) : null;
    // A deletion as the latest goes too.
    const drop = version === null ? latest + 2 : latest;
    if (drop > 0) {
      if (drop === versions.length) this.versions.clear();
      else this.versions.update(versions.slice(drop));
    } else if (versions !== stored) {
      this.versions.update(versions);
    }
    this.validAt = version;
  }

  /** The current key's facts of `time` held in state. */
  private joinFacts(time: number, version: D | null): void {
    const facts = this.facts.get(time);
    if (facts === undefined) return;
    this.facts.remove(time);
    for (let j = 0; j < facts.length; j++) this.joinFact(facts[j]!, time, version);
  }

  private joinFact(fact: F, time: number, version: D | null): void {
    if (version === null && this.spec.kind === 'inner') {
      this.ctx.metrics.count('facts-without-version');
      return;
    }
    let o: O;
    try {
      o = this.spec.join(fact, version === null ? null : copyPlainData(version));
    } catch (e) {
      throw userFunctionError(this.name, { fact, dimension: version }, e);
    }
    this.out.emit(o, time);
  }
}
