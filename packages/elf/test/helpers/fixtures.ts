// The committed binary fixtures (see scripts/make-fixtures.sh) and byte-patching helpers.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Absolute path of a committed fixture, e.g. "tiny64". */
export function fixturePath(name: string): string {
  return join(here, "..", "fixtures", "bin", name);
}

/** A fresh copy of a committed fixture's bytes. */
export function fixture(name: "tiny64" | "tinylib.so" | "tiny32.o"): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** Little-endian writes into a byte array (the fixtures are little-endian). */
export function put(bytes: Uint8Array, offset: number, width: 1 | 2 | 4 | 8, value: number | bigint): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 1) view.setUint8(offset, Number(value));
  else if (width === 2) view.setUint16(offset, Number(value), true);
  else if (width === 4) view.setUint32(offset, Number(value), true);
  else view.setBigUint64(offset, BigInt(value), true);
}

/** Deterministic pseudo-random numbers: a 32-bit xorshift generator (Marsaglia, 2003). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** Next unsigned 32-bit value. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }
}
