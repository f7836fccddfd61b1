/**
 * A batch of LMDB writes encoded as bytes, built on the processing thread and applied by the writer
 * thread in one transaction: `op u8, keyLength u32, key, [valueLength u32, value]`.
 */
export const PUT = 1;
export const DELETE = 2;

export class WriteBatchBuilder {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;
  count = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.ensure(9 + key.length + value.length);
    const b = this.buf;
    let p = this.pos;
    b[p] = PUT;
    b.writeUInt32LE(key.length, p + 1);
    b.set(key, p + 5);
    p += 5 + key.length;
    b.writeUInt32LE(value.length, p);
    b.set(value, p + 4);
    this.pos = p + 4 + value.length;
    this.count++;
  }

  /** A put whose key is `head` followed by `tail` (StateKeyEncoder). */
  putKey2(head: Uint8Array, tail: Uint8Array, value: Uint8Array): void {
    const kl = head.length + tail.length;
    this.ensure(9 + kl + value.length);
    const b = this.buf;
    let p = this.pos;
    b[p] = PUT;
    b.writeUInt32LE(kl, p + 1);
    b.set(head, p + 5);
    b.set(tail, p + 5 + head.length);
    p += 5 + kl;
    b.writeUInt32LE(value.length, p);
    b.set(value, p + 4);
    this.pos = p + 4 + value.length;
    this.count++;
  }

  /**
   * A put of the entry at `at` in `src`, bytes in the snapshot entry format (snapshot/entry-file.ts:
   * `keyLength u32, key, valueLength u32, value`, this format without the op byte): copied, not encoded.
   */
  putEntry(src: Buffer, at: number): void {
    const keyEnd = at + 4 + src.readUInt32LE(at);
    const end = keyEnd + 4 + src.readUInt32LE(keyEnd);
    this.ensure(1 + end - at);
    this.buf[this.pos] = PUT;
    src.copy(this.buf, this.pos + 1, at, end);
    this.pos += 1 + end - at;
    this.count++;
  }

  delete(key: Uint8Array): void {
    this.ensure(5 + key.length);
    const b = this.buf;
    b[this.pos] = DELETE;
    b.writeUInt32LE(key.length, this.pos + 1);
    b.set(key, this.pos + 5);
    this.pos += 5 + key.length;
    this.count++;
  }

  /** The encoded batch (its own ArrayBuffer, so it can be transferred). */
  finish(): Uint8Array {
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    this.pos = 0;
    this.count = 0;
    return out;
  }
}

export function forEachWrite(batch: Uint8Array, onWrite: (op: number, key: Buffer, value: Buffer | undefined) => void): void {
  const b = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  let p = 0;
  while (p < b.length) {
    const op = b[p]!;
    const kl = b.readUInt32LE(p + 1);
    const key = b.subarray(p + 5, p + 5 + kl);
    p += 5 + kl;
    if (op === PUT) {
      const vl = b.readUInt32LE(p);
      onWrite(op, key, b.subarray(p + 4, p + 4 + vl));
      p += 4 + vl;
    } else {
      onWrite(op, key, undefined);
    }
  }
}
