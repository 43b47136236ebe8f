/**
 * x87 FPU instructions. Arithmetic is exact 80-bit extended precision (../fpu/softfloat.ts),
 * rounded per the control word's precision (24/53/64 bits) and rounding mode, with the status
 * flags, C1 "rounded up", stack overflow/underflow (IE|SF, C1) and the masked responses of SDM
 * Vol. 1 §8.5. Unmasked exceptions set ES/B and fault (#MF) at the next waiting instruction.
 *
 * Approximations (documented): F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS and FSINCOS
 * compute in binary64 (JS Math) and load the double result exactly, so their results carry 53
 * correct bits rather than 64. FNSTENV/FNSAVE/FXSAVE store zero for the last-instruction and
 * last-operand pointers and opcode.
 * @module
 */
import type { Cpu } from "../cpu.ts";
import * as sf from "../fpu/softfloat.ts";
import * as st from "../fpu/x87state.ts";
import { ea, readMem, writeMem } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

// ---- memory operand conversions ---------------------------------------------------------------

/** Load a memory operand as an unpacked value: kind f32, f64, f80, i16, i32, i64. */
type MemKind = "f32" | "f64" | "f80" | "i16" | "i32" | "i64";

function loadMem(c: Cpu, u: Uop, kind: MemKind): sf.SF {
  const a = ea(c, u);
  switch (kind) {
    case "f32":
      return sf.unpackF32(c.mem.read32(a));
    case "f64": {
      const lo = c.mem.read64(a);
      return sf.unpackF64(lo, c.mem.hi);
    }
    case "f80": {
      const lo = c.mem.read64(a);
      const hi = c.mem.hi;
      const se = c.mem.read16(a + 8);
      return sf.unpack80(se, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    }
    case "i16":
      return sf.fromInteger(BigInt((c.mem.read16(a) << 16) >> 16));
    case "i32":
      return sf.fromInteger(BigInt(c.mem.read32(a)));
    default: {
      const lo = c.mem.read64(a);
      return sf.fromInteger((BigInt(c.mem.hi) << 32n) | BigInt(lo >>> 0));
    }
  }
}

/** Apply the masked response/flags of an operation and write `r` to physical register `p` unless IE is unmasked. */
function finish(c: Cpu, p: number, r: sf.SF): boolean {
  const up = sf.roundedUp;
  if (st.report(c, sf.flags)) return false;
  st.setC1(c, up);
  st.setP(c, p, r);
  return true;
}

/** The masked response to an invalid operation: IE and the real indefinite. */
function invalidResult(): sf.SF {
  sf.raise(sf.IE);
  return sf.indefinite();
}

// ---- loads and stores ---------------------------------------------------------------------------

/** FLD m32/m64/m80 and FILD m16/m32/m64. */
function fldMem(kind: MemKind): Handler {
  return (c, u) => {
    st.checkPending(c);
    // Fast path: a normal double loads exactly by bit shuffling.
    if (kind === "f64") {
      const a = ea(c, u);
      const lo = c.mem.read64(a);
      const hi = c.mem.hi;
      const e = (hi >>> 20) & 0x7ff;
      if (e !== 0 && e !== 0x7ff) {
        if (!st.push(c)) return;
        const se = ((hi >>> 31) << 15) | (e - 1023 + 16383);
        const mhi = 0x80000000 | ((hi & 0xfffff) << 11) | (lo >>> 21);
        st.setRaw(c, st.top(c), se, lo << 11, mhi | 0);
        c.fpuSw &= ~st.SW_C1;
        return;
      }
    }
    if (kind === "f80") {
      // FLD m80 copies the bits unchanged (no #IA for SNaN, no #D; SDM FLD).
      const a = ea(c, u);
      const lo = c.mem.read64(a);
      const hi = c.mem.hi;
      const se = c.mem.read16(a + 8);
      if (!st.push(c)) return;
      st.setRaw(c, st.top(c), se, lo, hi);
      c.fpuSw &= ~st.SW_C1;
      return;
    }
    sf.clearFlags();
    let x = loadMem(c, u, kind);
    if (x.cls === sf.NAN) {
      if (sf.isSNaN(x)) sf.raise(sf.IE);
      x = sf.quiet(x);
    }
    if (st.report(c, sf.flags)) return;
    if (!st.push(c)) return;
    c.fpuSw &= ~st.SW_C1;
    st.setP(c, st.top(c), x);
  };
}

/** FLD ST(i). */
const fldReg: Handler = (c, u) => {
  st.checkPending(c);
  const src = st.phys(c, u.r0);
  if (st.isEmpty(c, src)) {
    if (st.underflow(c)) return;
    if (st.push(c)) st.setIndefinite(c, st.top(c));
    return;
  }
  if (!st.push(c)) return;
  st.copyRaw(c, src, st.top(c));
  c.fpuSw &= ~st.SW_C1;
};

/** FST/FSTP to memory (f32/f64/f80), rounding per RC to the destination format. */
function fstMem(kind: "f32" | "f64" | "f80", popAfter: boolean): Handler {
  return (c, u) => {
    st.checkPending(c);
    const a = ea(c, u);
    const p = st.top(c);
    if (st.isEmpty(c, p)) {
      if (st.underflow(c)) return;
      // Masked: store the indefinite.
      if (kind === "f32") c.mem.write32(a, 0xffc00000 | 0);
      else if (kind === "f64") c.mem.write64(a, 0, 0xfff80000 | 0);
      else {
        c.mem.write64(a, 0, 0xc0000000 | 0);
        c.mem.write16(a + 8, 0xffff);
      }
      if (popAfter) st.pop(c);
      return;
    }
    const m = c.fpuMant;
    const se = c.fpuExp[p]!;
    if (kind === "f80") {
      c.mem.write64(a, m[2 * p]!, m[2 * p + 1]!);
      c.mem.write16(a + 8, se);
      c.fpuSw &= ~st.SW_C1;
      if (popAfter) st.pop(c);
      return;
    }
    if (kind === "f64") {
      // Fast path: a normal value whose low 11 significand bits are zero and exponent in range.
      const e = (se & 0x7fff) - 16383;
      const lo = m[2 * p]!;
      const hi = m[2 * p + 1]!;
      if ((lo & 0x7ff) === 0 && e >= -1022 && e <= 1023 && hi < 0) {
        const dhi = ((se >> 15) << 31) | ((e + 1023) << 20) | ((hi >>> 11) & 0xfffff);
        const dlo = (lo >>> 11) | (hi << 21);
        c.mem.write64(a, dlo, dhi);
        c.fpuSw &= ~st.SW_C1;
        if (popAfter) st.pop(c);
        return;
      }
    }
    sf.clearFlags();
    let x = st.getP(c, p);
    sf.clearFlags(); // FST raises no #D (SDM FST exceptions)
    if (x.cls === sf.UNSUP) {
      sf.raise(sf.IE);
      x = sf.indefinite();
    } else if (x.cls === sf.NAN) {
      if (sf.isSNaN(x)) sf.raise(sf.IE);
      x = sf.quiet(x);
    } else x = sf.round(x, kind === "f32" ? sf.F32 : sf.F64, st.rc(c));
    const up = sf.roundedUp;
    if (st.report(c, sf.flags)) return;
    // SAFETY: masked OE/UE on a store to memory give the rounded/denormalized value (no bias adjust).
    st.setC1(c, up);
    if (kind === "f32") c.mem.write32(a, Number(sf.packIEEE(x, 8, 23)) | 0);
    else {
      const b = sf.packIEEE(x, 11, 52);
      c.mem.write64(a, Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0);
    }
    if (popAfter) st.pop(c);
  };
}

/** FST/FSTP ST(i). */
function fstReg(popAfter: boolean): Handler {
  return (c, u) => {
    st.checkPending(c);
    const p = st.top(c);
    if (st.isEmpty(c, p)) {
      if (st.underflow(c)) return;
      st.setIndefinite(c, st.phys(c, u.r0));
    } else st.copyRaw(c, p, st.phys(c, u.r0));
    c.fpuSw &= ~st.SW_C1;
    if (popAfter) st.pop(c);
  };
}

/** FIST/FISTP m16/m32/m64 (rounding per RC) and FISTTP (truncating). */
function fistMem(bytes: number, popAfter: boolean, trunc: boolean): Handler {
  return (c, u) => {
    st.checkPending(c);
    const a = ea(c, u);
    const p = st.top(c);
    sf.clearFlags();
    let v: bigint | null = null;
    if (st.isEmpty(c, p)) {
      if (st.underflow(c)) return;
    } else {
      const x = st.getP(c, p);
      sf.clearFlags(); // no #D for FIST
      if (x.cls === sf.FINITE || x.cls === sf.ZERO) {
        const n = sf.toInteger(x, trunc ? sf.RZ : st.rc(c));
        const lim = 1n << BigInt(8 * bytes - 1);
        if (n >= -lim && n < lim) v = n;
        else sf.raise(sf.IE);
      } else sf.raise(sf.IE);
      if (v === null) {
        sf.clearFlags();
        sf.raise(sf.IE);
      }
      const up = sf.roundedUp;
      if (st.report(c, sf.flags)) return;
      st.setC1(c, v !== null && up);
    }
    if (v === null) v = -(1n << BigInt(8 * bytes - 1)); // integer indefinite
    const w = BigInt.asUintN(64, v);
    writeMem(c, a, bytes, Number(w & 0xffffffffn) | 0, Number(w >> 32n) | 0);
    if (popAfter) st.pop(c);
  };
}

/** FXCH ST(i). */
const fxch: Handler = (c, u) => {
  st.checkPending(c);
  const p0 = st.top(c);
  const pi = st.phys(c, u.r0);
  const e0 = st.isEmpty(c, p0);
  const ei = st.isEmpty(c, pi);
  if (e0 || ei) {
    if (st.underflow(c)) return;
    if (e0) st.setIndefinite(c, p0);
    if (ei) st.setIndefinite(c, pi);
  }
  const m = c.fpuMant;
  const lo = m[2 * p0]!;
  const hi = m[2 * p0 + 1]!;
  const se = c.fpuExp[p0]!;
  st.copyRaw(c, pi, p0);
  st.setRaw(c, pi, se, lo, hi);
  if (!(e0 || ei)) c.fpuSw &= ~st.SW_C1;
};

/** FLD1, FLDZ, FLDPI, FLDL2E, FLDL2T, FLDLG2, FLDLN2: 66-bit internal constants rounded per RC. */
function fldConst(se: number, hi: number, lo: number, below: "up" | "down" | "exact"): Handler {
  return (c) => {
    st.checkPending(c);
    if (!st.push(c)) return;
    let l = lo;
    const r = st.rc(c);
    // `below` says whether the nearest (stored) value is above ("up": truncation is one less) or below the true constant.
    if (below === "up" && (r === sf.RD || r === sf.RZ)) l = (l - 1) | 0;
    if (below === "down" && r === sf.RU) l = (l + 1) | 0;
    st.setRaw(c, st.top(c), se, l, hi | 0);
    c.fpuSw &= ~st.SW_C1;
  };
}

// ---- arithmetic -----------------------------------------------------------------------------

const OPS: Record<string, number> = { add: sf.OP_ADD, sub: sf.OP_SUB, mul: sf.OP_MUL, div: sf.OP_DIV };

/** ST(0) = ST(0) op mem, or mem op ST(0) when `rev`. */
function arithMem(op: number, rev: boolean, kind: MemKind): Handler {
  return (c, u) => {
    st.checkPending(c);
    sf.clearFlags();
    const m = loadMem(c, u, kind);
    const p = st.top(c);
    const x = st.readST(c, 0);
    if (x === null) {
      st.underflowInto(c, p);
      return;
    }
    const r = rev
      ? sf.arith(op, m, x, st.pcFmt(c), st.rc(c), false, true)
      : sf.arith(op, x, m, st.pcFmt(c), st.rc(c), false, true);
    finish(c, p, r);
  };
}

/** Register forms D8/DC/DE: direction and reversal from the opcode and ModRM.reg (SDM FADD/FSUB/FSUBR/FDIV/FDIVR). */
const arithReg: Handler = (c, u) => {
  st.checkPending(c);
  const opc = u.raw[u.len - 2]!;
  const modrm = u.raw[u.len - 1]!;
  const reg = (modrm >> 3) & 7;
  const i = modrm & 7;
  const op = reg < 2 ? (reg === 0 ? sf.OP_ADD : sf.OP_MUL) : reg < 6 ? sf.OP_SUB : sf.OP_DIV;
  const toSt0 = opc === 0xd8;
  // D8: ST0 = ST0 op STi (/4 /6) or STi op ST0 (/5 /7). DC/DE: STi = ST0 op STi (/4 /6) or STi op ST0 (/5 /7).
  const dst = toSt0 ? 0 : i;
  const src = toSt0 ? i : 0;
  const rev = toSt0 ? reg === 5 || reg === 7 : reg === 4 || reg === 6;
  sf.clearFlags();
  const d = st.readST(c, dst);
  const s = st.readST(c, src);
  const pd = st.phys(c, dst);
  if (d === null || s === null) {
    if (!st.underflow(c)) st.setIndefinite(c, pd);
  } else {
    const r = rev
      ? sf.arith(op, s, d, st.pcFmt(c), st.rc(c), false, true)
      : sf.arith(op, d, s, st.pcFmt(c), st.rc(c), false, true);
    if (!finish(c, pd, r)) return;
  }
  if (opc === 0xde) st.pop(c);
};

/** FSQRT. */
const fsqrt: Handler = (c) => {
  st.checkPending(c);
  sf.clearFlags();
  const x = st.readST(c, 0);
  const p = st.top(c);
  if (x === null) {
    st.underflowInto(c, p);
    return;
  }
  finish(c, p, sf.arith(sf.OP_SQRT, x, x, st.pcFmt(c), st.rc(c), false, true));
};

/** FCHS / FABS: sign manipulation only. */
function sign(kind: "chs" | "abs"): Handler {
  return (c) => {
    st.checkPending(c);
    const p = st.top(c);
    if (st.isEmpty(c, p)) {
      st.underflowInto(c, p);
      return;
    }
    c.fpuExp[p] = kind === "chs" ? c.fpuExp[p]! ^ 0x8000 : c.fpuExp[p]! & 0x7fff;
    c.fpuSw &= ~st.SW_C1;
  };
}

// ---- compares -------------------------------------------------------------------------------

/**
 * Compare ST(0) with `b`: C3 C2 C0 (or ZF PF CF for FCOMI) = 000 greater, 001 less, 100 equal,
 * 111 unordered. `ordered` (FCOM) raises IE on any NaN; FUCOM only on SNaN.
 */
function compareWith(c: Cpu, a: sf.SF | null, b: sf.SF | null, ordered: boolean, eflags: boolean): boolean {
  let res: number;
  if (a === null || b === null) {
    if (st.underflow(c)) return false;
    res = 2;
  } else {
    res = sf.compare(a, b);
    if (res === 2) {
      sf.clearFlags(); // no #D with a NaN or unsupported operand
      if (ordered || sf.isSNaN(a) || sf.isSNaN(b) || a.cls === sf.UNSUP || b.cls === sf.UNSUP)
        sf.raise(sf.IE);
    }
    if (st.report(c, sf.flags)) return false;
    c.fpuSw &= ~st.SW_C1;
  }
  const bits = res === 1 ? 0 : res === -1 ? 1 : res === 0 ? 4 : 7; // C3/ZF=4 C2/PF=2 C0/CF=1
  if (eflags) {
    const f = (bits & 4 ? 0x40 : 0) | (bits & 2 ? 0x04 : 0) | (bits & 1 ? 0x01 : 0);
    c.setFlags((c.getFlags() & ~0x8d5) | f);
  } else {
    c.fpuSw =
      (c.fpuSw & ~(st.SW_C0 | st.SW_C2 | st.SW_C3)) |
      (bits & 4 ? st.SW_C3 : 0) |
      (bits & 2 ? st.SW_C2 : 0) |
      (bits & 1 ? st.SW_C0 : 0);
  }
  return true;
}

/** FCOM/FCOMP/FCOMPP/FUCOM/FUCOMP/FUCOMPP ST(i) (the PP forms use ST(1)). */
function fcomReg(ordered: boolean, pops: number, eflags = false): Handler {
  return (c, u) => {
    st.checkPending(c);
    sf.clearFlags();
    const i = pops === 2 ? 1 : eflags ? u.r1 : u.r0;
    if (!compareWith(c, st.readST(c, 0), st.readST(c, i), ordered, eflags)) return;
    for (let k = 0; k < pops; k++) st.pop(c);
  };
}

/** FCOM/FCOMP/FICOM/FICOMP with a memory operand. */
function fcomMem(kind: MemKind, pops: number): Handler {
  return (c, u) => {
    st.checkPending(c);
    sf.clearFlags();
    const m = loadMem(c, u, kind);
    if (!compareWith(c, st.readST(c, 0), m, true, false)) return;
    if (pops) st.pop(c);
  };
}

/** FTST: compare ST(0) with +0.0. */
const ftst: Handler = (c) => {
  st.checkPending(c);
  sf.clearFlags();
  compareWith(c, st.readST(c, 0), new sf.SF(sf.ZERO, 0, 0n, 0), true, false);
};

/** FXAM: classify ST(0) into C3 C2 C0, sign into C1 (SDM FXAM table). */
const fxam: Handler = (c) => {
  const p = st.top(c);
  const se = c.fpuExp[p]!;
  let cls: number; // C3 C2 C0 as bits 2 1 0
  if (st.isEmpty(c, p)) cls = 0b101;
  else {
    const e = se & 0x7fff;
    const hi = c.fpuMant[2 * p + 1]!;
    const lo = c.fpuMant[2 * p]!;
    if (e === 0) cls = hi === 0 && lo === 0 ? 0b100 : 0b110;
    else if (hi >= 0)
      cls = 0b000; // unsupported (J bit clear)
    else if (e === 0x7fff) cls = (hi & 0x7fffffff) === 0 && lo === 0 ? 0b011 : 0b001;
    else cls = 0b010;
  }
  c.fpuSw =
    (c.fpuSw & ~st.SW_CC) |
    (cls & 4 ? st.SW_C3 : 0) |
    (cls & 2 ? st.SW_C2 : 0) |
    (cls & 1 ? st.SW_C0 : 0) |
    (se & 0x8000 ? st.SW_C1 : 0);
};

// ---- rounding, scaling, remainders -----------------------------------------------------------

/** FRNDINT: round ST(0) to an integer per RC. */
const frndint: Handler = (c) => {
  st.checkPending(c);
  sf.clearFlags();
  const x = st.readST(c, 0);
  const p = st.top(c);
  if (x === null) {
    st.underflowInto(c, p);
    return;
  }
  let r: sf.SF;
  if (x.cls === sf.NAN) r = sf.propagateNaN(x, x, true);
  else if (x.cls === sf.UNSUP) {
    sf.raise(sf.IE);
    r = sf.indefinite();
  } else r = sf.roundIntegral(x, st.rc(c));
  finish(c, p, r);
};

/** FSCALE: ST(0) × 2^trunc(ST(1)). */
const fscale: Handler = (c) => {
  st.checkPending(c);
  sf.clearFlags();
  const a = st.readST(c, 0);
  const b = st.readST(c, 1);
  const p = st.top(c);
  if (a === null || b === null) {
    st.underflowInto(c, p);
    return;
  }
  let r: sf.SF;
  if (a.cls === sf.UNSUP || b.cls === sf.UNSUP) {
    sf.raise(sf.IE);
    r = sf.indefinite();
  } else if (a.cls === sf.NAN || b.cls === sf.NAN) r = sf.propagateNaN(a, b, true);
  else if (b.cls === sf.INF) {
    if (b.sign === 0) {
      if (a.cls === sf.ZERO) {
        sf.raise(sf.IE);
        r = sf.indefinite();
      } else r = new sf.SF(sf.INF, a.sign, 0n, 0);
    } else if (a.cls === sf.INF) {
      sf.raise(sf.IE);
      r = sf.indefinite();
    } else r = new sf.SF(sf.ZERO, a.sign, 0n, 0);
  } else if (a.cls !== sf.FINITE) r = a;
  else {
    const keep = sf.flags & sf.DE;
    const n = b.cls === sf.ZERO ? 0n : sf.toInteger(b, sf.RZ);
    sf.clearFlags();
    sf.raise(keep);
    const k = n > 40000n ? 40000 : n < -40000n ? -40000 : Number(n);
    r = sf.roundTo(a.sign, a.mant, a.exp + k, false, st.pcFmt(c), st.rc(c));
  }
  finish(c, p, r);
};

/** FXTRACT: ST(0) → exponent; push significand (exponent 0). */
const fxtract: Handler = (c) => {
  st.checkPending(c);
  sf.clearFlags();
  const x = st.readST(c, 0);
  const p = st.top(c);
  if (x === null) {
    if (st.underflow(c)) return;
    st.setIndefinite(c, p);
    if (st.push(c)) st.setIndefinite(c, st.top(c));
    return;
  }
  let e: sf.SF;
  let m: sf.SF;
  if (x.cls === sf.ZERO) {
    sf.raise(sf.ZE);
    e = new sf.SF(sf.INF, 1, 0n, 0);
    m = x;
  } else if (x.cls === sf.INF) {
    e = new sf.SF(sf.INF, 0, 0n, 0);
    m = x;
  } else if (x.cls !== sf.FINITE) {
    if (x.cls === sf.UNSUP || sf.isSNaN(x)) sf.raise(sf.IE);
    e = x.cls === sf.UNSUP ? sf.indefinite() : sf.quiet(x);
    m = e;
  } else {
    const bl = sf.bitLen(x.mant);
    e = sf.fromInteger(BigInt(x.exp + bl - 1));
    m = new sf.SF(sf.FINITE, x.sign, x.mant, 1 - bl);
  }
  if (st.report(c, sf.flags)) return;
  st.setP(c, p, e);
  if (st.push(c)) st.setP(c, st.top(c), m);
};

/** FPREM (truncating quotient) / FPREM1 (nearest): partial remainder with C2 and quotient bits C0 C3 C1. */
function fprem(ieee: boolean): Handler {
  return (c) => {
    st.checkPending(c);
    sf.clearFlags();
    const a = st.readST(c, 0);
    const b = st.readST(c, 1);
    const p = st.top(c);
    if (a === null || b === null) {
      st.underflowInto(c, p);
      return;
    }
    let r: sf.SF;
    let q = 0n;
    let partial = false;
    let special = true;
    if (a.cls === sf.UNSUP || b.cls === sf.UNSUP) {
      sf.raise(sf.IE);
      r = sf.indefinite();
    } else if (a.cls === sf.NAN || b.cls === sf.NAN) r = sf.propagateNaN(a, b, true);
    else if (a.cls === sf.INF || b.cls === sf.ZERO) {
      sf.raise(sf.IE);
      r = sf.indefinite();
    } else if (a.cls === sf.ZERO || b.cls === sf.INF) {
      r = a; // quotient 0
      special = false;
    } else {
      special = false;
      const la = a.exp + sf.bitLen(a.mant);
      const lb = b.exp + sf.bitLen(b.mant);
      const d = la - lb;
      if (d < 64) {
        // Exact: a = q·b + r with q rounded toward zero (FPREM) or to nearest even (FPREM1).
        const e = Math.min(a.exp, b.exp);
        const ma = a.mant << BigInt(a.exp - e);
        const mb = b.mant << BigInt(b.exp - e);
        q = ma / mb;
        let rem = ma - q * mb;
        if (ieee) {
          const twice = 2n * rem;
          if (twice > mb || (twice === mb && (q & 1n) === 1n)) {
            q += 1n;
            rem -= mb;
          }
        }
        const s = rem < 0n ? a.sign ^ 1 : a.sign;
        const mag = rem < 0n ? -rem : rem;
        r = mag === 0n ? new sf.SF(sf.ZERO, a.sign, 0n, 0) : sf.roundTo(s, mag, e, false, sf.F80, sf.RN);
      } else {
        // Partial: reduce by b·QQ·2^(d-N) with N = 63 (an implementation choice in 32..63).
        partial = true;
        const sh = d - 63;
        const e = Math.min(a.exp, b.exp + sh);
        const ma = a.mant << BigInt(a.exp - e);
        const mb = b.mant << BigInt(b.exp + sh - e);
        const qq = ma / mb;
        const rem = ma - qq * mb;
        r = rem === 0n ? new sf.SF(sf.ZERO, a.sign, 0n, 0) : sf.roundTo(a.sign, rem, e, false, sf.F80, sf.RN);
      }
    }
    if (st.report(c, sf.flags)) return;
    st.setP(c, p, r);
    let sw = c.fpuSw & ~st.SW_C2;
    if (partial) sw |= st.SW_C2;
    else if (special) {
      // NaN/invalid/trivial operands: C0 C1 C3 are left as they were (measured; SDM: undefined).
    } else {
      sw &= ~st.SW_CC;
      if (q & 4n) sw |= st.SW_C0;
      if (q & 2n) sw |= st.SW_C3;
      if (q & 1n) sw |= st.SW_C1;
    }
    c.fpuSw = sw;
  };
}

// ---- transcendental (binary64 approximations) -------------------------------------------------

function setFromNumber(c: Cpu, p: number, v: number): void {
  st.setP(c, p, sf.fromNumber(v));
}

/** Unary transcendental on ST(0) computed in binary64: F2XM1, FSIN, FCOS. */
function trans1(f: (x: number) => number, trig: boolean): Handler {
  return (c) => {
    st.checkPending(c);
    sf.clearFlags();
    const x = st.readST(c, 0);
    const p = st.top(c);
    if (x === null) {
      st.underflowInto(c, p);
      return;
    }
    c.fpuSw &= ~st.SW_C2;
    if (x.cls === sf.NAN || x.cls === sf.UNSUP) {
      finish(c, p, x.cls === sf.UNSUP ? invalidResult() : sf.propagateNaN(x, x, true));
      return;
    }
    const v = sf.toNumber(x);
    if (trig && Math.abs(v) >= 2 ** 63) {
      c.fpuSw |= st.SW_C2; // out of range: operand unchanged
      return;
    }
    if (trig && x.cls === sf.INF) {
      sf.raise(sf.IE);
      finish(c, p, sf.indefinite());
      return;
    }
    sf.raise(sf.PE);
    if (st.report(c, sf.flags)) return;
    setFromNumber(c, p, f(v));
  };
}

/** FYL2X / FYL2XP1 / FPATAN: ST(1) = f(ST(1), ST(0)); pop. */
function trans2(f: (y: number, x: number) => number): Handler {
  return (c) => {
    st.checkPending(c);
    sf.clearFlags();
    const x = st.readST(c, 0);
    const y = st.readST(c, 1);
    const p1 = st.phys(c, 1);
    if (x === null || y === null) {
      if (!st.underflow(c)) {
        st.setIndefinite(c, p1);
        st.pop(c);
      }
      return;
    }
    let r: number | sf.SF;
    if (x.cls >= sf.NAN || y.cls >= sf.NAN)
      r = sf.propagateNaN(x.cls >= sf.NAN ? x : y, y.cls >= sf.NAN ? y : x, true);
    else {
      r = f(sf.toNumber(y), sf.toNumber(x));
      if (Number.isNaN(r)) {
        sf.raise(sf.IE);
        r = sf.indefinite();
      } else if (!Number.isFinite(r) && Number.isFinite(sf.toNumber(x)) && Number.isFinite(sf.toNumber(y)))
        sf.raise(sf.ZE);
      else sf.raise(sf.PE);
    }
    if (st.report(c, sf.flags)) return;
    st.setP(c, p1, typeof r === "number" ? sf.fromNumber(r) : r);
    st.pop(c);
  };
}

/** FPTAN / FSINCOS: replace ST(0) and push a second result. */
function trans2out(f: (x: number) => [number, number]): Handler {
  return (c) => {
    st.checkPending(c);
    sf.clearFlags();
    const x = st.readST(c, 0);
    const p = st.top(c);
    if (x === null) {
      st.underflowInto(c, p);
      return;
    }
    c.fpuSw &= ~st.SW_C2;
    const v = sf.toNumber(x);
    if (x.cls === sf.FINITE && Math.abs(v) >= 2 ** 63) {
      c.fpuSw |= st.SW_C2;
      return;
    }
    let a: sf.SF;
    let b: sf.SF;
    if (x.cls === sf.NAN || x.cls === sf.UNSUP || x.cls === sf.INF) {
      a = x.cls === sf.NAN ? sf.propagateNaN(x, x, true) : invalidResult();
      b = a;
    } else {
      const [r0, r1] = f(v);
      a = sf.fromNumber(r0);
      b = sf.fromNumber(r1);
      if (x.cls !== sf.ZERO) sf.raise(sf.PE);
    }
    if (st.report(c, sf.flags)) return;
    st.setP(c, p, a);
    if (st.push(c)) st.setP(c, st.top(c), b);
  };
}

// ---- control ------------------------------------------------------------------------------

const fnstcw: Handler = (c, u) => writeMem(c, ea(c, u), 2, c.fpuCw, 0);
const fldcw: Handler = (c, u) => {
  c.fpuCw = (readMem(c, ea(c, u), 2) & 0x1f7f) | 0x40;
  // Unmasking a pending exception makes it pending (ES).
  if (c.fpuSw & ~c.fpuCw & 0x3f) c.fpuSw |= st.SW_ES | st.SW_B;
  else c.fpuSw &= ~(st.SW_ES | st.SW_B);
};
const fnstswMem: Handler = (c, u) => writeMem(c, ea(c, u), 2, c.fpuSw, 0);
const fnstswAx: Handler = (c) => {
  c.regs[0] = (c.regs[0]! & ~0xffff) | (c.fpuSw & 0xffff);
};
const fnclex: Handler = (c) => {
  c.fpuSw &= ~(0x3f | st.SW_SF | st.SW_ES | st.SW_B);
};
const fninit: Handler = (c) => st.init(c);
const fwait: Handler = (c) => st.checkPending(c);
const fnop: Handler = (c) => st.checkPending(c);
function ffree(popAfter: boolean): Handler {
  return (c, u) => {
    st.checkPending(c);
    st.free(c, st.phys(c, u.r0));
    if (popAfter) st.pop(c);
  };
}
const fdecstp: Handler = (c) => {
  st.checkPending(c);
  c.fpuSw = (c.fpuSw & ~(0x3800 | st.SW_C1)) | (((st.top(c) - 1) & 7) << 11);
};
const fincstp: Handler = (c) => {
  st.checkPending(c);
  c.fpuSw = (c.fpuSw & ~(0x3800 | st.SW_C1)) | (((st.top(c) + 1) & 7) << 11);
};

/** FCMOVcc ST(0), ST(i): conditions on CF, ZF, PF. */
function fcmov(cond: (f: number) => boolean): Handler {
  return (c, u) => {
    st.checkPending(c);
    const p0 = st.top(c);
    const pi = st.phys(c, u.r1);
    if (st.isEmpty(c, p0) || st.isEmpty(c, pi)) {
      if (!st.underflow(c)) st.setIndefinite(c, p0);
      return;
    }
    if (cond(c.getFlags())) st.copyRaw(c, pi, p0);
    c.fpuSw &= ~st.SW_C1;
  };
}

/** FNSTENV / FNSAVE environment (protected-mode layout; 32-bit: 28 bytes, 16-bit: 14 bytes). */
function storeEnv(c: Cpu, a: number, small: boolean): number {
  const tw = st.fullTags(c);
  if (small) {
    c.mem.write16(a, c.fpuCw);
    c.mem.write16(a + 2, c.fpuSw);
    c.mem.write16(a + 4, tw);
    for (let i = 6; i < 14; i += 2) c.mem.write16(a + i, 0);
    return 14;
  }
  c.mem.write32(a, c.fpuCw | 0xffff0000);
  c.mem.write32(a + 4, c.fpuSw | 0xffff0000);
  c.mem.write32(a + 8, tw | 0xffff0000);
  for (let i = 12; i < 28; i += 4) c.mem.write32(a + i, 0);
  return 28;
}

function loadEnv(c: Cpu, a: number, small: boolean): number {
  c.fpuCw = (c.mem.read16(a) & 0x1f7f) | 0x40;
  const sw = c.mem.read16(small ? a + 2 : a + 4);
  const tw = c.mem.read16(small ? a + 4 : a + 8);
  c.fpuSw = sw;
  let t = 0;
  for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) === 3) t |= 3 << (2 * p);
  c.fpuTw = t;
  if (c.fpuSw & ~c.fpuCw & 0x3f) c.fpuSw |= st.SW_ES | st.SW_B;
  else c.fpuSw &= ~(st.SW_ES | st.SW_B);
  return small ? 14 : 28;
}

function fnstenv(small: boolean): Handler {
  return (c, u) => {
    storeEnv(c, ea(c, u), small);
    // FNSTENV masks all exceptions afterwards.
    c.fpuCw |= 0x3f;
  };
}
function fldenv(small: boolean): Handler {
  return (c, u) => {
    loadEnv(c, ea(c, u), small);
  };
}
function fnsave(small: boolean): Handler {
  return (c, u) => {
    const a = ea(c, u);
    let o = a + storeEnv(c, a, small);
    for (let i = 0; i < 8; i++, o += 10) {
      const p = st.phys(c, i);
      c.mem.write64(o, c.fpuMant[2 * p]!, c.fpuMant[2 * p + 1]!);
      c.mem.write16(o + 8, c.fpuExp[p]!);
    }
    st.init(c);
  };
}
function frstor(small: boolean): Handler {
  return (c, u) => {
    const a = ea(c, u);
    let o = a + loadEnv(c, a, small);
    for (let i = 0; i < 8; i++, o += 10) {
      const p = st.phys(c, i);
      const lo = c.mem.read64(o);
      const hi = c.mem.hi;
      c.fpuMant[2 * p] = lo;
      c.fpuMant[2 * p + 1] = hi;
      c.fpuExp[p] = c.mem.read16(o + 8);
    }
  };
}

/** FBLD m80bcd: 18 packed BCD digits and a sign byte. */
const fbld: Handler = (c, u) => {
  st.checkPending(c);
  const a = ea(c, u);
  const b = c.mem.readChecked(a, 10);
  let v = 0n;
  for (let i = 8; i >= 0; i--) v = v * 100n + BigInt((b[i]! >> 4) * 10 + (b[i]! & 15));
  const x = sf.fromInteger(b[9]! & 0x80 ? -v : v);
  if (v === 0n && b[9]! & 0x80) x.sign = 1;
  if (!st.push(c)) return;
  st.setP(c, st.top(c), x);
};

/** FBSTP m80bcd: round per RC, store 18 BCD digits; out of range → IE and the BCD indefinite. */
const fbstp: Handler = (c, u) => {
  st.checkPending(c);
  const a = ea(c, u);
  sf.clearFlags();
  const x = st.readST(c, 0);
  const out = new Uint8Array(10);
  let ok = false;
  if (x === null) {
    if (st.underflow(c)) return;
  } else if (x.cls === sf.FINITE || x.cls === sf.ZERO) {
    sf.clearFlags();
    const n = sf.toInteger(x, st.rc(c));
    const mag = n < 0n ? -n : n;
    if (mag < 10n ** 18n) {
      let m = mag;
      for (let i = 0; i < 9; i++) {
        const lo = Number(m % 10n);
        m /= 10n;
        const hi = Number(m % 10n);
        m /= 10n;
        out[i] = (hi << 4) | lo;
      }
      out[9] = x.sign ? 0x80 : 0;
      ok = true;
    } else sf.raise(sf.IE);
  } else sf.raise(sf.IE);
  if (!ok) {
    if (st.report(c, sf.flags)) return;
    out.set([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);
  } else if (st.report(c, sf.flags)) return;
  c.mem.writeChecked(a, out);
  st.pop(c);
};

// ---- the table ------------------------------------------------------------------------------

const CF = 0x01;
const PF = 0x04;
const ZF = 0x40;
const L2T_HI = 0xd49a784b;
const L2E_HI = 0xb8aa3b29;
const PI_HI = 0xc90fdaa2;
const LG2_HI = 0x9a209a84;
const LN2_HI = 0xb17217f7;

/** Handlers by form name. */
export const X87: Record<string, Handler> = {
  flds_Md: fldMem("f32"),
  fldl_Mq: fldMem("f64"),
  fldt_Mt: fldMem("f80"),
  filds_Mw: fldMem("i16"),
  fildl_Md: fldMem("i32"),
  fildll_Mq: fldMem("i64"),
  fld_STi: fldReg,
  fsts_Md: fstMem("f32", false),
  fstps_Md: fstMem("f32", true),
  fstl_Mq: fstMem("f64", false),
  fstpl_Mq: fstMem("f64", true),
  fstpt_Mt: fstMem("f80", true),
  fst_STi: fstReg(false),
  fstp_STi: fstReg(true),
  fists_Mw: fistMem(2, false, false),
  fistps_Mw: fistMem(2, true, false),
  fistl_Md: fistMem(4, false, false),
  fistpl_Md: fistMem(4, true, false),
  fistpll_Mq: fistMem(8, true, false),
  fisttps_Mw: fistMem(2, true, true),
  fisttpl_Md: fistMem(4, true, true),
  fisttpll_Mq: fistMem(8, true, true),
  fxch_STi: fxch,
  fld1: fldConst(0x3fff, 0x80000000, 0, "exact"),
  fldz: (c) => {
    st.checkPending(c);
    if (st.push(c)) st.setRaw(c, st.top(c), 0, 0, 0);
    c.fpuSw &= ~st.SW_C1;
  },
  fldpi: fldConst(0x4000, PI_HI, 0x2168c235, "up"),
  fldl2e: fldConst(0x3fff, L2E_HI, 0x5c17f0bc, "up"),
  fldl2t: fldConst(0x4000, L2T_HI, 0xcd1b8afe | 0, "down"),
  fldlg2: fldConst(0x3ffd, LG2_HI, 0xfbcff799 | 0, "up"),
  fldln2: fldConst(0x3ffe, LN2_HI, 0xd1cf79ac | 0, "up"),
  fsqrt,
  fchs: sign("chs"),
  fabs: sign("abs"),
  ftst,
  fxam,
  frndint,
  fscale,
  fxtract,
  fprem: fprem(false),
  fprem1: fprem(true),
  f2xm1: trans1((x) => Math.expm1(x * Math.LN2), false),
  fsin: trans1(Math.sin, true),
  fcos: trans1(Math.cos, true),
  fptan: trans2out((x) => [Math.tan(x), 1]),
  fsincos: trans2out((x) => [Math.sin(x), Math.cos(x)]),
  fyl2x: trans2((y, x) => (x < 0 ? Number.NaN : y * Math.log2(x))),
  fyl2xp1: trans2((y, x) => y * (Math.log1p(x) / Math.LN2)),
  fpatan: trans2((y, x) => Math.atan2(y, x)),
  fcom_STi: fcomReg(true, 0),
  fcomp_STi: fcomReg(true, 1),
  fcompp: fcomReg(true, 2),
  fucom_STi: fcomReg(false, 0),
  fucomp_STi: fcomReg(false, 1),
  fucompp: fcomReg(false, 2),
  fcomi_ST_STi: fcomReg(true, 0, true),
  fcomip_ST_STi: fcomReg(true, 1, true),
  fucomi_ST_STi: fcomReg(false, 0, true),
  fucomip_ST_STi: fcomReg(false, 1, true),
  fcoms_Md: fcomMem("f32", 0),
  fcomps_Md: fcomMem("f32", 1),
  fcoml_Mq: fcomMem("f64", 0),
  fcompl_Mq: fcomMem("f64", 1),
  ficoms_Mw: fcomMem("i16", 0),
  ficomps_Mw: fcomMem("i16", 1),
  ficoml_Md: fcomMem("i32", 0),
  ficompl_Md: fcomMem("i32", 1),
  fnstcw_Mw: fnstcw,
  fldcw_Mw: fldcw,
  fnstsw_Mw: fnstswMem,
  fnstsw_AX: fnstswAx,
  fnclex,
  fninit,
  fwait,
  fnop,
  ffree_STi: ffree(false),
  ffreep_STi: ffree(true),
  fdecstp,
  fincstp,
  fnstenv_Menv: fnstenv(false),
  fnstenvl_Menv: fnstenv(false),
  fnstenvs_Menv: fnstenv(true),
  fldenv_Menv: fldenv(false),
  fldenvl_Menv: fldenv(false),
  fldenvs_Menv: fldenv(true),
  fnsave_Menv: fnsave(false),
  fnsavel_Menv: fnsave(false),
  fnsaves_Menv: fnsave(true),
  frstor_Menv: frstor(false),
  frstorl_Menv: frstor(false),
  frstors_Menv: frstor(true),
  fbld_Mt: fbld,
  fbstp_Mt: fbstp,
  fcmovb_ST_STi: fcmov((f) => (f & CF) !== 0),
  fcmove_ST_STi: fcmov((f) => (f & ZF) !== 0),
  fcmovbe_ST_STi: fcmov((f) => (f & (CF | ZF)) !== 0),
  fcmovu_ST_STi: fcmov((f) => (f & PF) !== 0),
  fcmovnb_ST_STi: fcmov((f) => (f & CF) === 0),
  fcmovne_ST_STi: fcmov((f) => (f & ZF) === 0),
  fcmovnbe_ST_STi: fcmov((f) => (f & (CF | ZF)) === 0),
  fcmovnu_ST_STi: fcmov((f) => (f & PF) === 0),
};

for (const name of ["add", "mul", "sub", "div"]) {
  const op = OPS[name]!;
  X87[`f${name}s_Md`] = arithMem(op, false, "f32");
  X87[`f${name}l_Mq`] = arithMem(op, false, "f64");
  X87[`fi${name}l_Md`] = arithMem(op, false, "i32");
  X87[`fi${name}s_Mw`] = arithMem(op, false, "i16");
  if (name === "sub" || name === "div") {
    X87[`f${name}rs_Md`] = arithMem(op, true, "f32");
    X87[`f${name}rl_Mq`] = arithMem(op, true, "f64");
    X87[`fi${name}rl_Md`] = arithMem(op, true, "i32");
    X87[`fi${name}rs_Mw`] = arithMem(op, true, "i16");
  }
}
for (const n of ["fadd", "fmul", "fsub", "fsubr", "fdiv", "fdivr"]) {
  X87[`${n}_ST_STi`] = arithReg;
  X87[`${n}_STi_ST`] = arithReg;
  X87[`${n}p_STi_ST`] = arithReg;
}
