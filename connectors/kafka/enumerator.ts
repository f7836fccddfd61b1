/**
 * The Kafka source's enumerator (on the job manager): finds the partitions of the topics (or of every
 * topic matching the pattern), resolves where each starts (startingOffsets, and in bounded mode where
 * it stops), and hands each partition to its owner reader (`ownerOf`). Unbounded, it looks again every
 * `discoveryIntervalMs` and hands out partitions and topics that appeared meanwhile, read from their
 * earliest offset. Its snapshot is the partitions not yet handed out and every partition it knows of,
 * so a restored job neither loses a partition discovered before the checkpoint nor reads one twice.
 */
import type { SplitEnumerator, SplitEnumeratorContext } from '../../runtime/source/contract.ts';
import { OwnedSplitEnumerator, type OwnedSplitsState } from '../../runtime/source/owned-split-enumerator.ts';
import type { KafkaMetadataClient } from './client.ts';
import { KafkaNoStartingOffsetError } from './errors.ts';
import type { OffsetReset, ResolvedSourceOptions, StartingOffsets } from './source-options.ts';
import { ownerOf, splitId, type KafkaPartitionSplit } from './split.ts';

export interface KafkaEnumeratorState extends OwnedSplitsState<KafkaPartitionSplit> {
  /** Ids of every partition ever found (assigned or pending). */
  known: string[];
  /** The first discovery ran: later partitions start at their earliest offset. */
  initialDiscoveryDone: boolean;
}

export const INITIAL_ENUMERATOR_STATE: KafkaEnumeratorState = { pending: [], discoveryFinished: false, known: [], initialDiscoveryDone: false };

type Settings = Pick<ResolvedSourceOptions, 'topics' | 'pattern' | 'groupId' | 'startingOffsets' | 'offsetReset' | 'bounded' | 'discoveryIntervalMs'>;

/** The offset each of `partitions` starts at under `spec`. */
export async function resolveStartingOffsets(
  client: KafkaMetadataClient,
  topic: string,
  partitions: readonly number[],
  spec: StartingOffsets,
  reset: OffsetReset,
  groupId: string | undefined,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  let ranges: Map<number, { earliest: number; latest: number }> | undefined;
  const range = async (p: number) => {
    ranges ??= new Map((await client.ranges(topic)).map((r) => [r.partition, r]));
    return ranges.get(p) ?? { earliest: 0, latest: 0 };
  };
  const fallback = async (p: number, why: string) => {
    if (reset === 'none') throw new KafkaNoStartingOffsetError(topic, p, why);
    const r = await range(p);
    return reset === 'earliest' ? r.earliest : r.latest;
  };
  if (spec === 'earliest' || spec === 'latest') {
    for (const p of partitions) {
      const r = await range(p);
      out.set(p, spec === 'earliest' ? r.earliest : r.latest);
    }
  } else if (spec === 'committed') {
    const committed = await client.committedOffsets(groupId!, topic);
    for (const p of partitions) out.set(p, committed.get(p) ?? (await fallback(p, `no committed offset in group '${groupId}'`)));
  } else if ('timestamp' in spec) {
    const byTime = await client.offsetsForTimestamp(topic, spec.timestamp);
    for (const p of partitions) out.set(p, byTime.get(p) ?? (await range(p)).latest);
  } else {
    const explicit = spec.offsets[topic] ?? {};
    for (const p of partitions) out.set(p, explicit[p] ?? (await fallback(p, 'no offset in startingOffsets.offsets')));
  }
  return out;
}

interface Discovery {
  splits: KafkaPartitionSplit[];
}

export class KafkaSplitEnumerator implements SplitEnumerator<KafkaPartitionSplit, KafkaEnumeratorState> {
  private readonly owned: OwnedSplitEnumerator<KafkaPartitionSplit>;
  private readonly known: Set<string>;
  private initialDiscoveryDone: boolean;
  private discovering = false;
  private client: KafkaMetadataClient | undefined;

  constructor(
    private readonly ctx: SplitEnumeratorContext<KafkaPartitionSplit>,
    private readonly settings: Settings,
    private readonly createClient: () => KafkaMetadataClient,
    state: KafkaEnumeratorState,
  ) {
    this.owned = new OwnedSplitEnumerator(ctx, ownerOf, state);
    this.known = new Set(state.known);
    this.initialDiscoveryDone = state.initialDiscoveryDone;
  }

  start(): void {
    if (this.settings.bounded && this.initialDiscoveryDone) return; // restored: everything was found before
    const periodic = !this.settings.bounded && this.settings.discoveryIntervalMs > 0;
    this.ctx.callAsync(
      () => this.discover(),
      (d) => this.handle(d),
      periodic ? this.settings.discoveryIntervalMs : undefined,
    );
  }

  /** Off the enumerator's calls: finds partitions not known yet and where they start. */
  async discover(): Promise<Discovery | undefined> {
    if (this.discovering) return undefined; // the previous round is still running
    this.discovering = true;
    try {
      const client = (this.client ??= this.createClient());
      const topics = this.settings.topics ?? (await client.listTopics()).filter((t) => this.settings.pattern!.test(t)).sort();
      const partitions = await client.partitions(topics);
      const splits: KafkaPartitionSplit[] = [];
      const initial = !this.initialDiscoveryDone;
      for (const [topic, ps] of partitions) {
        const fresh = ps.filter((p) => !this.known.has(splitId(topic, p)));
        if (fresh.length === 0) continue;
        const spec: StartingOffsets = initial ? this.settings.startingOffsets : 'earliest';
        const starts = await resolveStartingOffsets(client, topic, fresh, spec, this.settings.offsetReset, this.settings.groupId);
        const stops = this.settings.bounded ? new Map((await client.ranges(topic)).map((r) => [r.partition, r.latest])) : undefined;
        for (const p of fresh) {
          const split: KafkaPartitionSplit = { id: splitId(topic, p), topic, partition: p, offset: starts.get(p)! };
          if (stops) split.stoppingOffset = stops.get(p) ?? 0;
          splits.push(split);
        }
      }
      return { splits };
    } finally {
      this.discovering = false;
    }
  }

  /** On the job manager: hands the new partitions out. */
  handle(d: Discovery | undefined): void {
    if (!d) return;
    const fresh = d.splits.filter((s) => !this.known.has(s.id));
    for (const s of fresh) this.known.add(s.id);
    this.initialDiscoveryDone = true;
    if (fresh.length > 0) this.owned.addSplits(fresh);
    if (this.settings.bounded) this.owned.finishDiscovery();
  }

  addReader(subtask: number): void {
    this.owned.addReader(subtask);
  }

  handleSplitRequest(subtask: number): void {
    this.owned.handleSplitRequest(subtask);
  }

  addSplitsBack(splits: readonly KafkaPartitionSplit[], subtask: number): void {
    this.owned.addSplitsBack(splits, subtask);
  }

  snapshotState(): KafkaEnumeratorState {
    return { ...this.owned.snapshotState(), known: [...this.known], initialDiscoveryDone: this.initialDiscoveryDone };
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}
