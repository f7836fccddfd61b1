/** The barrier aligner's state machine: alignment, at-least-once, overtaking, abort and timeout. */
import { describe, expect, it } from 'vitest';
import { BarrierAligner } from '../../../runtime/checkpoint/barrier-aligner.ts';

function clock(): { now: () => number; set: (t: number) => void } {
  let t = 0;
  return { now: () => t, set: (v) => (t = v) };
}

describe('BarrierAligner', () => {
  it('exactly-once: blocks each channel at its barrier and snapshots when the last one arrives', () => {
    const c = clock();
    const a = new BarrierAligner(3, true, c.now);
    c.set(100);
    expect(a.onBarrier(0, 1)).toEqual({ kind: 'block', channel: 0 });
    expect(a.aligningCheckpoint).toBe(1);
    expect(a.onBarrier(2, 1)).toEqual({ kind: 'block', channel: 2 });
    c.set(130);
    expect(a.onBarrier(1, 1, 'savepoint')).toEqual({ kind: 'snapshot', checkpointId: 1, snapshot: 'checkpoint', alignmentMs: 30 });
    expect(a.aligningCheckpoint).toBeUndefined();
  });

  it('the snapshot carries the kind of the first barrier (savepoint files go to the savepoint directory)', () => {
    const a = new BarrierAligner(2, true, () => 0);
    a.onBarrier(1, 4, 'stop-savepoint');
    expect(a.onBarrier(0, 4, 'stop-savepoint')).toMatchObject({ kind: 'snapshot', checkpointId: 4, snapshot: 'stop-savepoint' });
  });

  it('at-least-once: blocks nothing, snapshots at the last barrier', () => {
    const a = new BarrierAligner(2, false, () => 0);
    expect(a.onBarrier(0, 1)).toEqual({ kind: 'none' });
    expect(a.onBarrier(1, 1)).toMatchObject({ kind: 'snapshot', checkpointId: 1 });
  });

  it('a single input snapshots at once', () => {
    const a = new BarrierAligner(1, true, () => 0);
    expect(a.onBarrier(0, 7)).toMatchObject({ kind: 'snapshot', checkpointId: 7 });
  });

  it('duplicate or old barriers after a snapshot are ignored', () => {
    const a = new BarrierAligner(2, true, () => 0);
    a.onBarrier(0, 2);
    a.onBarrier(1, 2);
    expect(a.onBarrier(0, 2)).toEqual({ kind: 'none' });
    expect(a.onBarrier(1, 1)).toEqual({ kind: 'none' });
    expect(a.aligningCheckpoint).toBeUndefined();
  });

  it('a newer barrier overtaking an alignment aborts the older checkpoint and starts the newer one', () => {
    const a = new BarrierAligner(3, true, () => 0);
    expect(a.onBarrier(0, 1)).toEqual({ kind: 'block', channel: 0 });
    expect(a.onBarrier(1, 2)).toEqual({ kind: 'abort', checkpointId: 1, then: { kind: 'block', channel: 1 } });
    expect(a.aligningCheckpoint).toBe(2);
    // the older checkpoint's remaining barriers no longer count
    expect(a.onBarrier(2, 1)).toEqual({ kind: 'none' });
    expect(a.onBarrier(0, 2)).toEqual({ kind: 'block', channel: 0 });
    expect(a.onBarrier(2, 2)).toMatchObject({ kind: 'snapshot', checkpointId: 2 });
  });

  it('abort while aligning releases the held channels and ignores that checkpoint\'s later barriers', () => {
    const a = new BarrierAligner(3, true, () => 0);
    a.onBarrier(0, 5);
    a.onBarrier(2, 5);
    expect(a.abort(5)).toEqual({ checkpointId: 5, arrived: [0, 2], missing: [1] });
    expect(a.aligningCheckpoint).toBeUndefined();
    expect(a.onBarrier(1, 5)).toEqual({ kind: 'none' });
    // the next checkpoint aligns from scratch
    expect(a.onBarrier(1, 6)).toEqual({ kind: 'block', channel: 1 });
    expect(a.abort(5)).toBeUndefined();
    expect(a.aligningCheckpoint).toBe(6);
  });

  it('an abort that arrives before any barrier of that checkpoint makes its barriers be ignored', () => {
    const a = new BarrierAligner(2, true, () => 0);
    expect(a.abort(3)).toBeUndefined();
    expect(a.onBarrier(0, 3)).toEqual({ kind: 'none' });
    expect(a.onBarrier(1, 3)).toEqual({ kind: 'none' });
    expect(a.onBarrier(0, 4)).toEqual({ kind: 'block', channel: 0 });
  });

  it('abort of a checkpoint that is not aligning changes nothing', () => {
    const a = new BarrierAligner(2, true, () => 0);
    a.onBarrier(0, 8);
    expect(a.abort(7)).toBeUndefined();
    expect(a.aligningCheckpoint).toBe(8);
    expect(a.onBarrier(1, 8)).toMatchObject({ kind: 'snapshot', checkpointId: 8 });
  });

  it('expire (alignment timeout) names the channels still missing, and only for the checkpoint still aligning', () => {
    const a = new BarrierAligner(4, true, () => 0);
    a.onBarrier(3, 9);
    a.onBarrier(1, 9);
    expect(a.expire(8)).toBeUndefined();
    expect(a.expire(9)).toEqual({ checkpointId: 9, arrived: [1, 3], missing: [0, 2] });
    expect(a.expire(9)).toBeUndefined();
    expect(a.onBarrier(0, 9)).toEqual({ kind: 'none' });
    // after a completed alignment there is nothing to expire
    a.onBarrier(0, 10);
    a.onBarrier(1, 10);
    a.onBarrier(2, 10);
    a.onBarrier(3, 10);
    expect(a.expire(10)).toBeUndefined();
  });
});
