/**
 * Bit instructions: BT BTS BTR BTC (register, immediate and memory forms; a register bit index
 * with a memory operand addresses memory beyond the operand, SDM Vol. 2A "BT"), BSF BSR TZCNT
 * LZCNT POPCNT, BSWAP, and BMI1/BMI2 bit manipulation: ANDN BEXTR BLSI BLSMSK BLSR BZHI PDEP
 * PEXT.
 * @module
 */
import { type Cpu, FL, LF } from "../cpu.ts";
import { GuestFault } from "../memory.ts";
import { ea, readOp, writeOp } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";

const ADDR_LIMIT = 2 ** 47;

enum BtOp {
  Test = 0,
  Set = 1,
  Reset = 2,
  Complement = 3,
}

/** Set CF only (BT*: ZF unchanged; OF SF AF PF undefined, left unchanged here). */
function setCf(c: Cpu, cf: number): void {
  c.materialize();
  c.flags = (c.flags & ~FL.CF) | cf;
}

/** BT/BTS/BTR/BTC Ev, Gv|Ib. */
function bt(op: BtOp): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const bits = size * 8;
    if (u.k0 === K.Mem && u.k1 === K.Gpr) {
      // Memory with a register bit offset: signed offset, any distance from the operand.
      let off = readOp(c, u, 1);
      const offHi = c.hi;
      if (size === 2) off = (off << 16) >> 16;
      const byteOff = size === 8 ? offHi * 536870912 + (off >>> 3) : off >> 3;
      const a = ea(c, u) + byteOff;
      if (a < 0 || a >= ADDR_LIMIT) throw new GuestFault(a < 0 ? a + 2 ** 64 : a, "read", false);
      const m = 1 << (off & 7);
      const v = c.mem.read8(a);
      setCf(c, v & m ? 1 : 0);
      if (op === BtOp.Set) c.mem.write8(a, v | m);
      else if (op === BtOp.Reset) c.mem.write8(a, v & ~m);
      else if (op === BtOp.Complement) c.mem.write8(a, v ^ m);
      return;
    }
    const n = readOp(c, u, 1) & (bits - 1);
    let lo = readOp(c, u, 0);
    let hi = c.hi;
    let cf: number;
    if (n < 32) {
      const m = 1 << n;
      cf = (lo >>> n) & 1;
      if (op === BtOp.Set) lo |= m;
      else if (op === BtOp.Reset) lo &= ~m;
      else if (op === BtOp.Complement) lo ^= m;
    } else {
      const m = 1 << (n - 32);
      cf = (hi >>> (n - 32)) & 1;
      if (op === BtOp.Set) hi |= m;
      else if (op === BtOp.Reset) hi &= ~m;
      else if (op === BtOp.Complement) hi ^= m;
    }
    setCf(c, cf);
    if (op !== BtOp.Test) writeOp(c, u, 0, lo, hi);
  };
}

/** Count of trailing zeros of a nonzero int32. */
function ctz(v: number): number {
  return 31 - Math.clz32(v & -v);
}

/** BSF/BSR Gv, Ev: ZF=1 and the destination unchanged when the source is 0. */
function bitScan(reverse: boolean): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const lo = readOp(c, u, 1);
    const hi = c.hi;
    // ZF comes from the source (set iff it is zero); CF OF SF AF PF are undefined.
    c.lfC = 0;
    c.setLazy(LF.Res, size, 0, 0, 0, 0, lo, hi);
    if (lo === 0 && hi === 0) return;
    let n: number;
    if (reverse) n = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
    else n = lo !== 0 ? ctz(lo) : 32 + ctz(hi);
    writeOp(c, u, 0, n, 0);
  };
}

/** TZCNT/LZCNT Gv, Ev: CF = source is zero, ZF = result is zero. */
function count(leading: boolean): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const bits = size * 8;
    const lo = readOp(c, u, 1);
    const hi = c.hi;
    let n: number;
    if (leading) {
      if (size === 8) n = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
      else n = Math.clz32(lo & (size === 2 ? 0xffff : -1)) - (32 - bits);
    } else if (size === 8) n = lo !== 0 ? ctz(lo) : hi !== 0 ? 32 + ctz(hi) : 64;
    else {
      const v = lo & (size === 2 ? 0xffff : -1);
      n = v === 0 ? bits : ctz(v);
    }
    c.lfC = n === bits ? FL.CF : 0;
    c.setLazy(LF.Res, size, 0, 0, 0, 0, n, 0);
    writeOp(c, u, 0, n, 0);
  };
}

/** Population count of an int32. */
function pop32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) | 0;
}

/** POPCNT Gv, Ev: ZF = source is zero, CF OF SF AF PF cleared. */
const popcnt: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  let lo = readOp(c, u, 1);
  const hi = c.hi;
  if (size === 2) lo &= 0xffff;
  const n = pop32(lo) + (size === 8 ? pop32(hi) : 0);
  c.materialize();
  c.flags = (c.flags & ~FL.ARITH) | (n === 0 ? FL.ZF : 0);
  writeOp(c, u, 0, n, 0);
};

function swap32(v: number): number {
  return (v >>> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24) | 0;
}

/** BSWAP r32/r64 (a 16-bit operand is undefined in the SDM; CPUs clear the low word). */
const bswap: Handler = (c: Cpu, u: Uop) => {
  const r = c.regs;
  const i = 2 * u.r0;
  if (u.s0 === 8) {
    const lo = r[i]!;
    r[i] = swap32(r[i + 1]!);
    r[i + 1] = swap32(lo);
  } else if (u.s0 === 4) {
    r[i] = swap32(r[i]!);
    r[i + 1] = 0;
  } else r[i] = r[i]! & ~0xffff;
};

/** BMI results: SF ZF from the result, CF given, OF clear (AF PF undefined). */
function bmiFlags(c: Cpu, size: number, lo: number, hi: number, cf: number): void {
  c.lfC = cf ? FL.CF : 0;
  c.setLazy(LF.Res, size, 0, 0, 0, 0, lo, hi);
}

/** ANDN Gy, By, Ey: ~By & Ey. */
const andn: Handler = (c: Cpu, u: Uop) => {
  const a = readOp(c, u, 1);
  const ah = c.hi;
  const b = readOp(c, u, 2);
  const bh = c.hi;
  const lo = ~a & b;
  const hi = u.s0 === 8 ? ~ah & bh : 0;
  bmiFlags(c, u.s0, lo, hi, 0);
  writeOp(c, u, 0, lo, hi);
};

/** Mask of the low `n` bits (0-64) as halves → mkLo/mkHi. */
let mkLo = 0;
let mkHi = 0;
function lowMask(n: number): void {
  if (n >= 64) {
    mkLo = -1;
    mkHi = -1;
  } else if (n >= 32) {
    mkLo = -1;
    mkHi = n === 32 ? 0 : -1 >>> (64 - n);
  } else {
    mkLo = n === 0 ? 0 : -1 >>> (32 - n);
    mkHi = 0;
  }
}

/** BEXTR Gy, Ey, By: bits [start, start+len) of Ey, start = By[7:0], len = By[15:8]. ZF; CF OF clear. */
const bextr: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const bits = size * 8;
  const a = readOp(c, u, 1);
  const ah = c.hi;
  const ctl = readOp(c, u, 2);
  const start = ctl & 0xff;
  const len = (ctl >>> 8) & 0xff;
  let lo = 0;
  let hi = 0;
  if (start < bits) {
    // Shift right by start.
    if (size === 8) {
      if (start === 0) {
        lo = a;
        hi = ah;
      } else if (start < 32) {
        lo = (a >>> start) | (ah << (32 - start));
        hi = ah >>> start;
      } else {
        lo = ah >>> (start - 32);
        hi = 0;
      }
    } else lo = a >>> start;
    lowMask(Math.min(len, bits));
    lo &= mkLo;
    hi = size === 8 ? hi & mkHi : 0;
  }
  bmiFlags(c, size, lo, hi, 0);
  writeOp(c, u, 0, lo | 0, hi);
};

/** BLSI/BLSMSK/BLSR By, Ey. */
function bls(kind: "i" | "msk" | "r"): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const a = readOp(c, u, 1);
    const ah = size === 8 ? c.hi : 0;
    const zero = a === 0 && ah === 0;
    // a - 1 and -a as halves.
    const mLo = (a - 1) | 0;
    const mHi = size === 8 ? (a === 0 ? ah - 1 : ah) | 0 : 0;
    let lo: number;
    let hi: number;
    if (kind === "i") {
      const nLo = -a | 0;
      const nHi = size === 8 ? (~ah + (a === 0 ? 1 : 0)) | 0 : 0;
      lo = a & nLo;
      hi = ah & nHi;
    } else if (kind === "msk") {
      lo = a ^ mLo;
      hi = size === 8 ? ah ^ mHi : 0;
    } else {
      lo = a & mLo;
      hi = size === 8 ? ah & mHi : 0;
    }
    // BLSI: CF = source nonzero; BLSMSK, BLSR: CF = source zero. BLSMSK clears ZF (never zero).
    bmiFlags(c, size, lo, hi, kind === "i" ? (zero ? 0 : 1) : zero ? 1 : 0);
    writeOp(c, u, 0, lo, hi);
  };
}

/** BZHI Gy, Ey, By: clear bits from index By[7:0]; CF = index beyond the operand. */
const bzhi: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const bits = size * 8;
  let lo = readOp(c, u, 1);
  let hi = c.hi;
  const n = readOp(c, u, 2) & 0xff;
  if (n < bits) {
    lowMask(n);
    lo &= mkLo;
    hi &= mkHi;
  }
  if (size !== 8) hi = 0;
  bmiFlags(c, size, lo, hi, n > bits - 1 ? 1 : 0);
  writeOp(c, u, 0, lo, hi);
};

/** PDEP Gy, By, Ey: deposit the low bits of By at the set bits of the mask Ey. */
const pdep: Handler = (c: Cpu, u: Uop) => {
  const src = readOp(c, u, 1);
  const srcH = c.hi;
  let mLo = readOp(c, u, 2);
  let mHi = u.s0 === 8 ? c.hi : 0;
  let lo = 0;
  let hi = 0;
  let k = 0;
  while (mLo !== 0) {
    const b = mLo & -mLo;
    if ((k < 32 ? src >>> k : srcH >>> (k - 32)) & 1) lo |= b;
    mLo ^= b;
    k++;
  }
  while (mHi !== 0) {
    const b = mHi & -mHi;
    if ((k < 32 ? src >>> k : srcH >>> (k - 32)) & 1) hi |= b;
    mHi ^= b;
    k++;
  }
  writeOp(c, u, 0, lo, hi);
};

/** PEXT Gy, By, Ey: gather the bits of By at the set bits of the mask Ey into the low bits. */
const pext: Handler = (c: Cpu, u: Uop) => {
  const src = readOp(c, u, 1);
  const srcH = c.hi;
  let mLo = readOp(c, u, 2);
  let mHi = u.s0 === 8 ? c.hi : 0;
  let lo = 0;
  let hi = 0;
  let k = 0;
  while (mLo !== 0) {
    const b = mLo & -mLo;
    if (src & b) {
      if (k < 32) lo |= 1 << k;
      else hi |= 1 << (k - 32);
    }
    mLo ^= b;
    k++;
  }
  while (mHi !== 0) {
    const b = mHi & -mHi;
    if (srcH & b) {
      if (k < 32) lo |= 1 << k;
      else hi |= 1 << (k - 32);
    }
    mHi ^= b;
    k++;
  }
  writeOp(c, u, 0, lo, hi);
};

/** Handlers by form name. */
export const BITS: Record<string, Handler> = {
  bt_Ev_Gv: bt(BtOp.Test),
  bts_Ev_Gv: bt(BtOp.Set),
  btr_Ev_Gv: bt(BtOp.Reset),
  btc_Ev_Gv: bt(BtOp.Complement),
  bt_Ev_Ib: bt(BtOp.Test),
  bts_Ev_Ib: bt(BtOp.Set),
  btr_Ev_Ib: bt(BtOp.Reset),
  btc_Ev_Ib: bt(BtOp.Complement),
  bsf_Gv_Ev: bitScan(false),
  bsr_Gv_Ev: bitScan(true),
  tzcnt_Gv_Ev: count(false),
  lzcnt_Gv_Ev: count(true),
  popcnt_Gv_Ev: popcnt,
  bswap_Zy: bswap,
  andn_Gy_By_Ey: andn,
  bextr_Gy_Ey_By: bextr,
  blsi_By_Ey: bls("i"),
  blsmsk_By_Ey: bls("msk"),
  blsr_By_Ey: bls("r"),
  bzhi_Gy_Ey_By: bzhi,
  pdep_Gy_By_Ey: pdep,
  pext_Gy_By_Ey: pext,
};
