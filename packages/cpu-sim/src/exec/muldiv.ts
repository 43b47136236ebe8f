/**
 * Multiply and divide: MUL/IMUL (one, two and three operands) and DIV/IDIV at 8/16/32/64 bits,
 * MULX (BMI2). Products are computed exactly from 16-bit pieces (no BigInt); only 128-by-64-bit
 * division whose operands leave the exact double range uses BigInt.
 *
 * Flags: MUL/IMUL set CF=OF when the high half is significant; SF ZF AF PF are undefined (we
 * set SF ZF PF from the low result, AF clear). DIV/IDIV leave all six undefined (unchanged here).
 * A zero divisor or a quotient that does not fit raises #DE.
 * @module
 */
import { type Cpu, FL, LF } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import { readOp, writeOp } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

const TWO32 = 4294967296;

// 64x64 → 128 product scratch: p0 (least significant) … p3, int32 each.
let p0 = 0;
let p1 = 0;
let p2 = 0;
let p3 = 0;
// 32x32 → 64 scratch.
let mLo = 0;
let mHi = 0;

/** Unsigned 32x32 → 64 product of int32 bit patterns → mLo/mHi (int32 halves). */
function mulU32(a: number, b: number): void {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  mLo = ((mid & 0xffff) << 16) | (ll & 0xffff);
  mHi = (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** Unsigned 64x64 → 128 product → p0..p3. */
function mulU64(al: number, ah: number, bl: number, bh: number): void {
  mulU32(al, bl);
  const q0 = mLo;
  let q1 = mHi >>> 0;
  mulU32(al, bh);
  let q2 = mHi >>> 0;
  let t = q1 + (mLo >>> 0);
  q1 = t >>> 0;
  let carry = t >= TWO32 ? 1 : 0;
  mulU32(ah, bl);
  t = q1 + (mLo >>> 0);
  q1 = t >>> 0;
  carry += t >= TWO32 ? 1 : 0;
  t = q2 + (mHi >>> 0) + carry;
  q2 = t >>> 0;
  let q3 = t >= TWO32 ? 1 : 0;
  mulU32(ah, bh);
  t = q2 + (mLo >>> 0);
  q2 = t >>> 0;
  q3 += (mHi >>> 0) + (t >= TWO32 ? 1 : 0);
  p0 = q0;
  p1 = q1 | 0;
  p2 = q2 | 0;
  p3 = q3 | 0;
}

/** Signed 64x64 → 128 product → p0..p3: the unsigned product with the high half corrected. */
function mulS64(al: number, ah: number, bl: number, bh: number): void {
  mulU64(al, ah, bl, bh);
  if (ah < 0) sub64hi(bl, bh);
  if (bh < 0) sub64hi(al, ah);
}

/** (p3:p2) -= (h:l). */
function sub64hi(l: number, h: number): void {
  const d = (p2 >>> 0) - (l >>> 0);
  p2 = d | 0;
  p3 = (p3 - h - (d < 0 ? 1 : 0)) | 0;
}

function mulFlags(c: Cpu, size: number, lo: number, hi: number, overflow: boolean): void {
  c.lfC = overflow ? FL.CF | FL.OF : 0;
  c.setLazy(LF.Res, size, 0, 0, 0, 0, lo, hi);
}

/** MUL r/m (unsigned, one operand): AX / DX:AX / EDX:EAX / RDX:RAX = rAX * src. */
const mul1: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const b = readOp(c, u, 0);
  const bh = c.hi;
  const r = c.regs;
  if (size === 1) {
    const p = (r[0]! & 0xff) * b;
    r[0] = (r[0]! & ~0xffff) | p;
    mulFlags(c, 1, p, 0, p > 0xff);
  } else if (size === 2) {
    const p = (r[0]! & 0xffff) * b;
    r[0] = (r[0]! & ~0xffff) | (p & 0xffff);
    r[4] = (r[4]! & ~0xffff) | (p >>> 16);
    mulFlags(c, 2, p, 0, p > 0xffff);
  } else if (size === 4) {
    mulU32(r[0]!, b);
    r[0] = mLo;
    r[1] = 0;
    r[4] = mHi;
    r[5] = 0;
    mulFlags(c, 4, mLo, 0, mHi !== 0);
  } else {
    mulU64(r[0]!, r[1]!, b, bh);
    r[0] = p0;
    r[1] = p1;
    r[4] = p2;
    r[5] = p3;
    mulFlags(c, 8, p0, p1, p2 !== 0 || p3 !== 0);
  }
};

/** IMUL r/m (signed, one operand). */
const imul1: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const b = readOp(c, u, 0);
  const bh = c.hi;
  const r = c.regs;
  if (size === 1) {
    const p = ((r[0]! << 24) >> 24) * ((b << 24) >> 24);
    r[0] = (r[0]! & ~0xffff) | (p & 0xffff);
    mulFlags(c, 1, p & 0xff, 0, p !== (p << 24) >> 24);
  } else if (size === 2) {
    const p = ((r[0]! << 16) >> 16) * ((b << 16) >> 16);
    r[0] = (r[0]! & ~0xffff) | (p & 0xffff);
    r[4] = (r[4]! & ~0xffff) | ((p >> 16) & 0xffff);
    mulFlags(c, 2, p & 0xffff, 0, p !== (p << 16) >> 16);
  } else if (size === 4) {
    const a = r[0]!;
    mulU32(a, b);
    let hi = mHi;
    if (a < 0) hi = (hi - b) | 0;
    if (b < 0) hi = (hi - a) | 0;
    r[0] = mLo;
    r[1] = 0;
    r[4] = hi;
    r[5] = 0;
    mulFlags(c, 4, mLo, 0, hi !== mLo >> 31);
  } else {
    mulS64(r[0]!, r[1]!, b, bh);
    r[0] = p0;
    r[1] = p1;
    r[4] = p2;
    r[5] = p3;
    mulFlags(c, 8, p0, p1, p2 !== p1 >> 31 || p3 !== p1 >> 31);
  }
};

/** IMUL Gv, Ev (two operands) and IMUL Gv, Ev, imm (three): truncated signed product. */
function imulN(three: boolean): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    let a: number;
    let ah: number;
    let b: number;
    let bh: number;
    if (three) {
      a = readOp(c, u, 1);
      ah = c.hi;
      b = u.immLo;
      bh = u.immHi;
    } else {
      a = readOp(c, u, 0);
      ah = c.hi;
      b = readOp(c, u, 1);
      bh = c.hi;
    }
    if (size === 2) {
      const p = ((a << 16) >> 16) * ((b << 16) >> 16);
      mulFlags(c, 2, p & 0xffff, 0, p !== (p << 16) >> 16);
      writeOp(c, u, 0, p, 0);
    } else if (size === 4) {
      const p = a * b; // |p| < 2^62: the range test below is exact even where p is rounded
      const lo = Math.imul(a, b);
      mulFlags(c, 4, lo, 0, p < -2147483648 || p > 2147483647);
      writeOp(c, u, 0, lo, 0);
    } else {
      mulS64(a, ah, b, bh);
      const lo = p0;
      const hi = p1;
      mulFlags(c, 8, lo, hi, p2 !== hi >> 31 || p3 !== hi >> 31);
      writeOp(c, u, 0, lo, hi);
    }
  };
}

/** MULX Gy(hi), By(lo), Ey: unsigned rDX * src, flags untouched; the high half is written last. */
const mulx: Handler = (c: Cpu, u: Uop) => {
  const b = readOp(c, u, 2);
  const bh = c.hi;
  const r = c.regs;
  if (u.s0 === 8) {
    mulU64(r[4]!, r[5]!, b, bh);
    writeOp(c, u, 1, p0, p1);
    writeOp(c, u, 0, p2, p3);
  } else {
    mulU32(r[4]!, b);
    const hi = mHi;
    writeOp(c, u, 1, mLo, 0);
    writeOp(c, u, 0, hi, 0);
  }
};

function divideError(u: Uop, what: string): never {
  throw new CpuException(Vec.DE, `divide error (${what}) at 0x${u.ip.toString(16)}`);
}

/** DIV r/m: unsigned rDX:rAX / src → quotient in rAX, remainder in rDX. */
const div: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const b = readOp(c, u, 0);
  const bh = c.hi;
  const r = c.regs;
  if (size === 1) {
    if (b === 0) divideError(u, "divide by zero");
    const n = r[0]! & 0xffff;
    const q = Math.floor(n / b);
    if (q > 0xff) divideError(u, "quotient too large");
    r[0] = (r[0]! & ~0xffff) | ((n - q * b) << 8) | q;
  } else if (size === 2) {
    if (b === 0) divideError(u, "divide by zero");
    const n = (r[4]! & 0xffff) * 65536 + (r[0]! & 0xffff);
    const q = Math.floor(n / b);
    if (q > 0xffff) divideError(u, "quotient too large");
    r[0] = (r[0]! & ~0xffff) | q;
    r[4] = (r[4]! & ~0xffff) | (n - q * b);
  } else if (size === 4) {
    const d = b >>> 0;
    if (d === 0) divideError(u, "divide by zero");
    const hi = r[4]! >>> 0;
    if (hi >= d) divideError(u, "quotient too large");
    divU64by32(hi, r[0]! >>> 0, d);
    r[0] = dq | 0;
    r[1] = 0;
    r[4] = dr | 0;
    r[5] = 0;
  } else {
    const dl = b >>> 0;
    const dh = bh >>> 0;
    if (dl === 0 && dh === 0) divideError(u, "divide by zero");
    const nl = r[0]! >>> 0;
    const nh = r[1]! >>> 0;
    if (r[4] === 0 && r[5] === 0 && nh < 0x100000 && dh < 0x100000) {
      // Both below 2^52: the quotient of two such doubles floors exactly.
      const n = nh * TWO32 + nl;
      const d = dh * TWO32 + dl;
      const q = Math.floor(n / d);
      setPair(c, 0, q);
      setPair(c, 2, n - q * d);
      return;
    }
    const n = (c.reg64n(2) << 64n) | c.reg64n(0);
    const d = (BigInt(dh) << 32n) | BigInt(dl);
    const q = n / d;
    if (q > 0xffffffffffffffffn) divideError(u, "quotient too large");
    c.setReg64n(0, q);
    c.setReg64n(2, n - q * d);
  }
};

/** IDIV r/m: signed division, quotient truncated toward zero, remainder has the dividend's sign. */
const idiv: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const b = readOp(c, u, 0);
  const bh = c.hi;
  const r = c.regs;
  if (size === 1) {
    const d = (b << 24) >> 24;
    if (d === 0) divideError(u, "divide by zero");
    const n = (r[0]! << 16) >> 16;
    const q = Math.trunc(n / d);
    if (q > 127 || q < -128) divideError(u, "quotient too large");
    r[0] = (r[0]! & ~0xffff) | (((n - q * d) & 0xff) << 8) | (q & 0xff);
  } else if (size === 2) {
    const d = (b << 16) >> 16;
    if (d === 0) divideError(u, "divide by zero");
    const n = (r[4]! << 16) | (r[0]! & 0xffff) | 0;
    const q = Math.trunc(n / d);
    if (q > 32767 || q < -32768) divideError(u, "quotient too large");
    r[0] = (r[0]! & ~0xffff) | (q & 0xffff);
    r[4] = (r[4]! & ~0xffff) | ((n - q * d) & 0xffff);
  } else if (size === 4) {
    const d = b | 0;
    if (d === 0) divideError(u, "divide by zero");
    const nh = r[4]! | 0;
    const nl = r[0]! >>> 0;
    const neg = nh < 0;
    // |dividend| as (hi, lo) unsigned.
    let ah = nh >>> 0;
    let al = nl;
    if (neg) {
      al = (TWO32 - al) % TWO32;
      ah = (~nh >>> 0) + (nl === 0 ? 1 : 0);
    }
    const ad = Math.abs(d);
    if (ah >= ad) divideError(u, "quotient too large");
    divU64by32(ah, al, ad);
    const qneg = neg !== d < 0;
    const q = qneg ? -dq : dq;
    if (q > 2147483647 || q < -2147483648) divideError(u, "quotient too large");
    r[0] = q | 0;
    r[1] = 0;
    r[4] = (neg ? -dr : dr) | 0;
    r[5] = 0;
  } else {
    const dl = b | 0;
    const dh = bh | 0;
    if (dl === 0 && dh === 0) divideError(u, "divide by zero");
    const nl = r[0]!;
    const nh = r[1]!;
    const ext = nh >> 31;
    // Fast path: RDX is the sign extension of RAX and both values are within ±2^53.
    if (r[4] === ext && r[5] === ext && small(nl, nh) && small(dl, dh)) {
      const n = nh * TWO32 + (nl >>> 0);
      const d = dh * TWO32 + (dl >>> 0);
      const q = Math.trunc(n / d);
      setPair(c, 0, q);
      setPair(c, 2, n - q * d);
      return;
    }
    const n = BigInt.asIntN(128, (c.reg64n(2) << 64n) | c.reg64n(0));
    const d = BigInt.asIntN(64, (BigInt(dh >>> 0) << 32n) | BigInt(dl >>> 0));
    const q = n / d;
    if (q > 0x7fffffffffffffffn || q < -0x8000000000000000n) divideError(u, "quotient too large");
    c.setReg64n(0, BigInt.asUintN(64, q));
    c.setReg64n(2, BigInt.asUintN(64, n - q * d));
  }
};

/** A signed 64-bit value (lo, hi) whose magnitude is below 2^52. */
function small(lo: number, hi: number): boolean {
  return (hi >= 0 && hi < 0x100000) || (hi < 0 && hi >= -0x100000 && !(hi === -0x100000 && lo === 0));
}

/** Write an integer-valued number (|v| < 2^53) to a register as 64 bits. */
function setPair(c: Cpu, reg: number, v: number): void {
  const lo = v % TWO32;
  const l = lo < 0 ? lo + TWO32 : lo;
  c.regs[2 * reg] = l | 0;
  c.regs[2 * reg + 1] = Math.floor((v - l) / TWO32) | 0;
}

let dq = 0;
let dr = 0;
/** Unsigned (hi:lo) / d with hi < d < 2^32 → dq, dr (exact: every step stays below 2^48). */
function divU64by32(hi: number, lo: number, d: number): void {
  const n1 = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(n1 / d);
  const n0 = (n1 - q1 * d) * 65536 + (lo & 0xffff);
  const q0 = Math.floor(n0 / d);
  dq = q1 * 65536 + q0;
  dr = n0 - q0 * d;
}

/** Handlers by form name. */
export const MULDIV: Record<string, Handler> = {
  mul_Eb: mul1,
  mul_Ev: mul1,
  imul_Eb: imul1,
  imul_Ev: imul1,
  imul_Gv_Ev: imulN(false),
  imul_Gv_Ev_Iz: imulN(true),
  imul_Gv_Ev_Ibs: imulN(true),
  div_Eb: div,
  div_Ev: div,
  idiv_Eb: idiv,
  idiv_Ev: idiv,
  mulx_Gy_By_Ey: mulx,
};
