/**
 * The on-disk layout of keyed state, shared by the LMDB backend and the snapshot format. Keys are
 * lmdb-js ordered arrays, so that one key group is one contiguous range, inside it one state, inside
 * it one key, and inside that the user keys in order:
 *
 *   value, reducing, aggregating:  [keyGroup, stateName, arity, ...keyParts]
 *   list element:                  [keyGroup, stateName, arity, ...keyParts, seq]
 *   map entry:                     [keyGroup, stateName, arity, ...keyParts, userArity, ...userKeyParts]
 *   timer:                         [keyGroup, TIMERS, domain, time, arity, ...keyParts, namespace]
 *
 * `arity` is 0 for a primitive key (one part) and n for an n-tuple. Values are msgpack; a state with
 * TTL stores `[expiresAt, value]`. bigint key parts are stored as strings tagged with \u0002
 * (ordered-binary has no bigint).
 */
import * as lmdb from 'lmdb';
import { ConfigError } from '../runtime/errors.ts';
import { smallIntegerKey } from './key-codec.ts';
import type { KeyPrimitive, StateKey } from './key-groups.ts';
import type { TimeDomain } from './timers.ts';

export type KeyPart = string | number | boolean;

// lmdb-js exports its ordered-binary key codec (configured as its databases use it) but does not declare it.
const keyCodec = lmdb as unknown as {
  keyValueToBuffer(key: readonly unknown[]): Uint8Array;
  bufferToKeyValue(bytes: Uint8Array): unknown;
};

/** A key array as the bytes LMDB stores (a fresh copy). */
export function encodeKeyBytes(parts: readonly unknown[]): Buffer {
  return Buffer.from(keyCodec.keyValueToBuffer(parts));
}

/** A key array as the bytes LMDB stores: a view into the codec's shared buffer, valid until the next key is encoded (copy it at once). */
export function encodeKeyView(parts: readonly unknown[]): Uint8Array {
  return keyCodec.keyValueToBuffer(parts);
}

export function decodeKeyBytes(bytes: Uint8Array): unknown[] {
  return keyCodec.bufferToKeyValue(bytes) as unknown[];
}

/** Reserved state name for timers; user state names must not start with \u0001. */
export const TIMERS = '\u0001timers';
const BIGINT_TAG = '\u0002';

export function domainCode(domain: TimeDomain): number {
  return domain === 'event' ? 0 : 1;
}

export function encodePart(k: KeyPrimitive): KeyPart {
  if (typeof k === 'bigint') return BIGINT_TAG + k.toString();
  // ordered-binary garbles -0; JS Maps and keyGroupOf treat it as 0 anyway.
  if (k === 0) return 0;
  return k;
}

export function decodePart(p: unknown): KeyPrimitive {
  if (typeof p === 'string' && p.charCodeAt(0) === 2) return BigInt(p.slice(1));
  // Decoded numbers are heap numbers: as the live keys are, small integers (see smallIntegerKey).
  return smallIntegerKey(p as KeyPrimitive) as KeyPrimitive;
}

/** Appends `arity, ...parts` of `key` to `out`. */
export function pushKey(out: KeyPart[], key: StateKey): KeyPart[] {
  if (typeof key !== 'object') {
    out.push(0, encodePart(key));
  } else {
    out.push(key.length);
    for (let i = 0; i < key.length; i++) out.push(encodePart(key[i]!));
  }
  return out;
}

/** The key written at `at` by pushKey, and the index after it. */
export function readKey(parts: readonly unknown[], at: number): [StateKey, number] {
  const arity = parts[at] as number;
  if (arity === 0) return [decodePart(parts[at + 1]), at + 2];
  const key: KeyPrimitive[] = new Array(arity);
  for (let i = 0; i < arity; i++) key[i] = decodePart(parts[at + 1 + i]);
  return [key, at + 1 + arity];
}

export function stateKeyPrefix(keyGroup: number, name: string, key: StateKey): KeyPart[] {
  return pushKey([keyGroup, name], key);
}

/**
 * The LMDB keys of one state, encoded with the `[keyGroup, stateName]` part cached per key group:
 * ordered-binary writes an array as its elements separated by a 0 byte, so the key of
 * `stateKeyPrefix(kg, name, key)` is `prefix(kg)` (that part and the separator) followed by
 * `tail(key)` (`[arity, ...keyParts]` alone). Writing back a table of many keys then encodes the
 * state name once per key group instead of once per key.
 */
export class StateKeyEncoder {
  private readonly prefixes = new Map<number, Uint8Array>();
  private readonly scratch: KeyPart[] = [];
  constructor(readonly name: string) {}

  prefix(keyGroup: number): Uint8Array {
    let p = this.prefixes.get(keyGroup);
    if (p === undefined) {
      const head = encodeKeyView([keyGroup, this.name]);
      p = new Uint8Array(head.length + 1);
      p.set(head);
      this.prefixes.set(keyGroup, p);
    }
    return p;
  }

  /** A view valid until the next key is encoded (copy it at once). */
  tail(key: StateKey): Uint8Array {
    const s = this.scratch;
    s.length = 0;
    return encodeKeyView(pushKey(s, key));
  }
}

export function timerKey(keyGroup: number, domain: TimeDomain, time: number, key: StateKey, namespace: string): KeyPart[] {
  const k = pushKey([keyGroup, TIMERS, domainCode(domain), time === 0 ? 0 : time], key);
  k.push(namespace);
  return k;
}

const ZERO = Buffer.from([0]);
const ONE = Buffer.from([1]);

/** [start, end) of every key that extends `prefix` by at least one part. */
export function prefixRange(prefix: readonly KeyPart[]): { start: Buffer; end: Buffer } {
  const p = encodeKeyBytes(prefix);
  return { start: Buffer.concat([p, ZERO]), end: Buffer.concat([p, ONE]) };
}

export function validateStateName(name: string): void {
  if (name.length === 0 || name.charCodeAt(0) < 3) {
    throw new ConfigError('state descriptor name', `${JSON.stringify(name)} is reserved: state names must be non-empty and must not start with a control character; rename the state`);
  }
}
