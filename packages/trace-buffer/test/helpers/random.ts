/** A small seeded pseudo-random generator (xorshift32) so that test inputs are repeatable. */
export class Rng {
  private s: number;

  /** A generator seeded with `seed` (any nonzero 32-bit integer). */
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }

  /** Next 32-bit unsigned integer. */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}
