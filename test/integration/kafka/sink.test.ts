/**
 * The Kafka sink against librdkafka's mock cluster (test/services/kafka.sh; KAFKA_BROKERS), one
 * subtask driven by hand (SinkHarness) so that the log can be looked at between the steps of a
 * checkpoint. The mock keeps aborted records visible to read_committed consumers, so the tests read
 * the raw log and apply the transaction markers themselves (`committedValues`).
 */
import { describe, expect, it } from 'vitest';
import { kafkaSink } from 'weir/kafka';
import { SinkHarness } from '../../harness/sink-harness.ts';
import { committedValues, createTopic, kafkaEnv, readLog } from './mock.ts';

const { brokers } = kafkaEnv();
const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i }));
const json = (vs: { id: number }[]) => vs.map((v) => JSON.stringify(v));

describe('Kafka sink', () => {
  it('at-least-once: every record is in the log when the barrier is through', async () => {
    const topic = await createTopic('sink-alo', 3);
    const h = await SinkHarness.open(kafkaSink<{ id: number }>({ brokers, topic, key: (v) => String(v.id) }));
    await h.write(values(0, 50));
    await h.checkpoint(1);
    const log = await readLog(topic);
    expect(log.map((r) => r.value).sort()).toEqual(json(values(0, 50)).sort());
    await h.close();
  });

  it('exactly-once: a checkpoint\'s records are committed only when the checkpoint completes', async () => {
    const topic = await createTopic('sink-eo', 2);
    const sink = kafkaSink<{ id: number }>({ brokers, topic, deliveryGuarantee: 'exactly-once', transactionalIdPrefix: `eo-${topic}`, transactionTimeoutMs: 30000 });
    const h = await SinkHarness.open(sink);
    await h.write(values(0, 20));
    await h.checkpoint(1);
    // Pre-committed: in the log, inside an open transaction (no marker yet).
    let log = await readLog(topic);
    expect(log.filter((r) => !r.control)).toHaveLength(20);
    expect(log.every((r) => r.inTransaction)).toBe(true);
    expect(committedValues(log)).toEqual([]);
    await h.write(values(20, 10));
    await h.complete(1);
    log = await readLog(topic);
    expect(committedValues(log).sort()).toEqual(json(values(0, 20)).sort());
    await h.checkpoint(2);
    await h.complete(2);
    expect(committedValues(await readLog(topic)).sort()).toEqual(json(values(0, 30)).sort());
    await h.close();
  });

  it('exactly-once after a crash: the restored checkpoint\'s transaction is committed by a new process, later ones aborted', async () => {
    const topic = await createTopic('sink-eo-restore', 2);
    const sink = kafkaSink<{ id: number }>({ brokers, topic, deliveryGuarantee: 'exactly-once', transactionalIdPrefix: `eor-${topic}`, transactionTimeoutMs: 30000 });
    const first = await SinkHarness.open(sink);
    await first.write(values(0, 10));
    await first.checkpoint(1);
    await first.complete(1);
    await first.write(values(10, 10));
    const snap2 = await first.checkpoint(2); // checkpoint 2 completes, but the crash comes before its commit
    await first.write(values(20, 10)); // in transaction 3, never pre-committed
    await first.checkpoint(3); // pre-committed, but checkpoint 3 never completes
    // "Crash": the first harness is dropped and its producers forgotten, as in a new process; the
    // restored committer must commit transaction 2 by its producer id and epoch.
    const { forgetLiveTransactions } = await import('../../../connectors/kafka/sink.ts');
    forgetLiveTransactions();
    const second = await SinkHarness.open(sink, { restore: snap2 });
    const afterRestore = await readLog(topic);
    expect(committedValues(afterRestore).sort()).toEqual(json(values(0, 20)).sort());
    // Transaction 3 (pre-committed, its checkpoint never completed) is in the log but not committed.
    // A real broker aborts it when the restored writer opens a new session for its id; the mock hands
    // out a new producer id instead and leaves it open (README: the mock's limits), so no abort marker.
    expect(afterRestore.filter((r) => !r.control && r.value !== null && JSON.parse(r.value).id >= 20 && JSON.parse(r.value).id < 30)).toHaveLength(10);
    await second.write(values(100, 5));
    await second.checkpoint(3);
    await second.complete(3);
    expect(committedValues(await readLog(topic)).sort()).toEqual(json([...values(0, 20), ...values(100, 5)]).sort());
    await second.close();
  });

  it('writing to a topic that does not exist names it', async () => {
    const h = await SinkHarness.open(kafkaSink<{ id: number }>({ brokers, topic: 'no-such-topic-weir-sink', retries: 1 }));
    await h.write(values(0, 3));
    await expect(h.checkpoint(1)).rejects.toThrow(/Kafka topic 'no-such-topic-weir-sink' does not exist/);
    await h.close().catch(() => {});
  });
});
