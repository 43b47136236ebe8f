/**
 * Exact software floating point for the slow paths of SSE and for all x87 arithmetic: values
 * are unpacked into a sign, a BigInt significand and a binary exponent, operated on exactly (or
 * with a sticky bit for division and square root), and rounded once to a target format under a
 * rounding mode, reporting the IEEE exception flags the way x86 does (tininess after rounding,
 * SDM Vol. 1 §4.9.1.5; masked responses of §4.9.1 and §8.5).
 *
 * Nothing here is on the integer hot path; BigInt is used freely. The SSE handlers avoid this
 * module entirely in the common case (round to nearest, exceptions masked, PE already set).
 * @module
 */

/** Value classes. */
export const ZERO = 0;
export const FINITE = 1;
export const INF = 2;
export const NAN = 3;
/** An x87 encoding the FPU does not support (unnormal, pseudo-NaN/infinity): an invalid operand. */
export const UNSUP = 4;

/** Exception flag bits, the same positions in MXCSR and the x87 status word. */
export const IE = 0x01;
export const DE = 0x02;
export const ZE = 0x04;
export const OE = 0x08;
export const UE = 0x10;
export const PE = 0x20;

/** Rounding control values (MXCSR.RC and x87 CW.RC use the same encoding). */
export const RN = 0;
export const RD = 1;
export const RU = 2;
export const RZ = 3;

/**
 * An unpacked value. Finite nonzero values are `mant × 2^exp` (mant > 0, not necessarily
 * normalized). NaNs keep a 64-bit x87-style significand in `mant` (bit 63 set, bit 62 the quiet
 * bit, payload below) so that payloads convert between formats as the hardware does.
 */
export class SF {
  cls: number;
  sign: number;
  mant: bigint;
  exp: number;
  constructor(cls: number, sign: number, mant: bigint, exp: number) {
    this.cls = cls;
    this.sign = sign;
    this.mant = mant;
    this.exp = exp;
  }
}

/** A rounding target: precision `p` bits, normal exponent range [emin, emax] of the leading bit, `dmin` the exponent of the smallest denormal's ulp. */
export interface Fmt {
  readonly p: number;
  readonly emin: number;
  readonly emax: number;
  readonly dmin: number;
}

/** IEEE binary32. */
export const F32: Fmt = { p: 24, emin: -126, emax: 127, dmin: -149 };
/** IEEE binary64. */
export const F64: Fmt = { p: 53, emin: -1022, emax: 1023, dmin: -1074 };
/** x87 double extended (64-bit significand, 15-bit exponent). */
export const F80: Fmt = { p: 64, emin: -16382, emax: 16383, dmin: -16445 };
/**
 * x87 registers under precision control 24 and 53: the significand is rounded to 24/53 bits
 * with the extended exponent range, and denormal results keep the ulp of the smallest normal
 * (2^(emin-p+1)), as measured on hardware.
 */
export const F80P24: Fmt = { p: 24, emin: -16382, emax: 16383, dmin: -16382 - 23 };
export const F80P53: Fmt = { p: 53, emin: -16382, emax: 16383, dmin: -16382 - 52 };

/** The x87/SSE default NaN ("real indefinite"): negative, quiet, zero payload. */
export const QNAN_INDEFINITE = 0xc000000000000000n;
const BIT63 = 0x8000000000000000n;
const QUIET = 0x4000000000000000n;

/** Flags raised by the last operation (OR of IE…PE). */
export let flags = 0;
/** The last rounding increased the magnitude (x87 C1). */
export let roundedUp = false;
/** The last rounded result was tiny (for unmasked underflow). */
export let tiny = false;

/** Clear {@link flags}, {@link roundedUp} and {@link tiny}. */
export function clearFlags(): void {
  flags = 0;
  roundedUp = false;
  tiny = false;
}

/** Add to {@link flags} (callers use it for operand checks). */
export function raise(f: number): void {
  flags |= f;
}

/** Number of significant bits of a positive BigInt. */
export function bitLen(m: bigint): number {
  if (m < 0x20000000000000n) {
    const n = Number(m);
    if (n < 4294967296) return 32 - Math.clz32(n);
    return 32 + 32 - Math.clz32(Math.floor(n / 4294967296));
  }
  const s = m.toString(16);
  return (s.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(s[0]!, 16)));
}

let rInexact = false;
let rUp = false;

/** Drop `sh` low bits of `m` (shift left when negative), rounding per `rc`; sets rInexact, rUp. */
function shiftRound(m: bigint, sh: number, sticky: boolean, rc: number, sign: number): bigint {
  let q: bigint;
  let cmp: number; // dropped part versus half an ulp: -1 below, 0 equal, 1 above; -2 nothing dropped
  if (sh <= 0) {
    q = sh === 0 ? m : m << BigInt(-sh);
    cmp = sticky ? -1 : -2;
  } else {
    const b = BigInt(sh);
    q = m >> b;
    const rem = m & ((1n << b) - 1n);
    const half = 1n << (b - 1n);
    if (rem === 0n) cmp = sticky ? -1 : -2;
    else if (rem === half) cmp = sticky ? 1 : 0;
    else cmp = rem > half ? 1 : -1;
  }
  rInexact = cmp !== -2;
  let up = false;
  if (rInexact) {
    if (rc === RN) up = cmp > 0 || (cmp === 0 && (q & 1n) === 1n);
    else if (rc === RD) up = sign === 1;
    else if (rc === RU) up = sign === 0;
  }
  rUp = up;
  return up ? q + 1n : q;
}

/**
 * Round `(-1)^sign × mant × 2^exp` (plus a nonzero amount below the last bit when `sticky`) to
 * `f` under `rc`. `ftz`: flush tiny results to zero (SSE MXCSR.FZ with underflow masked).
 * Sets {@link flags} (OE UE PE), {@link roundedUp}, {@link tiny}. Masked overflow responses.
 */
export function roundTo(
  sign: number,
  mant: bigint,
  exp: number,
  sticky: boolean,
  f: Fmt,
  rc: number,
  ftz = false,
): SF {
  if (mant === 0n) {
    if (!sticky) return new SF(ZERO, sign, 0n, 0);
    // Only a sticky remainder: a value far below any ulp.
    mant = 1n;
    exp = f.dmin - 2;
    sticky = false;
  }
  const lead = exp + bitLen(mant) - 1;
  // Round with unbounded exponent to detect overflow and tininess (after rounding).
  const sh = lead - (f.p - 1) - exp;
  let m = shiftRound(mant, sh, sticky, rc, sign);
  let e = exp + sh;
  let inexact = rInexact;
  let up = rUp;
  if (m === 1n << BigInt(f.p)) {
    m >>= 1n;
    e += 1;
  }
  const leadR = e + f.p - 1;
  if (leadR > f.emax) {
    flags |= OE | PE;
    roundedUp = true;
    const toInf = rc === RN || (rc === RU && sign === 0) || (rc === RD && sign === 1);
    if (toInf) return new SF(INF, sign, 0n, 0);
    roundedUp = false;
    return new SF(FINITE, sign, (1n << BigInt(f.p)) - 1n, f.emax - f.p + 1);
  }
  if (leadR < f.emin) {
    tiny = true;
    if (ftz) {
      flags |= UE | PE;
      return new SF(ZERO, sign, 0n, 0);
    }
    const pos = Math.max(lead - (f.p - 1), f.dmin);
    m = shiftRound(mant, pos - exp, sticky, rc, sign);
    e = pos;
    inexact = rInexact;
    up = rUp;
    if (inexact) flags |= UE | PE;
    roundedUp = up;
    if (m === 0n) return new SF(ZERO, sign, 0n, 0);
    return new SF(FINITE, sign, m, e);
  }
  if (inexact) flags |= PE;
  roundedUp = up;
  return new SF(FINITE, sign, m, e);
}

/** Round an already exact value to `f` (convenience for values that may need narrowing). */
export function round(x: SF, f: Fmt, rc: number, ftz = false): SF {
  if (x.cls !== FINITE) return x;
  return roundTo(x.sign, x.mant, x.exp, false, f, rc, ftz);
}

// ---- packing -------------------------------------------------------------------------------

/** Unpack IEEE bits (`ebits` exponent bits, `fbits` fraction bits). Sets DE in {@link flags} for denormals when `noteDenormal`. */
export function unpackIEEE(bits: bigint, ebits: number, fbits: number, noteDenormal = true): SF {
  const emaxField = (1 << ebits) - 1;
  const bias = (1 << (ebits - 1)) - 1;
  const sign = Number(bits >> BigInt(ebits + fbits)) & 1;
  const e = Number((bits >> BigInt(fbits)) & BigInt(emaxField));
  const frac = bits & ((1n << BigInt(fbits)) - 1n);
  if (e === 0) {
    if (frac === 0n) return new SF(ZERO, sign, 0n, 0);
    if (noteDenormal) flags |= DE;
    return new SF(FINITE, sign, frac, 1 - bias - fbits);
  }
  if (e === emaxField) {
    if (frac === 0n) return new SF(INF, sign, 0n, 0);
    return new SF(NAN, sign, BIT63 | (frac << BigInt(63 - fbits)), 0);
  }
  return new SF(FINITE, sign, frac | (1n << BigInt(fbits)), e - bias - fbits);
}

/** Pack to IEEE bits. Finite values must already be rounded to the format. */
export function packIEEE(x: SF, ebits: number, fbits: number): bigint {
  const emaxField = (1 << ebits) - 1;
  const bias = (1 << (ebits - 1)) - 1;
  const s = BigInt(x.sign) << BigInt(ebits + fbits);
  switch (x.cls) {
    case ZERO:
      return s;
    case INF:
      return s | (BigInt(emaxField) << BigInt(fbits));
    case NAN:
    case UNSUP: {
      let frac = (x.mant & ~BIT63) >> BigInt(63 - fbits);
      if (frac === 0n) frac = 1n << BigInt(fbits - 1);
      return s | (BigInt(emaxField) << BigInt(fbits)) | frac;
    }
  }
  const bl = bitLen(x.mant);
  const lead = x.exp + bl - 1;
  const emin = 1 - bias;
  if (lead < emin) {
    // Denormal: the ulp is 2^(emin - fbits).
    const frac = x.mant << BigInt(x.exp - (emin - fbits));
    return s | frac;
  }
  const m = x.mant << BigInt(fbits + 1 - bl); // exact: rounded values have at most fbits+1 bits
  return s | (BigInt(lead + bias) << BigInt(fbits)) | (m & ((1n << BigInt(fbits)) - 1n));
}

/** Unpack an x87 80-bit value from its sign/exponent word and 64-bit significand. */
export function unpack80(se: number, mant: bigint, noteDenormal = true): SF {
  const sign = (se >> 15) & 1;
  const e = se & 0x7fff;
  if (e === 0) {
    if (mant === 0n) return new SF(ZERO, sign, 0n, 0);
    if (noteDenormal) flags |= DE;
    return new SF(FINITE, sign, mant, -16382 - 63); // denormal or pseudo-denormal (J=1)
  }
  if (e === 0x7fff) {
    if ((mant & BIT63) === 0n) return new SF(UNSUP, sign, mant, 0);
    if ((mant & ~BIT63) === 0n) return new SF(INF, sign, 0n, 0);
    return new SF(NAN, sign, mant, 0);
  }
  if ((mant & BIT63) === 0n) return new SF(UNSUP, sign, mant, 0); // unnormal
  return new SF(FINITE, sign, mant, e - 16383 - 63);
}

/** Packed 80-bit result: sign/exponent word in `se80`, significand returned. */
export let se80 = 0;

/** Pack to x87 80-bit (finite values must already fit: at most 64 significant bits, in range). */
export function pack80(x: SF): bigint {
  const s = x.sign << 15;
  switch (x.cls) {
    case ZERO:
      se80 = s;
      return 0n;
    case INF:
      se80 = s | 0x7fff;
      return BIT63;
    case NAN:
    case UNSUP:
      se80 = s | 0x7fff;
      return x.mant | BIT63;
  }
  const bl = bitLen(x.mant);
  const lead = x.exp + bl - 1;
  if (lead < -16382) {
    se80 = s;
    return x.mant << BigInt(x.exp + 16445);
  }
  se80 = s | (lead + 16383);
  return x.mant << BigInt(64 - bl);
}

/** Quiet a NaN (set the quiet bit); returns a new value. */
export function quiet(x: SF): SF {
  return new SF(NAN, x.sign, x.mant | QUIET | BIT63, 0);
}

/** Is `x` a signaling NaN. */
export function isSNaN(x: SF): boolean {
  return x.cls === NAN && (x.mant & QUIET) === 0n;
}

/** The default NaN. */
export function indefinite(): SF {
  return new SF(NAN, 1, QNAN_INDEFINITE, 0);
}

// ---- arithmetic on finite/special values -------------------------------------------------------

/** Exact sum of two finite (or zero) values, rounded to `f`. Zero results follow IEEE signs. */
export function addFinite(a: SF, b: SF, f: Fmt, rc: number, ftz: boolean): SF {
  if (a.cls === ZERO && b.cls === ZERO) {
    const sign = a.sign === b.sign ? a.sign : rc === RD ? 1 : 0;
    return new SF(ZERO, sign, 0n, 0);
  }
  if (a.cls === ZERO) return roundTo(b.sign, b.mant, b.exp, false, f, rc, ftz);
  if (b.cls === ZERO) return roundTo(a.sign, a.mant, a.exp, false, f, rc, ftz);
  const e = Math.min(a.exp, b.exp);
  const ma = a.mant << BigInt(a.exp - e);
  const mb = b.mant << BigInt(b.exp - e);
  let s = (a.sign ? -ma : ma) + (b.sign ? -mb : mb);
  if (s === 0n) return new SF(ZERO, rc === RD ? 1 : 0, 0n, 0);
  let sign = 0;
  if (s < 0n) {
    sign = 1;
    s = -s;
  }
  return roundTo(sign, s, e, false, f, rc, ftz);
}

/** Exact product of two finite nonzero values, rounded. */
export function mulFinite(a: SF, b: SF, f: Fmt, rc: number, ftz: boolean): SF {
  return roundTo(a.sign ^ b.sign, a.mant * b.mant, a.exp + b.exp, false, f, rc, ftz);
}

/** Quotient of two finite nonzero values, rounded (p+2 quotient bits and a sticky remainder). */
export function divFinite(a: SF, b: SF, f: Fmt, rc: number, ftz: boolean): SF {
  const k = Math.max(0, f.p + 3 + bitLen(b.mant) - bitLen(a.mant));
  const n = a.mant << BigInt(k);
  const q = n / b.mant;
  const r = n - q * b.mant;
  return roundTo(a.sign ^ b.sign, q, a.exp - k - b.exp, r !== 0n, f, rc, ftz);
}

/** Integer square root (floor) of a non-negative BigInt. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLen(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Square root of a finite positive value, rounded. */
export function sqrtFinite(a: SF, f: Fmt, rc: number, ftz: boolean): SF {
  let m = a.mant;
  let e = a.exp;
  // Enough bits: the root needs p+2 bits, so the radicand 2p+4 bits; exponent even.
  const want = 2 * (f.p + 3);
  let sh = Math.max(0, want - bitLen(m));
  if ((e - sh) & 1) sh++;
  m <<= BigInt(sh);
  e -= sh;
  const r = isqrt(m);
  return roundTo(0, r, e / 2, r * r !== m, f, rc, ftz);
}

/**
 * Compare two values: -1 (a < b), 0 (equal), 1 (a > b), 2 (unordered). Zeros compare equal
 * regardless of sign; infinities compare by sign.
 */
export function compare(a: SF, b: SF): number {
  if (a.cls >= NAN || b.cls >= NAN) return 2;
  const va = a.cls === ZERO ? 0 : a.sign ? -1 : 1;
  const vb = b.cls === ZERO ? 0 : b.sign ? -1 : 1;
  if (a.cls === INF || b.cls === INF) {
    const ia = a.cls === INF ? va * 2 : 0;
    const ib = b.cls === INF ? vb * 2 : 0;
    if (ia !== 0 || ib !== 0) {
      if (ia === ib) return 0;
      if (ia !== 0 && ib !== 0) return ia < ib ? -1 : 1;
      if (ia !== 0) return ia < 0 ? -1 : 1;
      return ib < 0 ? 1 : -1;
    }
  }
  if (va !== vb) return va < vb ? -1 : 1;
  if (va === 0) return 0;
  // Same sign, both finite nonzero: compare magnitudes.
  const la = a.exp + bitLen(a.mant);
  const lb = b.exp + bitLen(b.mant);
  let mag: number;
  if (la !== lb) mag = la < lb ? -1 : 1;
  else {
    const e = Math.min(a.exp, b.exp);
    const ma = a.mant << BigInt(a.exp - e);
    const mb = b.mant << BigInt(b.exp - e);
    mag = ma === mb ? 0 : ma < mb ? -1 : 1;
  }
  return a.sign ? -mag : mag;
}

/**
 * Round a finite value to an integer under `rc` (exact BigInt, signed). Sets PE when inexact.
 * Returns the integer; {@link roundedUp} tells whether the magnitude grew.
 */
export function toInteger(x: SF, rc: number): bigint {
  if (x.cls === ZERO) return 0n;
  let m: bigint;
  if (x.exp >= 0) m = x.mant << BigInt(x.exp);
  else {
    m = shiftRound(x.mant, -x.exp, false, rc, x.sign);
    if (rInexact) flags |= PE;
    roundedUp = rUp;
  }
  return x.sign ? -m : m;
}

/** A BigInt integer as an exact unpacked value. */
export function fromInteger(v: bigint): SF {
  if (v === 0n) return new SF(ZERO, 0, 0n, 0);
  return v < 0n ? new SF(FINITE, 1, -v, 0) : new SF(FINITE, 0, v, 0);
}

/** Round `x` to an integral value of the same format (FRNDINT/ROUNDSD semantics), keeping signs of zero. */
export function roundIntegral(x: SF, rc: number): SF {
  if (x.cls !== FINITE || x.exp >= 0) return x;
  const m = shiftRound(x.mant, -x.exp, false, rc, x.sign);
  if (rInexact) flags |= PE;
  roundedUp = rUp;
  if (m === 0n) return new SF(ZERO, x.sign, 0n, 0);
  return new SF(FINITE, x.sign, m, 0);
}

// ---- conversions between JS doubles and unpacked values -------------------------------------

const cvtBuf = new DataView(new ArrayBuffer(8));

/** Bits of a double as a BigInt. */
export function f64Bits(v: number): bigint {
  cvtBuf.setFloat64(0, v, true);
  return cvtBuf.getBigUint64(0, true);
}

/** Unpack a double given as int32 halves. */
export function unpackF64(lo: number, hi: number, noteDenormal = true): SF {
  return unpackIEEE((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), 11, 52, noteDenormal);
}

/** Unpack a float given as int32 bits. */
export function unpackF32(bits: number, noteDenormal = true): SF {
  return unpackIEEE(BigInt(bits >>> 0), 8, 23, noteDenormal);
}

/** Value of an exactly representable finite SF as a JS number (for transcendental approximations). */
export function toNumber(x: SF): number {
  switch (x.cls) {
    case ZERO:
      return x.sign ? -0 : 0;
    case INF:
      return x.sign ? -Infinity : Infinity;
    case FINITE: {
      const r = roundTo(x.sign, x.mant, x.exp, false, F64, RN);
      const bits = packIEEE(r, 11, 52);
      cvtBuf.setBigUint64(0, bits, true);
      return cvtBuf.getFloat64(0, true);
    }
    default:
      return Number.NaN;
  }
}

/** An unpacked exact value of a JS number. */
export function fromNumber(v: number): SF {
  return unpackIEEE(f64Bits(v), 11, 52, false);
}

// ---- whole operations with special operands ----------------------------------------------------

/** Operations of {@link arith}. */
export const OP_ADD = 0;
export const OP_SUB = 1;
export const OP_MUL = 2;
export const OP_DIV = 3;
export const OP_SQRT = 4;

/**
 * The NaN result of an operation with a NaN operand. SSE (SDM Vol. 1 Table 4-7): the first
 * source's NaN wins. x87: a QNaN wins over an SNaN, otherwise the larger significand. The
 * result is quieted; an SNaN operand raises IE.
 */
export function propagateNaN(a: SF, b: SF, x87: boolean): SF {
  const sa = isSNaN(a);
  const sb = isSNaN(b);
  flags &= ~DE; // a NaN operand takes precedence over a denormal one
  if (sa || sb) flags |= IE;
  if (a.cls !== NAN) return quiet(b);
  if (b.cls !== NAN) return quiet(a);
  if (!x87) return quiet(a);
  if (sa !== sb) return quiet(sa ? b : a);
  const ma = a.mant & ~QUIET;
  const mb = b.mant & ~QUIET;
  return quiet(mb > ma ? b : a);
}

/**
 * `a op b` (or sqrt(b)) with IEEE special cases (invalid → default NaN with IE, x/0 → ZE),
 * rounded to `f` under `rc`. Flags accumulate in {@link flags}; denormal operands should have
 * been noted (DE) when they were unpacked.
 */
export function arith(op: number, a: SF, b: SF, f: Fmt, rc: number, ftz: boolean, x87: boolean): SF {
  const r = arithInner(op, a, b, f, rc, ftz, x87);
  // Invalid operation, divide-by-zero and QNaN operands take precedence over a denormal
  // operand (SDM Vol. 1 §4.9.2; measured on hardware for SSE and x87).
  if (flags & (IE | ZE) || a.cls === NAN || b.cls === NAN) flags &= ~DE;
  return r;
}

function arithInner(op: number, a: SF, b: SF, f: Fmt, rc: number, ftz: boolean, x87: boolean): SF {
  if (op === OP_SQRT) a = b;
  if (a.cls === UNSUP || b.cls === UNSUP) {
    flags |= IE;
    return indefinite();
  }
  if (a.cls === NAN || b.cls === NAN) return propagateNaN(a, b, x87);
  switch (op) {
    case OP_ADD:
    case OP_SUB: {
      const bs = op === OP_SUB ? new SF(b.cls, b.sign ^ 1, b.mant, b.exp) : b;
      if (a.cls === INF || bs.cls === INF) {
        if (a.cls === INF && bs.cls === INF && a.sign !== bs.sign) {
          flags |= IE;
          return indefinite();
        }
        return a.cls === INF ? a : bs;
      }
      return addFinite(a, bs, f, rc, ftz);
    }
    case OP_MUL:
      if (a.cls === INF || b.cls === INF) {
        if (a.cls === ZERO || b.cls === ZERO) {
          flags |= IE;
          return indefinite();
        }
        return new SF(INF, a.sign ^ b.sign, 0n, 0);
      }
      if (a.cls === ZERO || b.cls === ZERO) return new SF(ZERO, a.sign ^ b.sign, 0n, 0);
      return mulFinite(a, b, f, rc, ftz);
    case OP_DIV: {
      const s = a.sign ^ b.sign;
      if (a.cls === INF) {
        if (b.cls === INF) {
          flags |= IE;
          return indefinite();
        }
        return new SF(INF, s, 0n, 0);
      }
      if (b.cls === INF) return new SF(ZERO, s, 0n, 0);
      if (b.cls === ZERO) {
        if (a.cls === ZERO) {
          flags |= IE;
          return indefinite();
        }
        flags |= ZE;
        return new SF(INF, s, 0n, 0);
      }
      if (a.cls === ZERO) return new SF(ZERO, s, 0n, 0);
      return divFinite(a, b, f, rc, ftz);
    }
    default:
      if (b.cls === ZERO) return b;
      if (b.sign) {
        flags |= IE;
        return indefinite();
      }
      if (b.cls === INF) return b;
      return sqrtFinite(b, f, rc, ftz);
  }
}
