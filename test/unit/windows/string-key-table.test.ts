/** The window operator's table of string keys: finds what was added, by content, through growth and clear. */
import { describe, expect, it } from 'vitest';
import { StringKeyTable, hashString } from '../../../operators/window/string-key-table.ts';

describe('StringKeyTable', () => {
  it('finds every key added (by content, not identity) as it grows, and nothing else', () => {
    const t = new StringKeyTable<number>();
    for (let i = 0; i < 5000; i++) t.add(`key-${i}`, i);
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(t.get(['key-', String(i)].join(''))).toBe(i);
    expect(t.get('key-5000')).toBeUndefined();
    expect(t.get('')).toBeUndefined();
  });

  it('tells apart long keys that hash alike (same length, same first and last 16 characters)', () => {
    const a = `${'x'.repeat(16)}middle-a${'y'.repeat(16)}`;
    const b = `${'x'.repeat(16)}middle-b${'y'.repeat(16)}`;
    expect(hashString(a)).toBe(hashString(b));
    const t = new StringKeyTable<string>();
    t.add(a, 'a');
    expect(t.get(b)).toBeUndefined();
    t.add(b, 'b');
    expect([t.get(a), t.get(b)]).toEqual(['a', 'b']);
  });

  it('is empty after clear', () => {
    const t = new StringKeyTable<number>();
    for (let i = 0; i < 100; i++) t.add(`k${i}`, i);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get('k1')).toBeUndefined();
    t.add('k1', 7);
    expect(t.get('k1')).toBe(7);
  });
});
