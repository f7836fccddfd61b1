/** The Kafka sink's send queue and options, without a broker. */
import { describe, expect, it } from 'vitest';
import { SendQueue, abortLingeringTransactions, kafkaSink, transactionalId } from '../../../../connectors/kafka/sink.ts';
import type { OutgoingMessage } from '../../../../connectors/kafka/transactions.ts';

type Batch = { topic: string; messages: OutgoingMessage[] }[];

describe('Kafka sink send queue', () => {
  it('sends in order, one request at a time, in batches by topic; flush waits for all', async () => {
    const sent: Batch[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const q = new SendQueue<{ id: number; topic: string }>(
      async (b) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        sent.push(b);
        inFlight--;
      },
      (v) => ({ topic: v.topic, message: { value: String(v.id) } }),
      3,
      'test',
    );
    q.write(Array.from({ length: 5 }, (_, id) => ({ id, topic: id % 2 ? 'odd' : 'even' })));
    q.write([{ id: 5, topic: 'odd' }]);
    await q.flush();
    expect(maxInFlight).toBe(1);
    expect(sent.map((b) => b.map((t) => `${t.topic}:${t.messages.map((m) => m.value).join(',')}`))).toEqual([['even:0,2', 'odd:1'], ['odd:3,5', 'even:4']]);
  });

  it('a failed send fails the next write or flush with the cause', async () => {
    const q = new SendQueue<number>(async () => Promise.reject(new Error('NOT_LEADER')), (v) => ({ topic: 't', message: { value: String(v) } }), 10, 'brokers b:1');
    q.write([1]);
    await expect(q.flush()).rejects.toThrow(/writing to Kafka \(brokers b:1\) failed: NOT_LEADER/);
    expect(() => q.write([2])).toThrow(/NOT_LEADER/);
  });
});

describe('Kafka sink options', () => {
  it('transactional ids are prefix-subtask-checkpoint', () => {
    expect(transactionalId('orders-job', 2, 17)).toBe('orders-job-2-17');
  });

  it('are checked with the setting named', () => {
    expect(() => kafkaSink({ brokers: ['b:1'] })).toThrow(/set exactly one of topic and topicSelector/);
    expect(() => kafkaSink({ brokers: ['b:1'], topic: 't', deliveryGuarantee: 'exactly-once' })).toThrow(/transactionalIdPrefix: is required with exactly-once/);
    expect(() => kafkaSink({ brokers: ['b:1'], topic: 't', deliveryGuarantee: 'twice' as 'none' })).toThrow(/deliveryGuarantee: is "twice"/);
    expect(kafkaSink({ brokers: ['b:1'], topic: 't', deliveryGuarantee: 'exactly-once', transactionalIdPrefix: 'p' }).createCommitter).toBeTypeOf('function');
    expect(kafkaSink({ brokers: ['b:1'], topic: 't' }).createCommitter).toBeUndefined();
  });
});

describe('aborting lingering transactions after a restore', () => {
  /** A broker's view: ids used before (a fence bumps their epoch above 0); every fence is recorded. */
  function broker(used: string[]) {
    const epochs = new Map(used.map((id) => [id, 0]));
    const fenced: string[] = [];
    const fence = async (id: string) => {
      fenced.push(id);
      const e = epochs.has(id) ? epochs.get(id)! + 1 : 0;
      epochs.set(id, e);
      return e;
    };
    return { fence, fenced };
  }

  it('fences the ids after the restored checkpoint up to the first unused one', async () => {
    const b = broker(['p-0-5', 'p-0-6', 'p-0-7', 'p-0-8', 'p-1-6']);
    await abortLingeringTransactions('p', 6, { subtaskIndex: 0, parallelism: 2 }, b.fence);
    // subtask 0: 7 and 8 were used (lingering), 9 never; subtask 2 (an earlier parallelism of 4) had none
    expect(b.fenced).toEqual(['p-0-7', 'p-0-8', 'p-0-9', 'p-2-7']);
  });

  it('also fences the ids of subtasks a larger earlier parallelism had', async () => {
    const b = broker(['p-1-4', 'p-4-4', 'p-4-5', 'p-7-4']);
    await abortLingeringTransactions('p', 3, { subtaskIndex: 1, parallelism: 3 }, b.fence);
    expect(b.fenced).toEqual(['p-1-4', 'p-1-5', 'p-4-4', 'p-4-5', 'p-4-6', 'p-7-4', 'p-7-5', 'p-10-4']);
  });

  it('on a fresh start (restored 0) probes from checkpoint 1', async () => {
    const b = broker([]);
    await abortLingeringTransactions('p', 0, { subtaskIndex: 0, parallelism: 1 }, b.fence);
    expect(b.fenced).toEqual(['p-0-1', 'p-1-1']);
  });
});
