/**
 * A small, fast seeded PRNG (SplitMix32). Datagen reseeds it per record from (seed, record index),
 * so record i is the same whichever subtask generates it and however the job is parallelized.
 */
export class SeededRandom {
  private state = 0;

  constructor(seed = 0) {
    this.reset(seed);
  }

  reset(seed: number, index = 0): this {
    this.state = (Math.imul(seed | 0, 0x9e3779b9) ^ Math.imul(index | 0, 0x85ebca6b) ^ Math.floor(index / 4294967296)) | 0;
    this.nextUint32();
    return this;
  }

  nextUint32(): number {
    let z = (this.state = (this.state + 0x9e3779b9) | 0);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}
