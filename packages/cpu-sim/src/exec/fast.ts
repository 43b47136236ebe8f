/**
 * Specialised handlers for the hottest instruction forms: when an instruction enters the
 * decoded-instruction cache, its operand kinds and sizes are known, so it gets a small closure
 * that touches the register file directly instead of dispatching on operand kinds at run time:
 * MOV/MOVZX/MOVSX/LEA, the ALU (ADD SUB CMP AND OR XOR TEST), INC/DEC, IMUL by register or
 * immediate, shifts by an immediate, PUSH/POP, CMOVcc/SETcc, and JMP/Jcc/CALL/RET with their
 * targets precomputed. Memory operands with a RIP-relative address are constants; base/index
 * addresses in 64-bit mode are summed inline (anything else goes through `ea`).
 *
 * Everything a closure depends on is captured as a `const`: inside a block (exec/block.ts),
 * where V8 inlines the closure at a call site that only ever sees it, those values become
 * constants and the branches on them fold away. Semantics are exactly those of the generic
 * handlers (alu.ts, move.ts, branch.ts, muldiv.ts, shift.ts), including the lazy-flag fields
 * that the flag computation reads; the conformance harness runs through this path.
 * @module
 */
import { type Cpu, FL, LF } from "../cpu.ts";
import { ea } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";

const TWO32 = 4294967296;
/** Canonical user-space addresses are below 2^47 (as in ops.ts). */
const ADDR_LIMIT = 2 ** 47;

// ---- memory operands --------------------------------------------------------------------------

/** Address computation of a memory operand: the generic `ea`, a constant, or base/index inline. */
const M_GENERIC = 0;
const M_CONST = 1;
const M_BASE_INDEX = 2;

function memMode(u: Uop): number {
  if (u.mSeg !== -1) return M_GENERIC;
  if (u.mAbs >= 0) return u.mAbs < ADDR_LIMIT ? M_CONST : M_GENERIC;
  if (u.asize !== 8 || u.mBase < -1 || u.mIndex < -1) return M_GENERIC;
  if (u.mDisp < -2147483648 || u.mDisp > 2147483647) return M_GENERIC;
  return M_BASE_INDEX;
}

/**
 * The effective address of `x` (as `ea` computes it) for mode `mm`: base/index registers within
 * ±2^47 summed as doubles (exact), anything unusual (large registers, a non-canonical result
 * that faults) recomputed by `ea`.
 */
function addr(c: Cpu, x: Uop, mm: number, abs: number, b: number, i: number, s: number, d: number): number {
  if (mm === M_BASE_INDEX) {
    const R = c.regs;
    let a = d;
    if (b >= 0) {
      const h = R[2 * b + 1]!;
      if (h >= 0x8000 || h < -0x8000) return ea(c, x);
      a += h * TWO32 + (R[2 * b]! >>> 0);
    }
    if (i >= 0) {
      const h = R[2 * i + 1]!;
      if (h >= 0x8000 || h < -0x8000) return ea(c, x);
      a += (h * TWO32 + (R[2 * i]! >>> 0)) * s;
    }
    if (a < 0 || a >= ADDR_LIMIT) return ea(c, x);
    return a;
  }
  if (mm === M_CONST) return abs;
  return ea(c, x);
}

/** Byte register read (AL..R15B, or AH..BH when `h`). */
function getB(c: Cpu, r: number, h: number): number {
  return h ? (c.regs[2 * r]! >> 8) & 0xff : c.regs[2 * r]! & 0xff;
}

/** Byte register write (merges into the register). */
function setB(c: Cpu, r: number, h: number, v: number): void {
  const R = c.regs;
  if (h) R[2 * r] = (R[2 * r]! & ~0xff00) | ((v & 0xff) << 8);
  else R[2 * r] = (R[2 * r]! & ~0xff) | (v & 0xff);
}

// ---- ALU ------------------------------------------------------------------------------------------

const ADD = 0;
const SUB = 1;
const CMP = 2;
const AND = 3;
const OR = 4;
const XOR = 5;
const TEST = 6;

/**
 * 32-bit ALU on int32 operands → int32 result, flags recorded lazily. Only the fields the flag
 * computation reads for the kind are written (a logic result needs just the result).
 */
function alu4(c: Cpu, op: number, a: number, b: number): number {
  let r: number;
  if (op === ADD) {
    r = (a + b) | 0;
    c.lfOp = LF.Add;
    c.lfA = a;
    c.lfB = b;
  } else if (op === SUB || op === CMP) {
    r = (a - b) | 0;
    c.lfOp = LF.Sub;
    c.lfA = a;
    c.lfB = b;
  } else {
    r = op === AND || op === TEST ? a & b : op === OR ? a | b : a ^ b;
    c.lfOp = LF.Logic;
  }
  c.lfSize = 4;
  c.lfR = r;
  return r;
}

/** 64-bit ALU on halves; returns the low half, the high half in c.hi. */
function alu8(c: Cpu, op: number, a: number, ah: number, b: number, bh: number): number {
  let r: number;
  let rh: number;
  if (op === ADD) {
    const s = (a >>> 0) + (b >>> 0);
    r = s | 0;
    rh = (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0;
    c.lfOp = LF.Add;
  } else if (op === SUB || op === CMP) {
    const d = (a >>> 0) - (b >>> 0);
    r = d | 0;
    rh = (ah - bh - (d < 0 ? 1 : 0)) | 0;
    c.lfOp = LF.Sub;
  } else {
    if (op === AND || op === TEST) {
      r = a & b;
      rh = ah & bh;
    } else if (op === OR) {
      r = a | b;
      rh = ah | bh;
    } else {
      r = a ^ b;
      rh = ah ^ bh;
    }
    c.lfOp = LF.Logic;
    c.lfSize = 8;
    c.lfR = r;
    c.lfRh = rh;
    c.hi = rh;
    return r;
  }
  c.lfSize = 8;
  c.lfA = a;
  c.lfAh = ah;
  c.lfB = b;
  c.lfBh = bh;
  c.lfR = r;
  c.lfRh = rh;
  c.hi = rh;
  return r;
}

/** 8/16-bit ALU on masked operands (`m` the mask): result masked, flags as alu.ts records them. */
function aluSmall(c: Cpu, op: number, size: number, m: number, a: number, b: number): number {
  let r: number;
  if (op === ADD) {
    r = (a + b) & m;
    c.lfOp = LF.Add;
  } else if (op === SUB || op === CMP) {
    r = (a - b) & m;
    c.lfOp = LF.Sub;
  } else {
    r = op === AND || op === TEST ? a & b : op === OR ? a | b : a ^ b;
    c.lfOp = LF.Logic;
  }
  c.lfSize = size;
  c.lfA = a;
  c.lfB = b;
  c.lfR = r;
  return r;
}

function aluHandler(op: number, u: Uop): Handler | undefined {
  const OP = op;
  const size = u.s0;
  const WRITE = op !== CMP && op !== TEST;
  const D = 2 * u.r0;
  const H0 = u.h0;
  const S = 2 * u.r1;
  const H1 = u.h1;
  const IB = u.immLo | 0;
  const IBH = u.immHi | 0;
  const MM = memMode(u);
  const MA = u.mAbs;
  const MB = u.mBase;
  const MI = u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  if (size === 1 || size === 2) {
    // Registers (a high-byte register too), memory and immediates; the generic path for the rest.
    const M = size === 1 ? 0xff : 0xffff;
    const k0 = u.k0;
    const k1 = u.k1;
    if ((k0 !== K.Gpr && k0 !== K.Mem) || (k1 !== K.Gpr && k1 !== K.Mem && k1 !== K.Imm)) return undefined;
    if (k1 === K.Gpr && u.s1 !== size) return undefined;
    const IM = IB & M;
    if (size === 1) {
      if (k0 === K.Gpr && k1 === K.Gpr)
        return (c) => {
          const r = aluSmall(c, OP, 1, 0xff, getB(c, D >> 1, H0), getB(c, S >> 1, H1));
          if (WRITE) setB(c, D >> 1, H0, r);
        };
      if (k0 === K.Gpr && k1 === K.Imm)
        return (c) => {
          const r = aluSmall(c, OP, 1, 0xff, getB(c, D >> 1, H0), IM);
          if (WRITE) setB(c, D >> 1, H0, r);
        };
      if (k0 === K.Gpr)
        return (c, x) => {
          const b = c.mem.read8(addr(c, x, MM, MA, MB, MI, MS, MD));
          const r = aluSmall(c, OP, 1, 0xff, getB(c, D >> 1, H0), b);
          if (WRITE) setB(c, D >> 1, H0, r);
        };
      if (k1 === K.Mem) return undefined;
      const FROM_IMM = k1 === K.Imm;
      return (c, x) => {
        const a = addr(c, x, MM, MA, MB, MI, MS, MD);
        const m = c.mem;
        const r = aluSmall(c, OP, 1, 0xff, m.read8(a), FROM_IMM ? IM : getB(c, S >> 1, H1));
        if (WRITE) m.write8(a, r);
      };
    }
    // 16 bits: CMP/TEST only (a 16-bit write merges; rare enough for the generic handler).
    if (WRITE || k1 === K.Mem) return undefined;
    const FROM_IMM = k1 === K.Imm;
    if (k0 === K.Gpr)
      return (c) => {
        aluSmall(c, OP, 2, M, c.regs[D]! & M, FROM_IMM ? IM : c.regs[S]! & M);
      };
    return (c, x) => {
      const a = c.mem.read16(addr(c, x, MM, MA, MB, MI, MS, MD));
      aluSmall(c, OP, 2, M, a, FROM_IMM ? IM : c.regs[S]! & M);
    };
  }
  if (size !== 4 && size !== 8) return undefined;
  if (u.k0 === K.Gpr && u.h0 === 0) {
    if (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size) {
      if (size === 4) {
        if (!WRITE)
          return (c) => {
            const R = c.regs;
            alu4(c, OP, R[D]!, R[S]!);
          };
        if (OP === XOR && D === S)
          return (c) => {
            // The zeroing idiom: same flags as any XOR with result 0.
            const R = c.regs;
            R[D] = 0;
            R[D + 1] = 0;
            c.lfOp = LF.Logic;
            c.lfSize = 4;
            c.lfR = 0;
          };
        return (c) => {
          const R = c.regs;
          R[D] = alu4(c, OP, R[D]!, R[S]!);
          R[D + 1] = 0;
        };
      }
      if (!WRITE)
        return (c) => {
          const R = c.regs;
          alu8(c, OP, R[D]!, R[D + 1]!, R[S]!, R[S + 1]!);
        };
      return (c) => {
        const R = c.regs;
        R[D] = alu8(c, OP, R[D]!, R[D + 1]!, R[S]!, R[S + 1]!);
        R[D + 1] = c.hi;
      };
    }
    if (u.k1 === K.Imm) {
      if (size === 4) {
        if (!WRITE) return (c) => alu4(c, OP, c.regs[D]!, IB);
        return (c) => {
          const R = c.regs;
          R[D] = alu4(c, OP, R[D]!, IB);
          R[D + 1] = 0;
        };
      }
      if (!WRITE) return (c) => alu8(c, OP, c.regs[D]!, c.regs[D + 1]!, IB, IBH);
      return (c) => {
        const R = c.regs;
        R[D] = alu8(c, OP, R[D]!, R[D + 1]!, IB, IBH);
        R[D + 1] = c.hi;
      };
    }
    if (u.k1 === K.Mem && u.s1 === size) {
      if (size === 4)
        return (c, x) => {
          const b = c.mem.read32(addr(c, x, MM, MA, MB, MI, MS, MD));
          const R = c.regs;
          const r = alu4(c, OP, R[D]!, b);
          if (WRITE) {
            R[D] = r;
            R[D + 1] = 0;
          }
        };
      return (c, x) => {
        const m = c.mem;
        const b = m.read64(addr(c, x, MM, MA, MB, MI, MS, MD));
        const R = c.regs;
        const r = alu8(c, OP, R[D]!, R[D + 1]!, b, m.hi);
        if (WRITE) {
          R[D] = r;
          R[D + 1] = c.hi;
        }
      };
    }
  }
  if (u.k0 === K.Mem && (u.k1 === K.Imm || (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size))) {
    const FROM_IMM = u.k1 === K.Imm;
    if (size === 4)
      return (c, x) => {
        const a = addr(c, x, MM, MA, MB, MI, MS, MD);
        const m = c.mem;
        const r = alu4(c, OP, m.read32(a), FROM_IMM ? IB : c.regs[S]!);
        if (WRITE) m.write32(a, r);
      };
    return (c, x) => {
      const a = addr(c, x, MM, MA, MB, MI, MS, MD);
      const m = c.mem;
      const lo = m.read64(a);
      const hi = m.hi;
      const r = FROM_IMM ? alu8(c, OP, lo, hi, IB, IBH) : alu8(c, OP, lo, hi, c.regs[S]!, c.regs[S + 1]!);
      if (WRITE) m.write64(a, r, c.hi);
    };
  }
  return undefined;
}

// ---- moves ----------------------------------------------------------------------------------------

function movHandler(u: Uop): Handler | undefined {
  const size = u.s0;
  const D = 2 * u.r0;
  const H0 = u.h0;
  const S = 2 * u.r1;
  const H1 = u.h1;
  const MM = memMode(u);
  const MA = u.mAbs;
  const MB = u.mBase;
  const MI = u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  const LO = u.immLo | 0;
  const HI = u.immHi | 0;
  if (size === 1) {
    if (u.k0 === K.Gpr) {
      if (u.k1 === K.Gpr) return (c) => setB(c, D >> 1, H0, getB(c, S >> 1, H1));
      if (u.k1 === K.Imm) return (c) => setB(c, D >> 1, H0, LO);
      if (u.k1 === K.Mem)
        return (c, x) => setB(c, D >> 1, H0, c.mem.read8(addr(c, x, MM, MA, MB, MI, MS, MD)));
    } else if (u.k0 === K.Mem) {
      if (u.k1 === K.Gpr)
        return (c, x) => c.mem.write8(addr(c, x, MM, MA, MB, MI, MS, MD), getB(c, S >> 1, H1));
      if (u.k1 === K.Imm) return (c, x) => c.mem.write8(addr(c, x, MM, MA, MB, MI, MS, MD), LO);
    }
    return undefined;
  }
  if (size !== 4 && size !== 8) return undefined;
  if (u.k0 === K.Gpr && u.h0 === 0) {
    if (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size) {
      if (size === 8)
        return (c) => {
          const R = c.regs;
          R[D] = R[S]!;
          R[D + 1] = R[S + 1]!;
        };
      return (c) => {
        const R = c.regs;
        R[D] = R[S]!;
        R[D + 1] = 0;
      };
    }
    if (u.k1 === K.Imm) {
      const hi = size === 8 ? HI : 0;
      return (c) => {
        const R = c.regs;
        R[D] = LO;
        R[D + 1] = hi;
      };
    }
    if (u.k1 === K.Mem && u.s1 === size) {
      if (size === 8)
        return (c, x) => {
          const m = c.mem;
          const lo = m.read64(addr(c, x, MM, MA, MB, MI, MS, MD));
          const R = c.regs;
          R[D] = lo;
          R[D + 1] = m.hi;
        };
      return (c, x) => {
        const v = c.mem.read32(addr(c, x, MM, MA, MB, MI, MS, MD));
        const R = c.regs;
        R[D] = v;
        R[D + 1] = 0;
      };
    }
  }
  if (u.k0 === K.Mem) {
    if (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size) {
      if (size === 8)
        return (c, x) => {
          const R = c.regs;
          c.mem.write64(addr(c, x, MM, MA, MB, MI, MS, MD), R[S]!, R[S + 1]!);
        };
      return (c, x) => c.mem.write32(addr(c, x, MM, MA, MB, MI, MS, MD), c.regs[S]!);
    }
    if (u.k1 === K.Imm) {
      if (size === 8) return (c, x) => c.mem.write64(addr(c, x, MM, MA, MB, MI, MS, MD), LO, HI);
      return (c, x) => c.mem.write32(addr(c, x, MM, MA, MB, MI, MS, MD), LO);
    }
  }
  return undefined;
}

/** MOVZX/MOVSX/MOVSXD into a 32/64-bit register from a register or memory. */
function extendHandler(signed: boolean, u: Uop): Handler | undefined {
  const size = u.s0;
  const from = u.s1;
  if ((size !== 4 && size !== 8) || u.k0 !== K.Gpr || (from !== 1 && from !== 2 && from !== 4))
    return undefined;
  if (u.k1 !== K.Gpr && u.k1 !== K.Mem) return undefined;
  const SIGNED = signed;
  const WIDE = size === 8;
  const FROM = from;
  const SH = 32 - 8 * from;
  const D = 2 * u.r0;
  const S = 2 * u.r1;
  const H1 = u.h1;
  const MM = memMode(u);
  const MA = u.mAbs;
  const MB = u.mBase;
  const MI = u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  const put = (c: Cpu, v: number): void => {
    const R = c.regs;
    if (SIGNED) {
      const s = SH === 0 ? v | 0 : (v << SH) >> SH;
      R[D] = s;
      R[D + 1] = WIDE ? s >> 31 : 0;
    } else {
      R[D] = v;
      R[D + 1] = 0;
    }
  };
  if (u.k1 === K.Gpr) {
    if (FROM === 1) return (c) => put(c, getB(c, S >> 1, H1));
    if (FROM === 2) return (c) => put(c, c.regs[S]! & 0xffff);
    return (c) => put(c, c.regs[S]!);
  }
  if (FROM === 1) return (c, x) => put(c, c.mem.read8(addr(c, x, MM, MA, MB, MI, MS, MD)));
  if (FROM === 2) return (c, x) => put(c, c.mem.read16(addr(c, x, MM, MA, MB, MI, MS, MD)));
  return (c, x) => put(c, c.mem.read32(addr(c, x, MM, MA, MB, MI, MS, MD)));
}

/** LEA into a 32/64-bit register with 64-bit addressing (move.ts `leaExact`). */
function leaHandler(u: Uop): Handler | undefined {
  const size = u.s0;
  if ((size !== 4 && size !== 8) || u.k0 !== K.Gpr || u.asize !== 8 || u.mBase < -1 || u.mIndex < -1)
    return undefined;
  const D = 2 * u.r0;
  const WIDE = size === 8;
  if (u.mAbs >= 0) {
    const lo = u.mAbs | 0;
    const hi = WIDE ? Math.floor(u.mAbs / TWO32) | 0 : 0;
    return (c) => {
      const R = c.regs;
      R[D] = lo;
      R[D + 1] = hi;
    };
  }
  const B = u.mBase;
  const I = u.mIndex;
  const SC = u.mScale;
  const DL = u.mDisp >>> 0;
  const DH = u.mDisp < 0 ? -1 : 0;
  if (!WIDE)
    return (c) => {
      const R = c.regs;
      let L = DL;
      if (B >= 0) L += R[2 * B]! >>> 0;
      if (I >= 0) L += (R[2 * I]! >>> 0) * SC;
      R[D] = L | 0;
      R[D + 1] = 0;
    };
  return (c) => {
    const R = c.regs;
    let L = DL;
    let H = DH;
    if (B >= 0) {
      L += R[2 * B]! >>> 0;
      H += R[2 * B + 1]!;
    }
    if (I >= 0) {
      L += (R[2 * I]! >>> 0) * SC;
      H += Math.imul(R[2 * I + 1]!, SC);
    }
    R[D] = L | 0;
    R[D + 1] = (H + Math.floor(L / TWO32)) | 0;
  };
}

// ---- INC/DEC, IMUL, shifts ------------------------------------------------------------------------

function incDecHandler(inc: boolean, u: Uop): Handler | undefined {
  if (u.k0 !== K.Gpr || u.h0 !== 0 || (u.s0 !== 4 && u.s0 !== 8)) return undefined;
  const D = 2 * u.r0;
  const DELTA = inc ? 1 : -1;
  const OP = inc ? LF.Inc : LF.Dec;
  if (u.s0 === 4)
    return (c) => {
      const R = c.regs;
      const cf = c.cf();
      const a = R[D]!;
      const r = (a + DELTA) | 0;
      R[D] = r;
      R[D + 1] = 0;
      c.lfOp = OP;
      c.lfSize = 4;
      c.lfA = a;
      c.lfB = 1;
      c.lfR = r;
      c.lfC = cf;
    };
  return (c) => {
    const R = c.regs;
    const cf = c.cf();
    const a = R[D]!;
    const ah = R[D + 1]!;
    const s = (a >>> 0) + DELTA;
    const r = s | 0;
    const rh = (ah + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
    R[D] = r;
    R[D + 1] = rh;
    c.lfOp = OP;
    c.lfSize = 8;
    c.lfA = a;
    c.lfAh = ah;
    c.lfB = 1;
    c.lfBh = 0;
    c.lfR = r;
    c.lfRh = rh;
    c.lfC = cf;
  };
}

/** Flags of a result with CF/OF (and AF) given explicitly (LF.Res: the computation reads only these). */
function resFlags(c: Cpu, size: number, r: number, rh: number, cfof: number): void {
  c.lfC = cfof;
  c.lfOp = LF.Res;
  c.lfSize = size;
  c.lfR = r;
  c.lfRh = rh;
}

/** IMUL r32, r/m32 (, imm): the low 32 bits, CF = OF = the product does not fit. */
function imulHandler(three: boolean, u: Uop): Handler | undefined {
  if (u.s0 !== 4 || u.k0 !== K.Gpr || u.s1 !== 4 || (u.k1 !== K.Gpr && u.k1 !== K.Mem)) return undefined;
  const D = 2 * u.r0;
  const S = 2 * u.r1;
  const THREE = three;
  const IB = u.immLo | 0;
  const FROM_MEM = u.k1 === K.Mem;
  const MM = memMode(u);
  const MA = u.mAbs;
  const MB = u.mBase;
  const MI = u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  return (c, x) => {
    const R = c.regs;
    const src = FROM_MEM ? c.mem.read32(addr(c, x, MM, MA, MB, MI, MS, MD)) : R[S]!;
    const a = THREE ? src : R[D]!;
    const b = THREE ? IB : src;
    const p = a * b; // |p| < 2^62: the range test is exact even where p is rounded
    const lo = Math.imul(a, b);
    resFlags(c, 4, lo, 0, p < -2147483648 || p > 2147483647 ? FL.CF | FL.OF : 0);
    R[D] = lo;
    R[D + 1] = 0;
  };
}

/** SHL/SHR/SAR of a 32/64-bit register by an immediate (or 1). */
function shiftImm(kind: "shl" | "shr" | "sar", u: Uop): Handler | undefined {
  if (u.k0 !== K.Gpr || u.h0 !== 0 || (u.s0 !== 4 && u.s0 !== 8) || (u.k1 !== K.Imm && u.k1 !== K.One))
    return undefined;
  const size = u.s0;
  const CNT = (u.k1 === K.One ? 1 : u.immLo) & (size === 8 ? 63 : 31);
  const D = 2 * u.r0;
  if (CNT === 0)
    return (c) => {
      if (size === 4) c.regs[D + 1] = 0;
    };
  if (size === 4) {
    switch (kind) {
      case "shl":
        return (c) => {
          const R = c.regs;
          const v = R[D]! >>> 0;
          const r = (v << CNT) | 0;
          const cf = (v >>> (32 - CNT)) & 1;
          R[D] = r;
          R[D + 1] = 0;
          resFlags(c, 4, r, 0, (cf ? FL.CF : 0) | ((r >>> 31) ^ cf ? FL.OF : 0));
        };
      case "shr":
        return (c) => {
          const R = c.regs;
          const v = R[D]! >>> 0;
          const r = (v >>> CNT) | 0;
          R[D] = r;
          R[D + 1] = 0;
          resFlags(c, 4, r, 0, ((v >>> (CNT - 1)) & 1 ? FL.CF : 0) | (v >>> 31 ? FL.OF : 0));
        };
      default:
        return (c) => {
          const R = c.regs;
          const v = R[D]! | 0;
          const r = v >> CNT;
          R[D] = r;
          R[D + 1] = 0;
          resFlags(c, 4, r, 0, (v >> (CNT - 1)) & 1 ? FL.CF : 0);
        };
    }
  }
  switch (kind) {
    case "shl":
      return (c) => {
        const R = c.regs;
        const lo = R[D]!;
        const hi = R[D + 1]!;
        let rl: number;
        let rh: number;
        let cf: number;
        if (CNT < 32) {
          rh = (hi << CNT) | (lo >>> (32 - CNT));
          rl = lo << CNT;
          cf = (hi >>> (32 - CNT)) & 1;
        } else if (CNT === 32) {
          rh = lo;
          rl = 0;
          cf = hi & 1;
        } else {
          rh = lo << (CNT - 32);
          rl = 0;
          cf = (lo >>> (64 - CNT)) & 1;
        }
        R[D] = rl;
        R[D + 1] = rh;
        resFlags(c, 8, rl, rh, (cf ? FL.CF : 0) | ((rh >>> 31) ^ cf ? FL.OF : 0));
      };
    case "shr":
      return (c) => {
        const R = c.regs;
        const lo = R[D]!;
        const hi = R[D + 1]!;
        let rl: number;
        let rh: number;
        let cf: number;
        if (CNT < 32) {
          rl = (lo >>> CNT) | (hi << (32 - CNT));
          rh = hi >>> CNT;
          cf = (lo >>> (CNT - 1)) & 1;
        } else if (CNT === 32) {
          rl = hi;
          rh = 0;
          cf = (lo >>> 31) & 1;
        } else {
          rl = hi >>> (CNT - 32);
          rh = 0;
          cf = (hi >>> (CNT - 33)) & 1;
        }
        R[D] = rl | 0;
        R[D + 1] = rh | 0;
        resFlags(c, 8, rl | 0, rh | 0, (cf ? FL.CF : 0) | (hi >>> 31 ? FL.OF : 0));
      };
    default:
      return (c) => {
        const R = c.regs;
        const lo = R[D]!;
        const hi = R[D + 1]!;
        let rl: number;
        let rh: number;
        let cf: number;
        if (CNT < 32) {
          rl = (lo >>> CNT) | (hi << (32 - CNT));
          rh = hi >> CNT;
          cf = (lo >>> (CNT - 1)) & 1;
        } else if (CNT === 32) {
          rl = hi;
          rh = hi >> 31;
          cf = (lo >>> 31) & 1;
        } else {
          rl = hi >> (CNT - 32);
          rh = hi >> 31;
          cf = (hi >> (CNT - 33)) & 1;
        }
        R[D] = rl | 0;
        R[D + 1] = rh;
        resFlags(c, 8, rl | 0, rh, cf ? FL.CF : 0);
      };
  }
}

// ---- stack and control transfer -------------------------------------------------------------------

/** Push a 64-bit value (ops.ts `push64`: the store first, so a fault leaves RSP unchanged). */
function push(c: Cpu, lo: number, hi: number): void {
  const R = c.regs;
  const sp = (R[9]! >>> 0) * TWO32 + (R[8]! >>> 0) - 8;
  c.mem.write64(sp, lo, hi);
  R[8] = sp | 0;
  R[9] = Math.floor(sp / TWO32) | 0;
}

/** Pop a 64-bit value (ops.ts `pop64`): low half returned, high in c.hi. */
function pop(c: Cpu): number {
  const R = c.regs;
  const m = c.mem;
  const sp = (R[9]! >>> 0) * TWO32 + (R[8]! >>> 0);
  const lo = m.read64(sp);
  c.hi = m.hi;
  const nsp = sp + 8;
  R[8] = nsp | 0;
  R[9] = Math.floor(nsp / TWO32) | 0;
  return lo;
}

function pushPopHandler(isPush: boolean, u: Uop): Handler | undefined {
  if (u.k0 !== K.Gpr || u.s0 !== 8 || u.osize !== 8) return undefined;
  const D = 2 * u.r0;
  if (isPush)
    return (c) => {
      const R = c.regs;
      push(c, R[D]!, R[D + 1]!);
    };
  return (c) => {
    const lo = pop(c);
    c.regs[D] = lo;
    c.regs[D + 1] = c.hi;
  };
}

function jccHandler(cc: number, u: Uop): Handler {
  const CC = cc;
  const T = u.target;
  return (c) => {
    if (c.cond(CC)) {
      c.rip = T;
      c.cycles += c.takenExtra;
    }
  };
}

function cmovHandler(cc: number, u: Uop): Handler | undefined {
  const size = u.s0;
  if ((size !== 4 && size !== 8) || u.k0 !== K.Gpr || u.s1 !== size) return undefined;
  if (u.k1 !== K.Gpr && u.k1 !== K.Mem) return undefined;
  const CC = cc;
  const WIDE = size === 8;
  const D = 2 * u.r0;
  const S = 2 * u.r1;
  const MM = memMode(u);
  const MA = u.mAbs;
  const MB = u.mBase;
  const MI = u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  if (u.k1 === K.Gpr)
    return (c) => {
      const R = c.regs;
      if (c.cond(CC)) {
        R[D] = R[S]!;
        R[D + 1] = WIDE ? R[S + 1]! : 0;
      } else if (!WIDE) R[D + 1] = 0;
    };
  return (c, x) => {
    // The source is read (and may fault) even when the condition is false.
    const m = c.mem;
    const a = addr(c, x, MM, MA, MB, MI, MS, MD);
    const lo = WIDE ? m.read64(a) : m.read32(a);
    const hi = WIDE ? m.hi : 0;
    const R = c.regs;
    if (c.cond(CC)) {
      R[D] = lo;
      R[D + 1] = hi;
    } else if (!WIDE) R[D + 1] = 0;
  };
}

function setccHandler(cc: number, u: Uop): Handler | undefined {
  const CC = cc;
  const D = u.r0;
  const H0 = u.h0;
  if (u.k0 === K.Gpr) return (c) => setB(c, D, H0, c.cond(CC) ? 1 : 0);
  if (u.k0 !== K.Mem) return undefined;
  const MM = memMode(u);
  const MA = u.mAbs;
  const MB = u.mBase;
  const MI = u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  return (c, x) => c.mem.write8(addr(c, x, MM, MA, MB, MI, MS, MD), c.cond(CC) ? 1 : 0);
}

function branchHandler(mn: string, u: Uop): Handler | undefined {
  const T = u.target;
  const NLO = u.next | 0;
  const NHI = Math.floor(u.next / TWO32) | 0;
  if (mn === "jmp" && u.k0 === K.Rel)
    return (c) => {
      c.rip = T;
    };
  if (mn === "call" && u.k0 === K.Rel)
    return (c) => {
      push(c, NLO, NHI);
      c.rip = T;
    };
  if (mn === "ret" && u.nops === 0)
    return (c) => {
      const lo = pop(c);
      c.rip = (c.hi >>> 0) * TWO32 + (lo >>> 0);
    };
  return undefined;
}

const ALU_OPS: Record<string, number> = {
  add: ADD,
  sub: SUB,
  cmp: CMP,
  and: AND,
  or: OR,
  xor: XOR,
  test: TEST,
};
const CCS = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];
const JCC: Record<string, number> = {};
const CMOV: Record<string, number> = {};
const SETCC: Record<string, number> = {};
CCS.forEach((cc, i) => {
  JCC[`j${cc}`] = i;
  CMOV[`cmov${cc}`] = i;
  SETCC[`set${cc}`] = i;
});
const EXTEND: Record<string, boolean> = {
  movzbl: false,
  movzbq: false,
  movzwl: false,
  movzwq: false,
  movsbl: true,
  movsbq: true,
  movswl: true,
  movswq: true,
  movslq: true,
  movsxd: true,
};

/** A specialised handler for `u` (form `name`), or undefined to keep the generic one. */
export function specialize(u: Uop, name: string): Handler | undefined {
  if (u.lock) return undefined;
  const us = name.indexOf("_");
  const mn = us < 0 ? name : name.slice(0, us);
  const op = ALU_OPS[mn];
  if (op !== undefined) return u.nops === 2 ? aluHandler(op, u) : undefined;
  const jcc = JCC[mn];
  if (jcc !== undefined) return u.k0 === K.Rel ? jccHandler(jcc, u) : undefined;
  const cmov = CMOV[mn];
  if (cmov !== undefined) return cmovHandler(cmov, u);
  const setcc = SETCC[mn];
  if (setcc !== undefined) return setccHandler(setcc, u);
  const ext = EXTEND[mn];
  if (ext !== undefined) return extendHandler(ext, u);
  switch (mn) {
    case "mov":
      return u.nops === 2 ? movHandler(u) : undefined;
    case "lea":
      return leaHandler(u);
    case "inc":
      return incDecHandler(true, u);
    case "dec":
      return incDecHandler(false, u);
    case "imul":
      if (name === "imul_Gv_Ev") return imulHandler(false, u);
      if (name === "imul_Gv_Ev_Iz" || name === "imul_Gv_Ev_Ibs") return imulHandler(true, u);
      return undefined;
    case "push":
      return pushPopHandler(true, u);
    case "pop":
      return pushPopHandler(false, u);
    case "shl":
    case "shr":
    case "sar":
      return u.nops === 2 ? shiftImm(mn, u) : undefined;
    case "jmp":
    case "call":
    case "ret":
      return branchHandler(mn, u);
    default:
      return undefined;
  }
}
