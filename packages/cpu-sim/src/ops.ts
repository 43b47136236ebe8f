/**
 * Operand access for handlers: effective addresses, reading and writing register or memory
 * operands of any size as int32 halves. 64-bit values: the low half is returned and the high
 * half left in `c.hi`; writes take both halves.
 * @module
 */
import type { Cpu } from "./cpu.ts";
import { GuestFault } from "./memory.ts";
import { K, type Uop } from "./uop.ts";

const TWO32 = 4294967296;
const TWO64 = 2 ** 64;
/** Canonical user-space addresses are below 2^47; anything else faults (#GP → SIGSEGV). */
const ADDR_LIMIT = 2 ** 47;

/** Effective address of the memory operand of `u` (a number; faults when not canonical user space). */
export function ea(c: Cpu, u: Uop): number {
  let a: number;
  if (u.mAbs >= 0) a = u.mAbs;
  else {
    a = u.mDisp;
    const regs = c.regs;
    if (u.asize === 4) {
      // 32-bit addressing: only the low halves count; the sum wraps modulo 2^32.
      if (u.mBase >= 0) a += regs[2 * u.mBase]! >>> 0;
      if (u.mIndex >= 0) a += (regs[2 * u.mIndex]! >>> 0) * u.mScale;
      if (a >>> 0 !== a) a = ((a % TWO32) + TWO32) % TWO32;
    } else {
      // Registers as signed 64-bit values, exact while each is within ±2^47 (addresses and
      // negative offsets such as an index of -8); anything larger takes the exact slow path.
      let big = false;
      if (u.mBase >= 0) {
        const h = regs[2 * u.mBase + 1]!;
        if (h >= 0x8000 || h < -0x8000) big = true;
        a += h * TWO32 + (regs[2 * u.mBase]! >>> 0);
      }
      if (u.mIndex >= 0) {
        const h = regs[2 * u.mIndex + 1]!;
        if (h >= 0x8000 || h < -0x8000) big = true;
        a += (h * TWO32 + (regs[2 * u.mIndex]! >>> 0)) * u.mScale;
      }
      if (big) a = eaWide(c, u);
      else if (a >= TWO64) a -= TWO64;
    }
  }
  if (u.mSeg === 4) a += c.fsBase;
  else if (u.mSeg === 5) a += c.gsBase;
  if (a < 0 || a >= ADDR_LIMIT) {
    // Wrap-around below zero (e.g. a small base with a negative displacement) is non-canonical too.
    throw new GuestFault(a < 0 ? a + TWO64 : a, "read", false);
  }
  return a;
}

/** 64-bit effective address modulo 2^64 with BigInt (rare: a register beyond ±2^47). */
function eaWide(c: Cpu, u: Uop): number {
  let n = BigInt(u.mDisp);
  if (u.mBase >= 0) n += c.reg64n(u.mBase);
  if (u.mIndex >= 0) n += c.reg64n(u.mIndex) * BigInt(u.mScale);
  return Number(BigInt.asUintN(64, n));
}

/** Read a GPR of `size` bytes (1/2/4/8; `high` for AH..BH). 8 bytes: low half returned, high in c.hi. */
export function getGpr(c: Cpu, r: number, size: number, high: number): number {
  const regs = c.regs;
  switch (size) {
    case 8:
      c.hi = regs[2 * r + 1]!;
      return regs[2 * r]!;
    case 4:
      c.hi = 0;
      return regs[2 * r]!;
    case 2:
      c.hi = 0;
      return regs[2 * r]! & 0xffff;
    default:
      c.hi = 0;
      return high ? (regs[2 * r]! >> 8) & 0xff : regs[2 * r]! & 0xff;
  }
}

/** Write a GPR with x86-64 rules: 32-bit writes zero the upper half; 8/16-bit writes merge. */
export function setGpr(c: Cpu, r: number, size: number, high: number, lo: number, hi: number): void {
  const regs = c.regs;
  switch (size) {
    case 8:
      regs[2 * r] = lo;
      regs[2 * r + 1] = hi;
      break;
    case 4:
      regs[2 * r] = lo;
      regs[2 * r + 1] = 0;
      break;
    case 2:
      regs[2 * r] = (regs[2 * r]! & ~0xffff) | (lo & 0xffff);
      break;
    default:
      if (high) regs[2 * r] = (regs[2 * r]! & ~0xff00) | ((lo & 0xff) << 8);
      else regs[2 * r] = (regs[2 * r]! & ~0xff) | (lo & 0xff);
  }
}

/** Read memory of `size` bytes at `a`; 8 bytes: low half returned, high in c.hi. */
export function readMem(c: Cpu, a: number, size: number): number {
  const m = c.mem;
  switch (size) {
    case 8: {
      const lo = m.read64(a);
      c.hi = m.hi;
      return lo;
    }
    case 4:
      c.hi = 0;
      return m.read32(a);
    case 2:
      c.hi = 0;
      return m.read16(a);
    default:
      c.hi = 0;
      return m.read8(a);
  }
}

/** Write memory of `size` bytes at `a`. */
export function writeMem(c: Cpu, a: number, size: number, lo: number, hi: number): void {
  const m = c.mem;
  switch (size) {
    case 8:
      m.write64(a, lo, hi);
      break;
    case 4:
      m.write32(a, lo);
      break;
    case 2:
      m.write16(a, lo);
      break;
    default:
      m.write8(a, lo);
  }
}

/** Read operand `k` (0-2) of `u` at its own size; immediates come sign-extended as decoded. */
export function readOp(c: Cpu, u: Uop, k: number): number {
  const kind = k === 0 ? u.k0 : k === 1 ? u.k1 : u.k2;
  const r = k === 0 ? u.r0 : k === 1 ? u.r1 : u.r2;
  const s = k === 0 ? u.s0 : k === 1 ? u.s1 : u.s2;
  switch (kind) {
    case K.Gpr:
      return getGpr(c, r, s, k === 0 ? u.h0 : k === 1 ? u.h1 : u.h2);
    case K.Mem:
      return readMem(c, ea(c, u), s);
    case K.Imm:
      c.hi = u.immHi;
      return u.immLo;
    case K.Imm2:
      c.hi = 0;
      return u.imm2;
    case K.One:
      c.hi = 0;
      return 1;
    default:
      c.hi = 0;
      return 0;
  }
}

/** Write operand `k` of `u` (register or memory) at its own size. */
export function writeOp(c: Cpu, u: Uop, k: number, lo: number, hi: number): void {
  const kind = k === 0 ? u.k0 : k === 1 ? u.k1 : u.k2;
  const r = k === 0 ? u.r0 : k === 1 ? u.r1 : u.r2;
  const s = k === 0 ? u.s0 : k === 1 ? u.s1 : u.s2;
  if (kind === K.Gpr) setGpr(c, r, s, k === 0 ? u.h0 : k === 1 ? u.h1 : u.h2, lo, hi);
  else if (kind === K.Mem) writeMem(c, ea(c, u), s, lo, hi);
}

/** Push a 64-bit value. */
export function push64(c: Cpu, lo: number, hi: number): void {
  const sp = c.reg64(4) - 8;
  c.mem.write64(sp, lo, hi);
  c.setReg64(4, sp);
}

/** Pop a 64-bit value: low half returned, high in c.hi. */
export function pop64(c: Cpu): number {
  const sp = c.reg64(4);
  const lo = c.mem.read64(sp);
  c.hi = c.mem.hi;
  c.setReg64(4, sp + 8);
  return lo;
}

/** A 64-bit value from halves as a number (exact below 2^53). */
export function toNum(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}
