/**
 * Number keys that are 32-bit integers are V8 small integers in the state backends, also when they
 * come as heap numbers (a field read from a Float64Array, a tuple of doubles) or from stored bytes:
 * one heap number among small-integer keys changes the layout of the backend's entry objects, and
 * every entry made after that is migrated in the runtime (Nexmark q4 at p2: 1,652 migrations in
 * 200k events). Checked in a child process that may use V8's %IsSmi.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { smallIntegerKey } from '../../../state/key-codec.ts';

describe('small-integer keys', () => {
  it('keeps every key value as it is', () => {
    for (const k of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2.5, 2 ** 53, Infinity, 'k', true, [1, 'a']] as const) {
      expect(smallIntegerKey(k)).toEqual(k);
    }
    expect(Object.is(smallIntegerKey(-0), -0)).toBe(true);
  });

  it('makes a heap-number key, current or decoded from stored bytes, a small integer', () => {
    const child = fileURLToPath(new URL('./fixtures/key-layout-child.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', child], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      heapNumberIsNotSmi: true,
      currentIsSmi: true,
      sameEntry: true,
      decodedIsSmi: true,
      decodedValue: 12345,
      fractionKept: true,
      negativeZeroKept: true,
    });
  });
});
