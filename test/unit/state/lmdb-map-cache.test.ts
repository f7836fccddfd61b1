/**
 * The LMDB map cache (state/lmdb/map-cache.ts) used as a time index, as a join buffers by time:
 * user keys put and removed between two write-backs leave nothing behind (no deleted entry to walk
 * on every `keys()`, nothing to write back), while removals of user keys that may be below are
 * still written back. Counts, not timings.
 */
import { describe, expect, it } from 'vitest';
import { CachedMap } from '../../../state/lmdb/map-cache.ts';
import { DELETED, type Layer } from '../../../state/lmdb/layers.ts';

const layer = (): Layer => ({ gen: 0, points: new Map(), lists: new Map(), maps: new Map() });

describe('LMDB map cache as a time index', () => {
  it('buckets put and removed before a write-back are forgotten, and nothing of them is written back', () => {
    const m = new CachedMap(true);
    for (let t = 0; t < 1000; t++) {
      m.write(t, t, [`row ${t}`]);
      if (t >= 3) m.write(t - 3, t - 3, DELETED); // the watermark removes the bucket 3 behind
      expect(m.known.size).toBeLessThanOrEqual(4);
    }
    expect([...m.known.values()].map((e) => e.uk)).toEqual([997, 998, 999]);
    const l = layer();
    expect(m.writeBack(l, 'k', 0, 'k')).toBe(3); // the 3 live buckets only
  });

  it('a bucket written back, then removed, is deleted below; one learned absent and put again is fresh', () => {
    const m = new CachedMap(true);
    m.write(1, 1, 'a');
    m.writeBack(layer(), 'k', 0, 'k');
    m.write(1, 1, DELETED);
    const l = layer();
    expect(m.writeBack(l, 'k', 0, 'k')).toBe(1);
    expect(l.maps.get('k')!.puts.get(1)!.stored).toBe(DELETED);

    const inc = new CachedMap(false);
    inc.learn(5, 5, DELETED); // read from below: absent
    inc.write(5, 5, 'x');
    inc.write(5, 5, DELETED);
    expect(inc.known.size).toBe(0);
    expect(inc.writeBack(layer(), 'k', 0, 'k')).toBe(0);
    // a user key an incomplete map knows nothing of may be below: its removal is written back
    inc.write(6, 6, 'y');
    inc.write(6, 6, DELETED);
    expect(inc.writeBack(layer(), 'k', 0, 'k')).toBe(1);
  });
});
