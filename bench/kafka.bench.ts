/**
 * The Kafka connector against librdkafka's mock cluster (test/services/kafka.sh; started here when
 * KAFKA_BROKERS is not set). Records are about 100 bytes of JSON; BENCH_KAFKA_RECORDS (default
 * 100k, which fits the mock's ~5 MB per partition over 4 partitions).
 *  - kafka-source-p1: records/s one reader emits from a 4-partition topic (bounded job, sink
 *    discards; the same job over an empty topic subtracted: start-up and shutdown); baseline: a kafkajs consumer reading the same topic alone (eachBatch, counts);
 *  - kafka-sink-p1: records/s of generated records written at-least-once by one writer (a job
 *    writing nothing subtracted); baseline:
 *    a kafkajs producer sending the same records alone (batches of 1000, one request in flight);
 *  - kafka-latency-alo / kafka-latency-eo: Kafka -> Weir -> Kafka with 1 s checkpoints, records
 *    produced at 2000/s for BENCH_KAFKA_LATENCY_SECONDS (default 15): median ms from a record's
 *    send to it being readable (at-least-once: in the log; exactly-once: its transaction's commit
 *    marker in the log), p99 in the metric text.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { MiniCluster } from 'weir';
import { createCluster } from '../connectors/kafka/client.ts';
import job, { PAYLOAD, type KafkaBenchParams } from './jobs/kafka.ts';
import { median, perSecond, type Benchmark, type Measurement } from './harness.ts';

const RECORDS = Number(process.env.BENCH_KAFKA_RECORDS ?? 100_000);
const LATENCY_SECONDS = Number(process.env.BENCH_KAFKA_LATENCY_SECONDS ?? 15);
const RATE = 2000;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let env: { brokers: string[]; control: string } | undefined;
let servicesDir: string | undefined;

/** The mock cluster: the one the environment names, or one started for the benchmarks (stopped at exit). */
function kafkaEnv(): { brokers: string[]; control: string } {
  if (env) return env;
  if (process.env.KAFKA_BROKERS && process.env.KAFKA_MOCK_CONTROL) {
    env = { brokers: process.env.KAFKA_BROKERS.split(','), control: process.env.KAFKA_MOCK_CONTROL };
    return env;
  }
  servicesDir = mkdtempSync(path.join(os.tmpdir(), 'weir-kafka-bench-'));
  const script = path.join(repo, 'test/services/kafka.sh');
  const out = execFileSync('bash', [script, 'start'], { env: { ...process.env, WEIR_SERVICES_DIR: servicesDir }, encoding: 'utf8' });
  const vars = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=') as [string, string]));
  process.on('exit', () => {
    execFileSync('bash', [script, 'stop'], { env: { ...process.env, WEIR_SERVICES_DIR: servicesDir } });
    rmSync(servicesDir!, { recursive: true, force: true });
  });
  env = { brokers: vars.KAFKA_BROKERS!.split(','), control: vars.KAFKA_MOCK_CONTROL! };
  return env;
}

let seq = 0;
async function createTopic(prefix: string, partitions: number): Promise<string> {
  const topic = `${prefix}-${process.pid}-${++seq}`;
  const [host, port] = kafkaEnv().control.split(':');
  const net = await import('node:net');
  const answer = await new Promise<string>((resolve, reject) => {
    const s = net.connect(Number(port), host!, () => s.write(`create ${topic} ${partitions}\n`));
    s.on('data', (d) => {
      resolve(d.toString().trim());
      s.end();
    });
    s.on('error', reject);
  });
  if (answer !== 'ok') throw new Error(`creating ${topic}: ${answer}`);
  return topic;
}

function client(): Kafka {
  return new Kafka({ brokers: kafkaEnv().brokers, logLevel: logLevel.NOTHING });
}

function record(i: number, sentAt = 0): string {
  return JSON.stringify({ id: i, sentAt, payload: PAYLOAD });
}

/** Produces `count` records round-robin over `partitions`; returns the milliseconds it took. */
async function produce(topic: string, count: number, partitions: number): Promise<number> {
  const producer = client().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = performance.now();
  for (let i = 0; i < count; i += 1000) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) messages.push({ key: String(j), value: record(j), partition: j % partitions });
    await producer.send({ topic, messages, acks: -1 });
  }
  const ms = performance.now() - started;
  await producer.disconnect();
  return ms;
}

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-kafka-bench-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function cluster(dir: string, checkpoints = false): MiniCluster {
  return new MiniCluster({ workers: 1, workDir: path.join(dir, 'work'), ...(checkpoints ? { checkpoints: { intervalMs: 1000, storage: { kind: 'local' as const, dir: path.join(dir, 'checkpoints') } } } : {}) });
}

let sourceTopic: string | undefined;
async function filledTopic(): Promise<string> {
  if (!sourceTopic) {
    sourceTopic = await createTopic('bench-src', 4);
    await produce(sourceTopic, RECORDS, 4);
  }
  return sourceTopic;
}

/** Milliseconds from submitting a job to its end. */
async function jobMs(params: KafkaBenchParams): Promise<number> {
  const s = scratch();
  try {
    const handle = await cluster(s.dir).submit(job, { params, parallelism: 1 });
    const started = performance.now();
    await handle.result();
    return performance.now() - started;
  } finally {
    s.done();
  }
}

let emptyTopic: string | undefined;

/**
 * The reader's steady rate: the job over the filled topic minus the same job over an empty topic
 * (task start, discovery, shutdown), so that the comparison with a consumer that is already running
 * is about reading.
 */
async function sourceThroughput(): Promise<Measurement> {
  const topic = await filledTopic();
  emptyTopic ??= await createTopic('bench-empty', 4);
  const brokers = kafkaEnv().brokers;
  const overhead = await jobMs({ kind: 'read', brokers, topic: emptyTopic, parallelism: 1 });
  const full = await jobMs({ kind: 'read', brokers, topic, parallelism: 1 });
  return { value: perSecond(RECORDS, Math.max(1, full - overhead)) };
}

async function consumerAlone(): Promise<Measurement> {
  const topic = await filledTopic();
  const consumer = client().consumer({ groupId: `bench-${process.pid}-${++seq}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let started = 0;
  const ms = await new Promise<number>((resolve, reject) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          if (started === 0) started = performance.now();
          for (const m of batch.messages) JSON.parse(m.value!.toString());
          seen += batch.messages.length;
          if (seen >= RECORDS) resolve(performance.now() - started);
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { value: perSecond(RECORDS, ms) };
}

/** As the source: the job writing RECORDS minus the same job writing none. */
async function sinkThroughput(): Promise<Measurement> {
  const brokers = kafkaEnv().brokers;
  const overhead = await jobMs({ kind: 'write', brokers, topic: await createTopic('bench-sink', 4), count: 0, parallelism: 1 });
  const full = await jobMs({ kind: 'write', brokers, topic: await createTopic('bench-sink', 4), count: RECORDS, parallelism: 1 });
  return { value: perSecond(RECORDS, Math.max(1, full - overhead)) };
}

async function producerAlone(): Promise<Measurement> {
  const topic = await createTopic('bench-prod', 4);
  const producer = client().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = performance.now();
  for (let i = 0; i < RECORDS; i += 1000) {
    const messages = [];
    for (let j = i; j < Math.min(RECORDS, i + 1000); j++) messages.push({ key: String(j), value: record(j) });
    await producer.send({ topic, messages, acks: -1 });
  }
  const ms = performance.now() - started;
  await producer.disconnect();
  return { value: perSecond(RECORDS, ms) };
}

interface RawMessage {
  offset: string;
  value: Buffer | null;
  key: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean; isControlBatch: boolean };
}

/**
 * Follows a topic's raw log (transaction markers included, as the mock does not filter aborted
 * records) and calls `visible` with each record when a read_committed consumer could see it.
 */
async function tail(topic: string, partitions: number, visible: (value: string, at: number) => void, stop: () => boolean): Promise<void> {
  const c = createCluster({ brokers: kafkaEnv().brokers }, { allowAutoTopicCreation: false });
  await c.connect();
  await c.addMultipleTargetTopics([topic]);
  const next = new Array<number>(partitions).fill(0);
  const open = new Map<string, string[]>();
  while (!stop()) {
    for (let p = 0; p < partitions; p++) {
      const leader = Object.keys(c.findLeaderForPartitions(topic, [p]))[0]!;
      const broker = await c.findBroker({ nodeId: leader });
      const { responses } = (await broker.fetch({ replicaId: -1, isolationLevel: 0, maxWaitTime: 10, minBytes: 1, maxBytes: 4 << 20, topics: [{ topic, partitions: [{ partition: p, fetchOffset: String(next[p]), maxBytes: 4 << 20 }] }] })) as unknown as { responses: { partitions: { messages: RawMessage[] }[] }[] };
      const at = Date.now();
      for (const m of responses[0]!.partitions[0]!.messages) {
        if (Number(m.offset) < next[p]!) continue;
        next[p] = Number(m.offset) + 1;
        const k = `${p}/${m.batchContext.producerId}`;
        if (m.batchContext.isControlBatch) {
          if (m.key!.readInt16BE(2) === 1) for (const v of open.get(k) ?? []) visible(v, at);
          open.delete(k);
        } else if (!m.batchContext.inTransaction) visible(m.value!.toString(), at);
        else {
          let list = open.get(k);
          if (!list) open.set(k, (list = []));
          list.push(m.value!.toString());
        }
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await c.disconnect();
}

const latencyStats: Record<string, { p99: number; records: number }> = {};

async function latency(guarantee: 'at-least-once' | 'exactly-once'): Promise<Measurement> {
  const inTopic = await createTopic('bench-lat-in', 4);
  const outTopic = await createTopic('bench-lat-out', 4);
  const s = scratch();
  const total = RATE * LATENCY_SECONDS;
  const ages: number[] = [];
  try {
    const params: KafkaBenchParams = { kind: 'pipe', brokers: kafkaEnv().brokers, inTopic, outTopic, guarantee, prefix: `bench-${outTopic}` };
    const handle = await cluster(s.dir, true).submit(job, { params, parallelism: 1 });
    const tailing = tail(outTopic, 4, (v, at) => ages.push(at - (JSON.parse(v) as { sentAt: number }).sentAt), () => ages.length >= total);
    const producer = client().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const started = Date.now();
    for (let i = 0; i < total; i += RATE / 20) {
      const messages = [];
      for (let j = i; j < i + RATE / 20; j++) messages.push({ key: String(j), value: record(j, Date.now()), partition: j % 4 });
      await producer.send({ topic: inTopic, messages, acks: -1 });
      const due = started + ((i + RATE / 20) / RATE) * 1000;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
    await producer.disconnect();
    await tailing;
    await handle.cancel();
    ages.sort((a, b) => a - b);
    latencyStats[guarantee] = { p99: ages[Math.floor(ages.length * 0.99)] ?? 0, records: ages.length };
    return { value: median(ages) };
  } finally {
    s.done();
  }
}

const benchmarks: Benchmark[] = [
  {
    name: 'kafka-source-p1',
    metric: `records/s one Kafka reader emits, ${RECORDS} records of ~100 B from 4 partitions of the mock; baseline kafkajs consumer alone`,
    unit: 'records/s',
    runs: 3,
    run: sourceThroughput,
    baseline: consumerAlone,
  },
  {
    name: 'kafka-sink-p1',
    metric: `records/s one Kafka writer sends at-least-once, ${RECORDS} records of ~100 B to the mock; baseline kafkajs producer alone`,
    unit: 'records/s',
    runs: 3,
    run: sinkThroughput,
    baseline: producerAlone,
  },
  ...(['at-least-once', 'exactly-once'] as const).map(
    (g): Benchmark => ({
      name: `kafka-latency-${g === 'exactly-once' ? 'eo' : 'alo'}`,
      get metric() {
        const st = latencyStats[g];
        return `median ms from send to readable, Kafka -> Weir -> Kafka ${g}, 1 s checkpoints, ${RATE}/s for ${LATENCY_SECONDS} s${st ? ` (p99 ${st.p99} ms, ${st.records} records)` : ''}`;
      },
      unit: 'ms',
      lowerIsBetter: true,
      runs: 1,
      run: () => latency(g),
    }),
  ),
];

export default benchmarks;
