/**
 * SSE/SSE2 conversions: CVTSI2SS/SD, CVT(T)SS2SI, CVT(T)SD2SI, CVTSS2SD, CVTSD2SS, CVTPS2PD,
 * CVTPD2PS, CVTDQ2PS, CVT(T)PS2DQ, CVTDQ2PD, CVT(T)PD2DQ. Out-of-range and NaN conversions to
 * integers give the "integer indefinite" (0x80000000 / 0x8000000000000000) with IE; inexact
 * ones set PE; the non-truncating forms round per MXCSR.RC (SDM Vol. 1 §11.5.2.4 and the
 * instruction pages).
 * @module
 */
import type { Cpu } from "../cpu.ts";
import * as sf from "../fpu/softfloat.ts";
import { readOp, setGpr } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";
import {
  B32,
  BF32,
  BF64,
  loadA,
  loadB,
  MX_DAZ,
  MX_FZ,
  MX_UM,
  mxRaise,
  R32,
  RF32,
  RF64,
  storeR,
} from "./sse-ops.ts";

const TWO31 = 2147483648;
const TWO63 = 2 ** 63;
const MIN32 = 1.1754943508222875e-38;
const MIN64 = 2.2250738585072014e-308;

/** Round a double to an integral double under `rc`. */
function rint(v: number, rc: number): number {
  switch (rc) {
    case sf.RD:
      return Math.floor(v);
    case sf.RU:
      return Math.ceil(v);
    case sf.RZ:
      return Math.trunc(v);
    default: {
      let r = Math.round(v); // halves go up; fix ties to even
      if (r - v === 0.5 && r % 2 !== 0) r -= 1;
      return r === 0 && (v < 0 || Object.is(v, -0)) ? -0 : r;
    }
  }
}

/** Low/high halves of the last conversion to integer. */
let iLo = 0;
let iHi = 0;

/**
 * Convert a float value (exact as a double) to a signed integer of `size` bytes (4 or 8) with
 * rounding `rc`; returns the flags; the result in iLo/iHi.
 */
function toInt(v: number, size: number, rc: number, daz: boolean, single: boolean): number {
  if (Number.isNaN(v)) {
    iLo = size === 4 ? -2147483648 : 0;
    iHi = size === 4 ? 0 : -2147483648;
    return sf.IE;
  }
  if (daz && v !== 0 && Math.abs(v) < (single ? MIN32 : MIN64)) v = 0;
  const r = rint(v, rc);
  const lim = size === 4 ? TWO31 : TWO63;
  if (!(r >= -lim && r < lim)) {
    iLo = size === 4 ? -2147483648 : 0;
    iHi = size === 4 ? 0 : -2147483648;
    return sf.IE;
  }
  if (size === 4) {
    iLo = r | 0;
    iHi = 0;
  } else {
    const hi = Math.floor(r / 4294967296);
    iLo = (r - hi * 4294967296) | 0;
    iHi = hi | 0;
  }
  return r !== v ? sf.PE : 0;
}

/** CVT(T)SS2SI / CVT(T)SD2SI Gy, Wss/Wsd. */
function f2si(single: boolean, trunc: boolean): Handler {
  return (c, u) => {
    loadB(c, u, 1, false);
    const v = single ? BF32[0]! : BF64[0]!;
    const fl = toInt(v, u.s0, trunc ? sf.RZ : (c.mxcsr >> 13) & 3, (c.mxcsr & MX_DAZ) !== 0, single);
    mxRaise(c, fl, u);
    setGpr(c, u.r0, u.s0, 0, iLo, iHi);
  };
}

/** Result bits of {@link intToFloat}. */
let fLo = 0;
let fHi = 0;

/** Round a signed integer (lo/hi halves, `size` 4 or 8) to binary32/64 under MXCSR; returns flags. */
function intToFloat(mx: number, lo: number, hi: number, size: number, single: boolean): number {
  let v: number;
  if (size === 4) v = lo;
  else v = hi * 4294967296 + (lo >>> 0);
  const exactLimit = single ? 16777216 : 9007199254740992;
  if (size === 4 ? Math.abs(v) <= exactLimit : hi >= -2097152 && hi < 2097152) {
    // Exactly representable as a double; single precision may still round.
    if (!single) {
      RF64[0] = v;
      fLo = R32[0]!;
      fHi = R32[1]!;
      return 0;
    }
    if (Math.abs(v) <= exactLimit) {
      RF32[0] = v;
      fLo = R32[0]!;
      fHi = 0;
      return 0;
    }
  }
  const n = size === 4 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  sf.clearFlags();
  const x = sf.fromInteger(n);
  const r = sf.round(x, single ? sf.F32 : sf.F64, (mx >> 13) & 3);
  if (single) {
    fLo = Number(sf.packIEEE(r, 8, 23)) | 0;
    fHi = 0;
  } else {
    const b = sf.packIEEE(r, 11, 52);
    fLo = Number(b & 0xffffffffn) | 0;
    fHi = Number(b >> 32n) | 0;
  }
  return sf.flags;
}

/** CVTSI2SS / CVTSI2SD Vx, Ey. */
function si2f(single: boolean): Handler {
  return (c, u) => {
    const lo = readOp(c, u, 1);
    const hi = c.hi;
    const fl = intToFloat(c.mxcsr, lo, hi, u.s1, single);
    mxRaise(c, fl, u);
    const x = c.xmm;
    const d = u.r0 << 2;
    x[d] = fLo;
    if (!single) x[d + 1] = fHi;
  };
}

/**
 * Convert between binary32 and binary64 (one lane): NaNs are quieted (IE for SNaN), widening is
 * exact (DE for a denormal input unless DAZ), narrowing rounds per MXCSR. Returns flags; the
 * result bits in fLo/fHi.
 */
function convert(mx: number, lo: number, hi: number, fromSingle: boolean): number {
  const daz = (mx & MX_DAZ) !== 0;
  // Fast paths: normal finite values with round to nearest and PE already set (or exact).
  if (fromSingle) {
    BF32[3] = 0;
    B32[3] = lo;
    const v = BF32[3]!;
    if (!Number.isNaN(v) && (v === 0 || Math.abs(v) >= MIN32)) {
      RF64[1] = v;
      fLo = R32[2]!;
      fHi = R32[3]!;
      return 0;
    }
  } else if ((mx & 0xffe0) === 0x1fa0) {
    B32[2] = lo;
    B32[3] = hi;
    const v = BF64[1]!;
    const r = Math.fround(v);
    const ar = Math.abs(r);
    if ((ar >= MIN32 && ar <= 3.4028234663852886e38) || (v === 0 && r === 0)) {
      if (Math.abs(v) >= MIN64 || v === 0) {
        RF32[3] = r;
        fLo = R32[3]!;
        fHi = 0;
        return 0;
      }
    }
  }
  sf.clearFlags();
  let x = fromSingle ? sf.unpackF32(lo, !daz) : sf.unpackF64(lo, hi, !daz);
  if (
    daz &&
    x.cls === sf.FINITE &&
    sf.bitLen(x.mant) <= (fromSingle ? 23 : 52) &&
    x.exp === (fromSingle ? -149 : -1074)
  )
    x = new sf.SF(sf.ZERO, x.sign, 0n, 0);
  if (x.cls === sf.NAN) {
    if (sf.isSNaN(x)) sf.raise(sf.IE);
    x = sf.quiet(x);
  } else if (!fromSingle) x = sf.round(x, sf.F32, (mx >> 13) & 3, (mx & MX_FZ) !== 0 && (mx & MX_UM) !== 0);
  if (fromSingle) {
    const b = sf.packIEEE(x, 11, 52);
    fLo = Number(b & 0xffffffffn) | 0;
    fHi = Number(b >> 32n) | 0;
  } else {
    fLo = Number(sf.packIEEE(x, 8, 23)) | 0;
    fHi = 0;
  }
  return sf.flags;
}

const cvtss2sd: Handler = (c, u) => {
  loadB(c, u, 1, false);
  const fl = convert(c.mxcsr, B32[0]!, 0, true);
  mxRaise(c, fl, u);
  const d = u.r0 << 2;
  c.xmm[d] = fLo;
  c.xmm[d + 1] = fHi;
};

const cvtsd2ss: Handler = (c, u) => {
  loadB(c, u, 1, false);
  const fl = convert(c.mxcsr, B32[0]!, B32[1]!, false);
  mxRaise(c, fl, u);
  c.xmm[u.r0 << 2] = fLo;
};

/** CVTPS2PD Vpd, Wq: two singles from the low 64 bits. */
const cvtps2pd: Handler = (c, u) => {
  loadB(c, u, 1, false);
  const b0 = B32[0]!;
  const b1 = B32[1]!;
  let fl = convert(c.mxcsr, b0, 0, true);
  const r0 = fLo;
  const r1 = fHi;
  fl |= convert(c.mxcsr, b1, 0, true);
  mxRaise(c, fl, u);
  const d = u.r0 << 2;
  const x = c.xmm;
  x[d] = r0;
  x[d + 1] = r1;
  x[d + 2] = fLo;
  x[d + 3] = fHi;
};

/** CVTPD2PS Vps, Wpd: the upper 64 bits of the destination are zeroed. */
const cvtpd2ps: Handler = (c, u) => {
  loadB(c, u, 1, true);
  const b = [B32[0]!, B32[1]!, B32[2]!, B32[3]!];
  let fl = convert(c.mxcsr, b[0]!, b[1]!, false);
  const r0 = fLo;
  fl |= convert(c.mxcsr, b[2]!, b[3]!, false);
  mxRaise(c, fl, u);
  const d = u.r0 << 2;
  const x = c.xmm;
  x[d] = r0;
  x[d + 1] = fLo;
  x[d + 2] = 0;
  x[d + 3] = 0;
};

/** CVTDQ2PS Vps, Wdq. */
const cvtdq2ps: Handler = (c, u) => {
  loadB(c, u, 1, true);
  const b = [B32[0]!, B32[1]!, B32[2]!, B32[3]!];
  let fl = 0;
  const r = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    fl |= intToFloat(c.mxcsr, b[i]!, 0, 4, true);
    r[i] = fLo;
  }
  mxRaise(c, fl, u);
  const d = u.r0 << 2;
  for (let i = 0; i < 4; i++) c.xmm[d + i] = r[i]!;
};

/** CVTDQ2PD Vpd, Wq (exact). */
const cvtdq2pd: Handler = (c, u) => {
  loadB(c, u, 1, false);
  RF64[0] = B32[0]!;
  RF64[1] = B32[1]!;
  storeR(c, u.r0);
};

/** CVT(T)PS2DQ Vdq, Wps. */
function ps2dq(trunc: boolean): Handler {
  return (c, u) => {
    loadB(c, u, 1, true);
    const rc = trunc ? sf.RZ : (c.mxcsr >> 13) & 3;
    const daz = (c.mxcsr & MX_DAZ) !== 0;
    let fl = 0;
    for (let i = 0; i < 4; i++) {
      fl |= toInt(BF32[i]!, 4, rc, daz, true);
      R32[i] = iLo;
    }
    mxRaise(c, fl, u);
    storeR(c, u.r0);
  };
}

/** CVT(T)PD2DQ Vdq, Wpd: two results in the low 64 bits, the upper 64 zeroed. */
function pd2dq(trunc: boolean): Handler {
  return (c, u) => {
    loadB(c, u, 1, true);
    const rc = trunc ? sf.RZ : (c.mxcsr >> 13) & 3;
    const daz = (c.mxcsr & MX_DAZ) !== 0;
    let fl = toInt(BF64[0]!, 4, rc, daz, false);
    R32[0] = iLo;
    fl |= toInt(BF64[1]!, 4, rc, daz, false);
    R32[1] = iLo;
    R32[2] = 0;
    R32[3] = 0;
    mxRaise(c, fl, u);
    storeR(c, u.r0);
  };
}

void loadA;
void ((c: Cpu, u: Uop) => [c, u]);

/** Handlers by form name. */
export const SSE_CVT: Record<string, Handler> = {
  cvtsi2ss_Vss_Ey: si2f(true),
  cvtsi2sd_Vsd_Ey: si2f(false),
  cvttss2si_Gy_Wss: f2si(true, true),
  cvttsd2si_Gy_Wsd: f2si(false, true),
  cvtss2si_Gy_Wss: f2si(true, false),
  cvtsd2si_Gy_Wsd: f2si(false, false),
  cvtss2sd_Vsd_Wss: cvtss2sd,
  cvtsd2ss_Vss_Wsd: cvtsd2ss,
  cvtps2pd_Vpd_Wq: cvtps2pd,
  cvtpd2ps_Vps_Wpd: cvtpd2ps,
  cvtdq2ps_Vps_Wdq: cvtdq2ps,
  cvtps2dq_Vdq_Wps: ps2dq(false),
  cvttps2dq_Vdq_Wps: ps2dq(true),
  cvtdq2pd_Vpd_Wq: cvtdq2pd,
  cvtpd2dq_Vdq_Wpd: pd2dq(false),
  cvttpd2dq_Vdq_Wpd: pd2dq(true),
};
