/**
 * The chain's output buffer: what a node emitted comes out in order with its times, each batch's
 * values array is the taker's own (a later emit does not touch it), and the next batch's array is
 * sized like the last one.
 */
import { describe, expect, it } from 'vitest';
import { OutputBuffer } from '../../../runtime/task/operator-chain.ts';

describe('output buffer', () => {
  it('gives each batch in order with its times; a taken values array is not changed by later emits', () => {
    const buf = new OutputBuffer<string>();
    for (let i = 0; i < 100; i++) buf.emit(`a${i}`, i);
    expect(buf.size).toBe(100);
    const first = buf.take();
    expect(first.values).toEqual(Array.from({ length: 100 }, (_, i) => `a${i}`));
    expect(Array.from(first.times)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(buf.size).toBe(0);
    const kept = first.values;
    for (let i = 0; i < 3; i++) buf.emit(`b${i}`, 1000 + i);
    const second = buf.take();
    expect(second.values).toEqual(['b0', 'b1', 'b2']);
    expect(Array.from(second.times)).toEqual([1000, 1001, 1002]);
    expect(kept.length).toBe(100);
    expect(kept[0]).toBe('a0');
    // an empty take, and NaN times (records without one)
    expect(buf.take().values).toEqual([]);
    buf.emit('c', Number.NaN);
    expect(Number.isNaN(buf.take().times[0])).toBe(true);
  });
});
