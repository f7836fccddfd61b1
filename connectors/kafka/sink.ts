/**
 * `kafkaSink`: writes records to Kafka topics.
 *
 *   at-least-once   records are sent in the background as they come, and every checkpoint barrier
 *                   waits until all sent records are acknowledged (acks=all): a record the checkpoint
 *                   covers is in Kafka; after a failure, records since the checkpoint are sent again.
 *   exactly-once    each checkpoint's records go into a Kafka transaction with the id
 *                   `<prefix>-<subtask>-<checkpoint>`, flushed at the barrier (pre-commit) and
 *                   committed when the checkpoint completes (Sink V2 committer beside the writer). After
 *                   a restore the restored checkpoint's transactions are committed (by producer id and
 *                   epoch, see transactions.ts) and later ones aborted. Consumers must read with
 *                   isolation.level=read_committed. See README.md for what is and is not guaranteed.
 *   none            sent in the background, never waited for.
 */
import { Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Sink } from '../../runtime/api/sink.ts';
import { ConfigError } from '../../runtime/errors.ts';
import type { SinkWriter } from '../../runtime/sink/contract.ts';
import { twoPhaseCommitSink, type TransactionContext, type TransactionalBackend } from '../two-phase-commit.ts';
import { kafkaConfig, type KafkaConnectionOptions } from './client.ts';
import { KafkaError, KafkaTopicNotFoundError, KafkaUnreachableError, causeText } from './errors.ts';
import { KafkaTransaction, fenceTransactionalId, resumeCommit, type OutgoingMessage, type TransactionHandle } from './transactions.ts';

export type DeliveryGuarantee = 'none' | 'at-least-once' | 'exactly-once';

export interface KafkaSinkOptions<T> extends KafkaConnectionOptions {
  /** The topic every record goes to (or topicSelector). */
  topic?: string;
  /** The topic of each record. */
  topicSelector?: (value: T) => string;
  /** The record's key (default none). */
  key?: (value: T) => string | Buffer | null;
  /** The record's value (default: JSON of the record). */
  value?: (value: T) => string | Buffer | null;
  /** The partition of each record (default: kafkajs' default partitioner, murmur2 of the key as in Java's client). */
  partitioner?: (value: T) => number;
  headers?: (value: T) => Record<string, string | Buffer>;
  /** Default 'at-least-once'. */
  deliveryGuarantee?: DeliveryGuarantee;
  /** Exactly-once: the prefix of transactional ids; unique per job writing to the same cluster (required). */
  transactionalIdPrefix?: string;
  /** Exactly-once: how long the broker keeps a transaction open (ms, default 60000); longer than a checkpoint interval plus a restart. */
  transactionTimeoutMs?: number;
  /** Records per produce request (default 1000). */
  batchSize?: number;
  name?: string;
}

interface Settings<T> {
  connection: KafkaConnectionOptions;
  toMessage: (value: T) => { topic: string; message: OutgoingMessage };
  guarantee: DeliveryGuarantee;
  prefix: string;
  timeoutMs: number;
  batchSize: number;
}

function resolveSinkOptions<T>(o: KafkaSinkOptions<T>): Settings<T> {
  if (!Array.isArray(o.brokers) || o.brokers.length === 0) throw new ConfigError('kafka sink.brokers', 'must list at least one broker (host:port)');
  if ((o.topic === undefined) === (o.topicSelector === undefined)) throw new ConfigError('kafka sink', 'set exactly one of topic and topicSelector');
  const guarantee = o.deliveryGuarantee ?? 'at-least-once';
  if (!['none', 'at-least-once', 'exactly-once'].includes(guarantee)) throw new ConfigError('kafka sink.deliveryGuarantee', `is ${JSON.stringify(guarantee)}; valid: none, at-least-once, exactly-once`);
  if (guarantee === 'exactly-once' && !o.transactionalIdPrefix) throw new ConfigError('kafka sink.transactionalIdPrefix', 'is required with exactly-once (unique per job writing to this cluster)');
  const topicOf = o.topicSelector ?? (() => o.topic!);
  const valueOf = o.value ?? ((v: T) => JSON.stringify(v));
  const { key, partitioner, headers } = o;
  return {
    connection: { brokers: o.brokers, clientId: o.clientId, connectionTimeoutMs: o.connectionTimeoutMs, requestTimeoutMs: o.requestTimeoutMs, retries: o.retries, logLevel: o.logLevel },
    toMessage: (v) => {
      const message: OutgoingMessage = { value: valueOf(v) };
      if (key) message.key = key(v);
      if (partitioner) message.partition = partitioner(v);
      if (headers) message.headers = headers(v);
      return { topic: topicOf(v), message };
    },
    guarantee,
    prefix: o.transactionalIdPrefix ?? '',
    timeoutMs: o.transactionTimeoutMs ?? 60000,
    batchSize: o.batchSize ?? 1000,
  };
}

function isUnknownTopic(e: unknown): boolean {
  for (let x = e as { type?: string; cause?: unknown; message?: string } | undefined; x; x = x.cause as typeof x) {
    if (x.type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic/.test(x.message ?? '')) return true;
  }
  return false;
}

type SendBatch = (topicMessages: { topic: string; messages: OutgoingMessage[] }[]) => Promise<unknown>;

/**
 * Records waiting to be sent, sent one request at a time in the background (in order: an idempotent
 * or transactional producer needs one request in flight). `write` waits only when too much is queued.
 */
export class SendQueue<T> {
  private queued: { topic: string; message: OutgoingMessage }[] = [];
  private sending: Promise<void> | undefined;
  private failure: Error | undefined;
  private lastTopics: string[] = [];

  constructor(
    private readonly send: SendBatch,
    private readonly toMessage: (value: T) => { topic: string; message: OutgoingMessage },
    private readonly batchSize: number,
    private readonly describe: string,
    private readonly brokers: readonly string[] = [],
  ) {}

  write(values: readonly T[]): Promise<void> | void {
    if (this.failure) throw this.failure;
    for (const v of values) this.queued.push(this.toMessage(v));
    this.sending ??= this.drain();
    if (this.queued.length > this.batchSize * 10) return this.sending;
  }

  /** Resolves when every queued record is acknowledged; throws the first send failure. */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.length > 0 && !this.failure) {
        const chunk = this.queued.splice(0, this.batchSize);
        const byTopic = new Map<string, OutgoingMessage[]>();
        for (const { topic, message } of chunk) {
          let list = byTopic.get(topic);
          if (!list) byTopic.set(topic, (list = []));
          list.push(message);
        }
        this.lastTopics = [...byTopic.keys()];
        await this.send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      }
    } catch (e) {
      this.failure = isUnknownTopic(e)
        ? new KafkaTopicNotFoundError(this.lastTopics.join(', '), this.brokers)
        : new KafkaError(`writing to Kafka (${this.describe}) failed: ${causeText(e)}`, { cause: e });
    } finally {
      this.sending = undefined;
    }
  }
}

/** at-least-once and none: one kafkajs producer per writer. */
class NonTransactionalWriter<T> implements SinkWriter<T, never> {
  private constructor(
    private readonly producer: Producer,
    private readonly queue: SendQueue<T>,
    private readonly waitAtBarrier: boolean,
  ) {}

  static async create<T>(s: Settings<T>): Promise<NonTransactionalWriter<T>> {
    const producer = new Kafka(kafkaConfig(s.connection)).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect().catch((e: unknown) => {
      throw new KafkaUnreachableError(s.connection.brokers, e);
    });
    const send: SendBatch = (topicMessages) => producer.sendBatch({ topicMessages, acks: s.guarantee === 'none' ? 1 : -1 });
    return new NonTransactionalWriter(producer, new SendQueue(send, s.toMessage, s.batchSize, `brokers ${s.connection.brokers.join(', ')}`, s.connection.brokers), s.guarantee !== 'none');
  }

  readonly write = (values: readonly T[]): Promise<void> | void => this.queue.write(values);

  async prepareCommit(_checkpointId: number, endOfInput: boolean): Promise<never[]> {
    if (this.waitAtBarrier || endOfInput) await this.queue.flush();
    return [];
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** The committable of the exactly-once sink: a prepared transaction. */
export interface KafkaCommittable extends TransactionHandle {
  checkpointId: number;
}

interface LiveTransaction {
  txn: KafkaTransaction;
  queue: SendQueue<unknown>;
  preCommitted: boolean;
}

/**
 * Transactions this thread opened, by transactional id: the committer runs in the writer's task (same
 * thread) and commits through the producer that wrote; after a restart the map is empty and the
 * committer resumes by producer id and epoch.
 */
const LIVE = new Map<string, LiveTransaction>();

export function transactionalId(prefix: string, subtask: number, checkpointId: number): string {
  return `${prefix}-${subtask}-${checkpointId}`;
}

/** Ids probed past the restored checkpoint for lingering transactions, per subtask. */
const MAX_LINGERING_PROBES = 20;

/**
 * Aborts the transactions begun after checkpoint `restoredId` by opening a new session for their ids
 * (`fence`: InitProducerId, which aborts an ongoing transaction and returns the new epoch; 0 = the id
 * was never used). Their ids follow the restored checkpoint's (the writer begins `<restored + 1>`
 * first), so this goes up from there until an id was never used, for this subtask and for subtasks of
 * a larger earlier parallelism (subtask + k * parallelism), until one of those has none.
 */
export async function abortLingeringTransactions(prefix: string, restoredId: number, ctx: TransactionContext, fence: (transactionalId: string) => Promise<number>): Promise<void> {
  for (let subtask = ctx.subtaskIndex; subtask < ctx.parallelism * 16; subtask += ctx.parallelism) {
    let used = 0;
    for (let c = restoredId + 1; c <= restoredId + MAX_LINGERING_PROBES; c++) {
      if ((await fence(transactionalId(prefix, subtask, c))) === 0) break;
      used++;
    }
    if (used === 0 && subtask !== ctx.subtaskIndex) break;
  }
}

export class KafkaTransactionalBackend<T> implements TransactionalBackend<T, KafkaCommittable> {
  /** Transactions this backend (the writer's) began. */
  private readonly begun = new Set<string>();

  constructor(private readonly s: Settings<T>) {}

  async begin(checkpointId: number, ctx: TransactionContext): Promise<KafkaCommittable> {
    const id = transactionalId(this.s.prefix, ctx.subtaskIndex, checkpointId);
    let txn: KafkaTransaction;
    try {
      txn = await KafkaTransaction.begin(this.s.connection, id, this.s.timeoutMs);
    } catch (e) {
      throw new KafkaError(`beginning Kafka transaction '${id}' failed (brokers ${this.s.connection.brokers.join(', ')}): ${causeText(e)}`, { cause: e });
    }
    const queue = new SendQueue<T>((tm) => txn.send(tm), this.s.toMessage, this.s.batchSize, `transaction '${id}'`, this.s.connection.brokers);
    LIVE.set(id, { txn, queue: queue as SendQueue<unknown>, preCommitted: false });
    this.begun.add(id);
    return { ...txn.handle, checkpointId };
  }

  write(txn: KafkaCommittable, values: readonly T[]): void | Promise<void> {
    return LIVE.get(txn.transactionalId)!.queue.write(values);
  }

  async preCommit(txn: KafkaCommittable): Promise<void> {
    const live = LIVE.get(txn.transactionalId)!;
    await live.queue.flush();
    live.preCommitted = true;
  }

  async commit(txn: KafkaCommittable): Promise<void> {
    const live = LIVE.get(txn.transactionalId);
    if (live) {
      await live.txn.commit();
      LIVE.delete(txn.transactionalId);
      await live.txn.close();
      return;
    }
    try {
      await resumeCommit(this.s.connection, txn);
    } catch (e) {
      const type = (e as { type?: string }).type ?? (e as { cause?: { type?: string } }).cause?.type;
      if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || type === 'INVALID_TXN_STATE' || type === 'INVALID_PRODUCER_ID_MAPPING') {
        // As Flink's committer: the broker no longer has this transaction open (it timed out and was
        // aborted, or was committed and the id reused). Retrying cannot help; the job goes on.
        console.warn(
          `weir kafka sink: transaction '${txn.transactionalId}' of checkpoint ${txn.checkpointId} could not be committed after a restore (${type}); if it had not been committed before the failure, its records are lost: raise transactionTimeoutMs above the time a restart takes`,
        );
        return;
      }
      throw new KafkaError(`committing Kafka transaction '${txn.transactionalId}' failed: ${causeText(e)}`, { cause: e });
    }
  }

  async abort(txn: KafkaCommittable): Promise<void> {
    const live = LIVE.get(txn.transactionalId);
    LIVE.delete(txn.transactionalId);
    if (live) {
      await live.txn.abort();
      await live.txn.close();
    } else await fenceTransactionalId(this.s.connection, txn.transactionalId, this.s.timeoutMs);
  }

  /** Transactions begun after the restored checkpoint are aborted (see `abortLingeringTransactions`). */
  async abortLingering(restoredId: number, ctx: TransactionContext): Promise<void> {
    await abortLingeringTransactions(this.s.prefix, restoredId, ctx, (id) => fenceTransactionalId(this.s.connection, id, this.s.timeoutMs));
  }

  /**
   * The writer closes (job cancelled or failed): the transaction it was still writing is aborted
   * (its records are replayed after a restore). Pre-committed ones stay for the committer, or for
   * the committer of a restored job.
   */
  async close(): Promise<void> {
    for (const id of this.begun) {
      const live = LIVE.get(id);
      if (!live || live.preCommitted) continue;
      LIVE.delete(id);
      await live.txn.abort().catch(() => {});
      await live.txn.close();
    }
    this.begun.clear();
  }
}

/**
 * Writes records to Kafka.
 *
 *     stream.sinkTo(kafkaSink<Order>({ brokers, topic: 'orders-out', key: (o) => o.id, deliveryGuarantee: 'exactly-once', transactionalIdPrefix: 'orders-job' }))
 */
export function kafkaSink<T>(options: KafkaSinkOptions<T>): Sink<T, KafkaCommittable> {
  const s = resolveSinkOptions(options);
  const name = options.name ?? `kafka(${options.topic ?? 'topicSelector'})`;
  if (s.guarantee === 'exactly-once') return twoPhaseCommitSink<T, KafkaCommittable>(name, () => new KafkaTransactionalBackend<T>(s));
  return { name, createWriter: () => NonTransactionalWriter.create(s) } as Sink<T, KafkaCommittable>;
}

/**
 * Drops this thread's open transactions without ending them, as if the process had died (tests of
 * the restore path; the producers' connections are closed).
 */
export function forgetLiveTransactions(): void {
  for (const live of LIVE.values()) void live.txn.close();
  LIVE.clear();
}
