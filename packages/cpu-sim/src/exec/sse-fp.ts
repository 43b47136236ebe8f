/**
 * SSE/SSE2 floating-point arithmetic: ADD SUB MUL DIV SQRT MIN MAX (ps/pd/ss/sd), RCP/RSQRT,
 * CMPcc, COMIS/UCOMIS, AND/ANDN/OR/XOR, MOVMSK. Results are IEEE correctly rounded under
 * MXCSR.RC with DAZ/FZ and the sticky flags (SDM Vol. 1 §11.5). The common case (round to
 * nearest, all masked, PE already set, a normal result from normal operands) is plain JS
 * arithmetic (binary64; `Math.fround` of an exact-or-once-rounded double for binary32, which
 * is correctly rounded because 53 ≥ 2·24+2); everything else goes through the exact BigInt
 * core in `../fpu/softfloat.ts`.
 * @module
 */
import type { Cpu } from "../cpu.ts";
import * as sf from "../fpu/softfloat.ts";
import type { Handler, Uop } from "../uop.ts";
import {
  A32,
  AF32,
  AF64,
  B32,
  BF32,
  BF64,
  loadA,
  loadB,
  MX_DAZ,
  MX_FAST,
  MX_FAST_MASK,
  MX_FZ,
  MX_UM,
  mxRaise,
  R32,
  RF32,
  RF64,
  storeR,
} from "./sse-ops.ts";

/** Operations. */
const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const SQRT = 4;
const MIN = 5;
const MAX = 6;

const MIN64 = 2.2250738585072014e-308;
const MAX64 = Number.MAX_VALUE;
const MIN32 = 1.1754943508222875e-38;
const MAX32 = 3.4028234663852886e38;

function compute(op: number, a: number, b: number): number {
  switch (op) {
    case ADD:
      return a + b;
    case SUB:
      return a - b;
    case MUL:
      return a * b;
    case DIV:
      return a / b;
    default:
      return Math.sqrt(b);
  }
}

/** Result bits of the last slow lane. */
let resLo = 0;
let resHi = 0;

/** Unpack an operand with DAZ applied. */
function operand(lo: number, hi: number, single: boolean, daz: boolean): sf.SF {
  const x = single ? sf.unpackF32(lo, !daz) : sf.unpackF64(lo, hi, !daz);
  if (
    daz &&
    x.cls === sf.FINITE &&
    x.exp === (single ? -149 : -1074) &&
    sf.bitLen(x.mant) <= (single ? 23 : 52)
  )
    return new sf.SF(sf.ZERO, x.sign, 0n, 0);
  return x;
}

/** Pack a result into resLo/resHi. */
function pack(x: sf.SF, single: boolean): void {
  if (single) {
    resLo = Number(sf.packIEEE(x, 8, 23)) | 0;
    resHi = 0;
  } else {
    const b = sf.packIEEE(x, 11, 52);
    resLo = Number(b & 0xffffffffn) | 0;
    resHi = Number(b >> 32n) | 0;
  }
}

/**
 * One lane of ADD/SUB/MUL/DIV/SQRT the exact way: returns the flags, result bits in resLo/resHi.
 * SSE NaN rules (SDM Vol. 1 Table 4-7): the first source NaN wins, quieted; SNaN → IE.
 */
export function slowLane(
  mx: number,
  op: number,
  single: boolean,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
): number {
  sf.clearFlags();
  const daz = (mx & MX_DAZ) !== 0;
  const ftz = (mx & MX_FZ) !== 0 && (mx & MX_UM) !== 0;
  const rc = (mx >> 13) & 3;
  const f = single ? sf.F32 : sf.F64;
  const b = operand(bLo, bHi, single, daz);
  const a = op === SQRT ? b : operand(aLo, aHi, single, daz);
  const r = sf.arith(op, a, b, f, rc, ftz, false);
  pack(r, single);
  return sf.flags;
}

function isDen64(x: number): boolean {
  return x !== 0 && Math.abs(x) < MIN64;
}
function isDen32(x: number): boolean {
  return x !== 0 && Math.abs(x) < MIN32;
}

/** Scalar double: ADDSD … SQRTSD. */
function sd(op: number): Handler {
  return (c, u) => {
    loadB(c, u, 1, false);
    const d = u.r0 << 1;
    const a = c.xmmF64[d]!;
    const b = BF64[0]!;
    const r = compute(op, a, b);
    const ar = Math.abs(r);
    if ((c.mxcsr & MX_FAST_MASK) === MX_FAST && ar >= MIN64 && ar <= MAX64 && !isDen64(a) && !isDen64(b)) {
      c.xmmF64[d] = r;
      return;
    }
    const x = c.xmm;
    const fl = slowLane(c.mxcsr, op, false, x[2 * d]!, x[2 * d + 1]!, B32[0]!, B32[1]!);
    mxRaise(c, fl, u);
    x[2 * d] = resLo;
    x[2 * d + 1] = resHi;
  };
}

/** Scalar single: ADDSS … SQRTSS. */
function ss(op: number): Handler {
  return (c, u) => {
    loadB(c, u, 1, false);
    const d = u.r0 << 2;
    const a = c.xmmF32[d]!;
    const b = BF32[0]!;
    const r = Math.fround(compute(op, a, b));
    const ar = Math.abs(r);
    if ((c.mxcsr & MX_FAST_MASK) === MX_FAST && ar >= MIN32 && ar <= MAX32 && !isDen32(a) && !isDen32(b)) {
      c.xmmF32[d] = r;
      return;
    }
    const x = c.xmm;
    const fl = slowLane(c.mxcsr, op, true, x[d]!, 0, B32[0]!, 0);
    mxRaise(c, fl, u);
    x[d] = resLo;
  };
}

/** Packed double: ADDPD … SQRTPD. */
function pd(op: number): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, true);
    const fast = (c.mxcsr & MX_FAST_MASK) === MX_FAST;
    let fl = 0;
    for (let i = 0; i < 2; i++) {
      const a = AF64[i]!;
      const b = BF64[i]!;
      const r = compute(op, a, b);
      const ar = Math.abs(r);
      if (fast && ar >= MIN64 && ar <= MAX64 && !isDen64(a) && !isDen64(b)) RF64[i] = r;
      else {
        fl |= slowLane(c.mxcsr, op, false, A32[2 * i]!, A32[2 * i + 1]!, B32[2 * i]!, B32[2 * i + 1]!);
        R32[2 * i] = resLo;
        R32[2 * i + 1] = resHi;
      }
    }
    mxRaise(c, fl, u);
    storeR(c, u.r0);
  };
}

/** Packed single: ADDPS … SQRTPS. */
function ps(op: number): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, true);
    const fast = (c.mxcsr & MX_FAST_MASK) === MX_FAST;
    let fl = 0;
    for (let i = 0; i < 4; i++) {
      const a = AF32[i]!;
      const b = BF32[i]!;
      const r = Math.fround(compute(op, a, b));
      const ar = Math.abs(r);
      if (fast && ar >= MIN32 && ar <= MAX32 && !isDen32(a) && !isDen32(b)) RF32[i] = r;
      else {
        fl |= slowLane(c.mxcsr, op, true, A32[i]!, 0, B32[i]!, 0);
        R32[i] = resLo;
      }
    }
    mxRaise(c, fl, u);
    storeR(c, u.r0);
  };
}

// ---- MIN/MAX ---------------------------------------------------------------------------------

/**
 * MIN/MAX of one lane (SDM MINSD/MAXSD): the second operand is returned when either is a NaN
 * (IE, even for QNaN) or both are zero; otherwise the smaller/larger. DE for denormals unless DAZ
 * (then they compare as zero).
 */
function minmaxLane(c: Cpu, isMax: boolean, a: number, b: number, single: boolean): [number, number] {
  let fl = 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return [sf.IE, 1];
  const daz = (c.mxcsr & MX_DAZ) !== 0;
  const den = single ? isDen32 : isDen64;
  let x = a;
  let y = b;
  if (den(a)) {
    if (daz) x = 0;
    else fl |= sf.DE;
  }
  if (den(b)) {
    if (daz) y = 0;
    else fl |= sf.DE;
  }
  const pickA = isMax ? x > y : x < y;
  return [fl, pickA ? 0 : 1];
}

function minmaxS(isMax: boolean, single: boolean): Handler {
  return (c, u) => {
    loadB(c, u, 1, false);
    const x = c.xmm;
    const d = u.r0 << 2;
    const a = single ? c.xmmF32[d]! : c.xmmF64[d >> 1]!;
    const b = single ? BF32[0]! : BF64[0]!;
    const [fl, pick] = minmaxLane(c, isMax, a, b, single);
    mxRaise(c, fl, u);
    if (pick === 1) {
      x[d] = B32[0]!;
      if (!single) x[d + 1] = B32[1]!;
    }
  };
}

function minmaxP(isMax: boolean, single: boolean): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, true);
    let fl = 0;
    const n = single ? 4 : 2;
    for (let i = 0; i < n; i++) {
      const [f, pick] = minmaxLane(
        c,
        isMax,
        single ? AF32[i]! : AF64[i]!,
        single ? BF32[i]! : BF64[i]!,
        single,
      );
      fl |= f;
      const src = pick ? B32 : A32;
      if (single) R32[i] = src[i]!;
      else {
        R32[2 * i] = src[2 * i]!;
        R32[2 * i + 1] = src[2 * i + 1]!;
      }
    }
    mxRaise(c, fl, u);
    storeR(c, u.r0);
  };
}

// ---- compares ------------------------------------------------------------------------------

function isSNaN64(lo: number, hi: number): boolean {
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0) && (hi & 0x80000) === 0;
}
function isSNaN32(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0 && (bits & 0x400000) === 0;
}

/** CMPccSD/SS/PD/PS predicate (imm8 bits 2:0): EQ LT LE UNORD NEQ NLT NLE ORD. Returns [flags, true?]. */
function cmpLane(
  c: Cpu,
  pred: number,
  a: number,
  b: number,
  aSnan: boolean,
  bSnan: boolean,
  single: boolean,
): number {
  const unord = Number.isNaN(a) || Number.isNaN(b);
  let fl = 0;
  if (unord) {
    // LT, LE, NLT, NLE signal on QNaN too; the others only on SNaN.
    if ((pred & 3) === 1 || (pred & 3) === 2 || aSnan || bSnan) fl |= sf.IE;
  } else {
    const den = single ? isDen32 : isDen64;
    if (den(a) || den(b)) {
      if ((c.mxcsr & MX_DAZ) === 0) fl |= sf.DE;
    }
  }
  let t: boolean;
  switch (pred & 7) {
    case 0:
      t = a === b;
      break;
    case 1:
      t = a < b;
      break;
    case 2:
      t = a <= b;
      break;
    case 3:
      t = unord;
      break;
    case 4:
      t = !(a === b);
      break;
    case 5:
      t = !(a < b);
      break;
    case 6:
      t = !(a <= b);
      break;
    default:
      t = !unord;
  }
  // With DAZ, denormals compare as zero.
  if (!unord && (c.mxcsr & MX_DAZ) !== 0) {
    const den = single ? isDen32 : isDen64;
    if (den(a) || den(b))
      return cmpLane({ mxcsr: 0 } as Cpu, pred, den(a) ? 0 : a, den(b) ? 0 : b, false, false, single) & 0x100;
  }
  return fl | (t ? 0x100 : 0);
}

function cmpS(single: boolean): Handler {
  return (c, u) => {
    loadB(c, u, 1, false);
    const x = c.xmm;
    const d = u.r0 << 2;
    const pred = u.immLo & 7;
    let r: number;
    if (single) r = cmpLane(c, pred, c.xmmF32[d]!, BF32[0]!, isSNaN32(x[d]!), isSNaN32(B32[0]!), true);
    else
      r = cmpLane(
        c,
        pred,
        c.xmmF64[d >> 1]!,
        BF64[0]!,
        isSNaN64(x[d]!, x[d + 1]!),
        isSNaN64(B32[0]!, B32[1]!),
        false,
      );
    mxRaise(c, r & 0xff, u);
    const m = r & 0x100 ? -1 : 0;
    x[d] = m;
    if (!single) x[d + 1] = m;
  };
}

function cmpP(single: boolean): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, true);
    const pred = u.immLo & 7;
    let fl = 0;
    if (single) {
      for (let i = 0; i < 4; i++) {
        const r = cmpLane(c, pred, AF32[i]!, BF32[i]!, isSNaN32(A32[i]!), isSNaN32(B32[i]!), true);
        fl |= r & 0xff;
        R32[i] = r & 0x100 ? -1 : 0;
      }
    } else {
      for (let i = 0; i < 2; i++) {
        const r = cmpLane(
          c,
          pred,
          AF64[i]!,
          BF64[i]!,
          isSNaN64(A32[2 * i]!, A32[2 * i + 1]!),
          isSNaN64(B32[2 * i]!, B32[2 * i + 1]!),
          false,
        );
        fl |= r & 0xff;
        R32[2 * i] = R32[2 * i + 1] = r & 0x100 ? -1 : 0;
      }
    }
    mxRaise(c, fl, u);
    storeR(c, u.r0);
  };
}

/** COMISS/COMISD (signal on any NaN) and UCOMISS/UCOMISD (only SNaN): ZF PF CF; OF SF AF cleared. */
function comi(single: boolean, ordered: boolean): Handler {
  return (c: Cpu, u: Uop) => {
    loadB(c, u, 1, false);
    const x = c.xmm;
    const d = u.r0 << 2;
    let a = single ? c.xmmF32[d]! : c.xmmF64[d >> 1]!;
    let b = single ? BF32[0]! : BF64[0]!;
    let fl = 0;
    let f: number;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      const sn = single
        ? isSNaN32(x[d]!) || isSNaN32(B32[0]!)
        : isSNaN64(x[d]!, x[d + 1]!) || isSNaN64(B32[0]!, B32[1]!);
      if (ordered || sn) fl |= sf.IE;
      f = 0x45; // ZF PF CF
    } else {
      const den = single ? isDen32 : isDen64;
      if (den(a) || den(b)) {
        if (c.mxcsr & MX_DAZ) {
          if (den(a)) a = 0;
          if (den(b)) b = 0;
        } else fl |= sf.DE;
      }
      f = a > b ? 0 : a < b ? 0x01 : 0x40;
    }
    mxRaise(c, fl, u);
    c.setFlags((c.getFlags() & ~0x8d5) | f);
  };
}

// ---- RCP/RSQRT (approximations) ---------------------------------------------------------------

/**
 * RCPSS/RCPPS/RSQRTSS/RSQRTPS: the hardware returns an implementation-specific approximation
 * (relative error ≤ 1.5·2^-12). We return the correctly rounded value, which satisfies the bound
 * but is not bit-identical to any particular CPU's table.
 */
function approx(rsqrt: boolean, packed: boolean): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, packed);
    R32.set(A32);
    const n = packed ? 4 : 1;
    for (let i = 0; i < n; i++) {
      const b = BF32[i]!;
      const den = isDen32(b);
      const v = den ? (b < 0 || Object.is(b, -0) ? -0 : 0) : b;
      RF32[i] = Math.fround(rsqrt ? 1 / Math.sqrt(v) : 1 / v);
    }
    storeR(c, u.r0);
  };
}

// ---- bitwise and sign masks --------------------------------------------------------------------

function logic(kind: "and" | "andn" | "or" | "xor"): Handler {
  return (c, u) => {
    loadB(c, u, 1, true);
    const x = c.xmm;
    const d = u.r0 << 2;
    for (let i = 0; i < 4; i++) {
      const a = x[d + i]!;
      const b = B32[i]!;
      x[d + i] = kind === "and" ? a & b : kind === "andn" ? ~a & b : kind === "or" ? a | b : a ^ b;
    }
  };
}

const movmskps: Handler = (c, u) => {
  const x = c.xmm;
  const s = u.r1 << 2;
  const m =
    (x[s]! >>> 31) | ((x[s + 1]! >>> 31) << 1) | ((x[s + 2]! >>> 31) << 2) | ((x[s + 3]! >>> 31) << 3);
  c.regs[2 * u.r0] = m;
  c.regs[2 * u.r0 + 1] = 0;
};
const movmskpd: Handler = (c, u) => {
  const x = c.xmm;
  const s = u.r1 << 2;
  c.regs[2 * u.r0] = (x[s + 1]! >>> 31) | ((x[s + 3]! >>> 31) << 1);
  c.regs[2 * u.r0 + 1] = 0;
};

/** Handlers by form name. */
export const SSE_FP: Record<string, Handler> = {
  movmskps_Gy_Ups: movmskps,
  movmskpd_Gy_Upd: movmskpd,
  rcpss_Vss_Wss: approx(false, false),
  rcpps_Vps_Wps: approx(false, true),
  rsqrtss_Vss_Wss: approx(true, false),
  rsqrtps_Vps_Wps: approx(true, true),
  cmpcmp8ss_Vss_Wss_Ib: cmpS(true),
  cmpcmp8sd_Vsd_Wsd_Ib: cmpS(false),
  cmpcmp8ps_Vps_Wps_Ib: cmpP(true),
  cmpcmp8pd_Vpd_Wpd_Ib: cmpP(false),
  comiss_Vss_Wss: comi(true, true),
  comisd_Vsd_Wsd: comi(false, true),
  ucomiss_Vss_Wss: comi(true, false),
  ucomisd_Vsd_Wsd: comi(false, false),
  minss_Vss_Wss: minmaxS(false, true),
  minsd_Vsd_Wsd: minmaxS(false, false),
  maxss_Vss_Wss: minmaxS(true, true),
  maxsd_Vsd_Wsd: minmaxS(true, false),
  minps_Vps_Wps: minmaxP(false, true),
  minpd_Vpd_Wpd: minmaxP(false, false),
  maxps_Vps_Wps: minmaxP(true, true),
  maxpd_Vpd_Wpd: minmaxP(true, false),
};
for (const [k, kind] of [
  ["and", "and"],
  ["andn", "andn"],
  ["or", "or"],
  ["xor", "xor"],
] as const) {
  SSE_FP[`${k}ps_Vps_Wps`] = logic(kind);
  SSE_FP[`${k}pd_Vpd_Wpd`] = logic(kind);
}
for (const [name, op] of [
  ["add", ADD],
  ["sub", SUB],
  ["mul", MUL],
  ["div", DIV],
  ["sqrt", SQRT],
] as const) {
  SSE_FP[`${name}sd_Vsd_Wsd`] = sd(op);
  SSE_FP[`${name}ss_Vss_Wss`] = ss(op);
  SSE_FP[`${name}pd_Vpd_Wpd`] = pd(op);
  SSE_FP[`${name}ps_Vps_Wps`] = ps(op);
}
void MIN;
void MAX;
