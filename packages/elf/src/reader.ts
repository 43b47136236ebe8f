/**
 * Bounds-checked, endian-aware reads of the integer fields ELF is made of (internal).
 *
 * Callers check that a whole structure lies inside the file before reading its fields and
 * report that with a precise message; the checks here are the second line of defence that
 * turns any read that would still fall outside the bytes into an {@link ElfError} instead of
 * a RangeError from DataView.
 */
import { ElfError, hex } from "./errors.ts";

const TWO_32 = 4294967296;
/** Largest high word for which `hi * 2^32 + lo` is still an exact JavaScript number. */
const MAX_SAFE_HIGH = 0x1fffff;

/** Reads fixed-width unsigned integers from a byte array in one byte order. */
export class Reader {
  /** The whole input. */
  readonly bytes: Uint8Array;
  /** Length of the input in bytes. */
  readonly length: number;
  /** True for ELFDATA2LSB. */
  readonly little: boolean;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, little: boolean) {
    this.bytes = bytes;
    this.length = bytes.byteLength;
    this.little = little;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(offset: number, width: number): void {
    if (!(offset >= 0 && offset + width <= this.length)) {
      throw new ElfError(
        "TRUNCATED",
        `read of ${width} bytes at offset ${hex(offset)} runs past end of file (size ${hex(this.length)})`,
      );
    }
  }

  /** Unsigned 8-bit value at `offset`. */
  u8(offset: number): number {
    this.check(offset, 1);
    return this.bytes[offset]!;
  }

  /** Unsigned 16-bit value at `offset`. */
  u16(offset: number): number {
    this.check(offset, 2);
    return this.view.getUint16(offset, this.little);
  }

  /** Unsigned 32-bit value at `offset`. */
  u32(offset: number): number {
    this.check(offset, 4);
    return this.view.getUint32(offset, this.little);
  }

  /** Unsigned 64-bit value at `offset`, exact. */
  u64(offset: number): bigint {
    this.check(offset, 8);
    return this.view.getBigUint64(offset, this.little);
  }

  /**
   * Unsigned 64-bit value at `offset` as a number, or -1 when it is above 2^53 - 1 and so
   * cannot be a number exactly. Allocates nothing (no bigint).
   */
  u64n(offset: number): number {
    this.check(offset, 8);
    const lo = this.view.getUint32(offset + (this.little ? 0 : 4), this.little);
    const hi = this.view.getUint32(offset + (this.little ? 4 : 0), this.little);
    if (hi > MAX_SAFE_HIGH) return -1;
    return hi * TWO_32 + lo;
  }

  /** An address-sized (4 or 8 bytes) unsigned value at `offset`, exact. */
  addr(offset: number, is64: boolean): bigint {
    return is64 ? this.u64(offset) : BigInt(this.u32(offset));
  }

  /** An address-sized unsigned value as a number, or -1 when above 2^53 - 1 (see {@link u64n}). */
  word(offset: number, is64: boolean): number {
    return is64 ? this.u64n(offset) : this.u32(offset);
  }
}
