/**
 * The LMDB writer thread commits every batch. lmdb-js 3.5.6's asynchronous puts (with
 * eventTurnBatching) lost a commit in about half the rounds of 64 messages of about 780 puts
 * (FACTS.md), which hung restores of that size; these tests send exactly that band many times, and
 * check that a writer that cannot commit fails the waiting thread with a clear error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateWriterError, LmdbWriterClient } from '../../../state/lmdb/writer-client.ts';
import { WriteBatchBuilder } from '../../../state/lmdb/write-batch.ts';
import { valueState } from '../../../state/index.ts';
import { at, makeFixture, type Fixture } from './helpers.ts';

const ROUNDS = 20;

describe('LMDB writer thread', () => {
  let dir: string;
  const clients: LmdbWriterClient[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'weir-writer-test-'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  function client(name: string, commitTimeoutMs = 10_000): LmdbWriterClient {
    const c = new LmdbWriterClient(path.join(dir, name), commitTimeoutMs);
    clients.push(c);
    return c;
  }

  it(`commits every one of 64 batches of 780 puts, ${ROUNDS} rounds (the band where async puts lost a commit)`, async () => {
    for (let r = 0; r < ROUNDS; r++) {
      const c = client(`round-${r}`);
      let last = 0;
      for (let m = 0; m < 64; m++) {
        const b = new WriteBatchBuilder();
        for (let i = 0; i < 780; i++) b.put(Buffer.from(`k-${m}-${i}`), Buffer.from(`value-${r}-${m}-${i}`));
        last = c.send(b.finish());
      }
      expect(last).toBe(64);
      c.waitFor(last);
      expect(c.committed()).toBe(64);
      await c.close();
    }
  });

  it('fails a waiting thread with StateWriterError when the writer thread is dead', async () => {
    const c = client('dead', 300);
    const b = new WriteBatchBuilder();
    b.put(Buffer.from('a'), Buffer.from('1'));
    c.waitFor(c.send(b.finish()));
    await c.killWriterThread();
    const b2 = new WriteBatchBuilder();
    b2.put(Buffer.from('b'), Buffer.from('2'));
    let gen = 0;
    try {
      gen = c.send(b2.finish());
    } catch (e) {
      // The thread's exit was already seen: sending fails at once, which is as good.
      expect(e).toBeInstanceOf(StateWriterError);
      return;
    }
    expect(() => c.waitFor(gen)).toThrow(/committed nothing for 300 ms .* dead or stuck/);
  });

  it('reports a write LMDB rejects as a writer failure naming the cause', () => {
    const c = client('bad');
    const b = new WriteBatchBuilder();
    b.put(Buffer.alloc(4096, 1), Buffer.from('too long a key for LMDB')); // LMDB keys are at most 511 bytes
    const gen = c.send(b.finish());
    expect(() => c.waitFor(gen)).toThrow(StateWriterError);
    expect(() => c.committed()).toThrow(/LMDB writer thread failed/);
  });
});

describe('LMDB keyed state restore', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it(`restores 64 key groups of about 780 keys each, ${ROUNDS} times, every key back`, async () => {
    const count = valueState<number>('count');
    // 64 key groups (0..63 of 128) holding 50k keys: one restored block per key group, ~780 entries each.
    const a = await fx.open('lmdb', { start: 0, end: 63, flushEvery: 4096 });
    const s = a.getValueState(count);
    const owned: string[] = [];
    for (let i = 0; owned.length < 50_000; i++) {
      const k = `key-${i}`;
      at(a, k);
      if (a.currentKeyGroup() > 63) continue;
      s.update(i);
      owned.push(k);
    }
    const handle = await a.snapshot(1);
    for (let r = 0; r < ROUNDS; r++) {
      const b = await fx.open('lmdb', { start: 0, end: 63, restore: [handle] });
      const restored = b.getValueState(count);
      for (let j = 0; j < owned.length; j += 997) {
        at(b, owned[j]!);
        expect(restored.value()).toBe(Number(owned[j]!.slice(4)));
      }
      await b.dispose();
    }
  });
});
