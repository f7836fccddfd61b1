/**
 * Kafka transactions for the exactly-once sink, on kafkajs' transaction manager (`eosManager`) and
 * message producer. kafkajs' public `producer.transaction()` hides the producer id and epoch, and a
 * prepared transaction can only be committed from another process (after a restart) with them:
 * EndTxn(commit) with the transactional id, producer id and epoch, which is what Flink's Kafka
 * committer does through Kafka's internal API. So the sink drives the same internals itself: it
 * keeps the producer id and epoch in the committable and, when the producer that wrote the
 * transaction is gone, sends EndTxn itself (`resumeCommit`).
 */
import { createRequire } from 'node:module';
import { createCluster, createKafkaLogger, type InternalCluster, type KafkaConnectionOptions } from './client.ts';

const require = createRequire(import.meta.url);

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  commit(): Promise<void>;
  abort(): Promise<void>;
  getProducerId(): string | number;
  getProducerEpoch(): number;
}

export interface OutgoingMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: Record<string, string | Buffer>;
  timestamp?: string;
}

interface MessageProducer {
  sendBatch(o: { acks: number; topicMessages: { topic: string; messages: OutgoingMessage[] }[] }): Promise<unknown>;
}

const createEosManager = require('kafkajs/src/producer/eosManager/index.js') as (o: Record<string, unknown>) => EosManager;
const createMessageProducer = require('kafkajs/src/producer/messageProducer.js') as (o: Record<string, unknown>) => MessageProducer;
const createRetry = require('kafkajs/src/retry/index.js') as (o: unknown) => unknown;
const { Partitioners } = require('kafkajs') as { Partitioners: { DefaultPartitioner: () => unknown } };
const TRANSACTION_COORDINATOR = 1;

/** What identifies a prepared transaction across processes (plain data: it is the committable). */
export interface TransactionHandle {
  transactionalId: string;
  producerId: string;
  epoch: number;
}

export class KafkaTransaction {
  private constructor(
    readonly transactionalId: string,
    private readonly cluster: InternalCluster,
    private readonly eos: EosManager,
    private readonly producer: MessageProducer,
  ) {}

  /** A new producer session for `transactionalId` (fencing any older one) with a transaction begun. */
  static async begin(connection: KafkaConnectionOptions, transactionalId: string, timeoutMs: number): Promise<KafkaTransaction> {
    const cluster = createCluster(connection, { allowAutoTopicCreation: false });
    await cluster.connect();
    const logger = createKafkaLogger(connection);
    const eos = createEosManager({ logger, cluster, transactionTimeout: timeoutMs, transactional: true, transactionalId });
    await eos.initProducerId();
    eos.beginTransaction();
    const producer = createMessageProducer({
      logger,
      cluster,
      partitioner: Partitioners.DefaultPartitioner(),
      retrier: createRetry(cluster.retry),
      eosManager: eos,
      idempotent: true,
      getConnectionStatus: () => 'connected',
    });
    return new KafkaTransaction(transactionalId, cluster, eos, producer);
  }

  get handle(): TransactionHandle {
    return { transactionalId: this.transactionalId, producerId: String(this.eos.getProducerId()), epoch: this.eos.getProducerEpoch() };
  }

  send(topicMessages: { topic: string; messages: OutgoingMessage[] }[]): Promise<unknown> {
    return this.producer.sendBatch({ acks: -1, topicMessages });
  }

  async commit(): Promise<void> {
    await this.eos.commit();
  }

  async abort(): Promise<void> {
    await this.eos.abort();
  }

  async close(): Promise<void> {
    await this.cluster.disconnect().catch(() => {});
  }
}

/**
 * Commits a prepared transaction whose producer is gone (after a restart): EndTxn(commit) with its
 * producer id and epoch. A transaction that was committed already is a no-op for the broker (it
 * answers without error when nothing is ongoing); one the broker aborted meanwhile (its timeout
 * passed, or a newer session of the same id fenced it) fails with the broker's error.
 */
export async function resumeCommit(connection: KafkaConnectionOptions, txn: TransactionHandle): Promise<void> {
  const cluster = createCluster(connection, { allowAutoTopicCreation: false });
  try {
    await cluster.connect();
    const coordinator = await cluster.findGroupCoordinator({ groupId: txn.transactionalId, coordinatorType: TRANSACTION_COORDINATOR });
    await coordinator.endTxn({ transactionalId: txn.transactionalId, producerId: txn.producerId, producerEpoch: txn.epoch, transactionResult: true });
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

/**
 * Aborts whatever transaction `transactionalId` has open by starting a new session for it (InitProducerId
 * bumps the epoch and aborts an ongoing transaction). Returns the new epoch: 0 means the id was never used.
 */
export async function fenceTransactionalId(connection: KafkaConnectionOptions, transactionalId: string, timeoutMs: number): Promise<number> {
  const cluster = createCluster(connection, { allowAutoTopicCreation: false });
  try {
    await cluster.connect();
    const eos = createEosManager({ logger: createKafkaLogger(connection), cluster, transactionTimeout: timeoutMs, transactional: true, transactionalId });
    await eos.initProducerId();
    return eos.getProducerEpoch();
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}
