/**
 * The x86-64 Linux syscall ABI as seen from a handler: arguments in RDI, RSI, RDX, R10, R8, R9
 * (syscall(2), "Architecture calling conventions"), and small helpers to read and write guest
 * structures through guest-permission-checked accesses (a bad pointer faults, and the syscall
 * layer turns the fault into -EFAULT).
 * @module
 */
import type { Cpu } from "../cpu.ts";
import type { Memory } from "../memory.ts";

const ARG_REGS = [7, 6, 2, 10, 8, 9];

/** Argument `i` (0-5) as an unsigned number (exact below 2^53; addresses and sizes). */
export function arg(c: Cpu, i: number): number {
  return c.reg64(ARG_REGS[i]!);
}
/** Argument `i` as a signed 32-bit value (ints, fds, flags). */
export function argInt(c: Cpu, i: number): number {
  return c.regs[2 * ARG_REGS[i]!]!;
}
/** Argument `i` as a signed 64-bit number (offsets; exact within ±2^53). */
export function argLong(c: Cpu, i: number): number {
  const r = ARG_REGS[i]!;
  return c.regs[2 * r + 1]! * 4294967296 + (c.regs[2 * r]! >>> 0);
}

/** Read an unsigned 64-bit guest value as a number (exact below 2^53). */
export function readU64(mem: Memory, addr: number): number {
  const lo = mem.read64(addr);
  return (mem.hi >>> 0) * 4294967296 + (lo >>> 0);
}
/** Read a signed 64-bit guest value as a number (exact within ±2^53). */
export function readI64(mem: Memory, addr: number): number {
  const lo = mem.read64(addr);
  return mem.hi * 4294967296 + (lo >>> 0);
}
/** Write a 64-bit guest value given as a number (negative values are two's complement). */
export function writeU64(mem: Memory, addr: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  mem.write64(addr, v | 0, hi | 0);
}

/** A little-endian structure being built on the host, then copied to the guest at once. */
export class StructWriter {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(off: number, v: number): this {
    this.view.setUint8(off, v & 0xff);
    return this;
  }
  u16(off: number, v: number): this {
    this.view.setUint16(off, v & 0xffff, true);
    return this;
  }
  u32(off: number, v: number): this {
    this.view.setUint32(off, v >>> 0, true);
    return this;
  }
  /** 64-bit from a number (negative values as two's complement). */
  u64(off: number, v: number): this {
    this.view.setBigUint64(off, BigInt.asUintN(64, BigInt(Math.trunc(v))), true);
    return this;
  }
  u64n(off: number, v: bigint): this {
    this.view.setBigUint64(off, BigInt.asUintN(64, v), true);
    return this;
  }
}

/** A little-endian view of guest bytes read at once. */
export class StructReader {
  readonly view: DataView;
  constructor(bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  i32(off: number): number {
    return this.view.getInt32(off, true);
  }
  u64(off: number): number {
    return Number(this.view.getBigUint64(off, true));
  }
  i64(off: number): number {
    return Number(this.view.getBigInt64(off, true));
  }
  u64n(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }
}
