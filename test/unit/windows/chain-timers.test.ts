/** The sliding window operator's chained timers held in memory (operators/window/chain-timers.ts). */
import { describe, expect, it } from 'vitest';
import { ChainTimers, type ChainedKey } from '../../../operators/window/chain-timers.ts';

interface Key extends ChainedKey {
  name: string;
}

const key = (name: string): Key => ({ name, chainAt: Number.NaN, chainFired: Number.NaN });

function fired(c: ChainTimers<Key>, upTo: number): string[] {
  const out: string[] = [];
  c.fireDue(upTo, (time, e) => out.push(`${e.name}@${time}`));
  return out;
}

describe('chained timers', () => {
  it('fire when due, earliest time first, each time in the order added', () => {
    const c = new ChainTimers<Key>();
    const [a, b, d] = [key('a'), key('b'), key('d')];
    c.add(29, b);
    c.add(19, a);
    c.add(29, a);
    c.add(19, d);
    c.add(39, d);
    expect(c.size).toBe(5);
    expect(c.earliest()).toBe(19);
    expect(fired(c, 18)).toEqual([]);
    expect(fired(c, 29)).toEqual(['a@19', 'd@19', 'b@29', 'a@29']);
    expect(c.size).toBe(1);
    expect(fired(c, Infinity)).toEqual(['d@39']);
    expect(c.size).toBe(0);
    expect(c.earliest()).toBe(Infinity);
    expect(fired(c, Infinity)).toEqual([]);
  });

  it('hold one timer per time and key, as the backend does', () => {
    const c = new ChainTimers<Key>();
    const [a, b] = [key('a'), key('b')];
    c.add(19, a);
    c.add(19, a); // the same timer: not added
    expect(c.size).toBe(1);
    c.add(29, a);
    c.add(19, b);
    c.add(19, a); // listed again (a's last timer is at 29), but fires once
    expect(fired(c, 19)).toEqual(['a@19', 'b@19']);
    expect(fired(c, 29)).toEqual(['a@29']);
  });

  it('fire the timers a firing adds once they are due, in a later loop', () => {
    const c = new ChainTimers<Key>();
    const a = key('a');
    c.add(19, a);
    const out: string[] = [];
    c.fireDue(25, (time, e) => {
      out.push(`${e.name}@${time}`);
      c.add(time + 10, e); // the key's next window, after the watermark
    });
    expect(out).toEqual(['a@19']);
    expect(fired(c, 29)).toEqual(['a@29']);
  });

  it('hand every timer over when drained, and keep none', () => {
    const c = new ChainTimers<Key>();
    const [a, b] = [key('a'), key('b')];
    c.add(39, a);
    c.add(19, b);
    c.add(19, a);
    const moved: string[] = [];
    c.drain((time, e) => moved.push(`${e.name}@${time}`));
    expect(moved).toEqual(['b@19', 'a@19', 'a@39']);
    expect(c.size).toBe(0);
    expect(fired(c, Infinity)).toEqual([]);
    // Drained timers are no longer the keys' own: adding one again holds it again.
    c.add(39, a);
    expect(fired(c, Infinity)).toEqual(['a@39']);
  });
});
