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
import { CONDITION_CODES, type Cpu, FL, LF } from "../cpu.ts";
import type { Memory } from "../memory.ts";
import { ea } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";

const TWO32 = 4294967296;
/** 2^-32 (multiplying by it is exact). */
const INV32 = 1 / 4294967296;
/** Canonical user-space addresses are below 2^47 (as in ops.ts). */
const ADDR_LIMIT = 2 ** 47;

// ---- memory operands --------------------------------------------------------------------------

/** Address computation of a memory operand: the generic `ea`, a constant, or base/index inline. */
const M_GENERIC = 0;
const M_CONST = 1;
const M_BASE_INDEX = 2;

/**
 * How `u`'s memory operand address is computed: a RIP-relative address is a constant; base
 * and/or index registers in 64-bit mode are summed inline; anything else (segments, 32-bit
 * addressing, 64-bit displacements) goes through the generic `ea`.
 */
function memMode(u: Uop): number {
  if (u.mSeg !== -1) return M_GENERIC;
  if (u.mAbs >= 0) return u.mAbs < ADDR_LIMIT ? M_CONST : M_GENERIC;
  if (u.asize !== 8 || u.mBase < -1 || u.mIndex < -1) return M_GENERIC;
  if (u.mDisp < -2147483648 || u.mDisp > 2147483647) return M_GENERIC;
  return M_BASE_INDEX;
}

/**
 * The effective address of `x` (as `ea` computes it) for mode `mm` (base `b`, index `i` as
 * register numbers times 2, scale `s`, displacement `d`): registers within ±2^47 summed as
 * doubles (exact), anything unusual (large registers, a non-canonical result that faults)
 * recomputed by `ea`. One function for every uop, so that it is inlined into the handlers
 * (an address above 2^31 is then never boxed); inside a block its mode and registers are
 * constants.
 */
function addr(c: Cpu, x: Uop, mm: number, b: number, i: number, s: number, d: number): number {
  if (mm !== M_BASE_INDEX) return mm === M_CONST ? x.mAbs : ea(c, x);
  const R = c.regs;
  const hb = b >= 0 ? R[b + 1]! : 0;
  const hi = i >= 0 ? R[i + 1]! : 0;
  let a = d;
  if (b >= 0) a += hb * TWO32 + (R[b]! >>> 0);
  if (i >= 0) a += (hi * TWO32 + (R[i]! >>> 0)) * s;
  // Both high halves within ±2^15 (registers within ±2^47) and a canonical result.
  return ((hb + 0x8000) | (hi + 0x8000)) >>> 16 === 0 && a >= 0 && a < ADDR_LIMIT ? a : ea(c, x);
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

// One small function per operation (chosen when the uop is specialised, so that V8 inlines just
// that operation): 32-bit ones take int32 operands and return the int32 result; 64-bit ones take
// halves and return the low half with the high half in c.hi. Flags are recorded lazily, writing
// only the fields the flag computation reads for the kind (a logic result needs the result only).

type Alu4 = (c: Cpu, a: number, b: number) => number;
type Alu8 = (c: Cpu, a: number, ah: number, b: number, bh: number) => number;

function add4(c: Cpu, a: number, b: number): number {
  const r = (a + b) | 0;
  c.lfOp = LF.Add;
  c.lfSize = 4;
  c.lfA = a;
  c.lfB = b;
  c.lfR = r;
  return r;
}
function sub4(c: Cpu, a: number, b: number): number {
  const r = (a - b) | 0;
  c.lfOp = LF.Sub;
  c.lfSize = 4;
  c.lfA = a;
  c.lfB = b;
  c.lfR = r;
  return r;
}
function logic4(c: Cpu, r: number): number {
  c.lfOp = LF.Logic;
  c.lfSize = 4;
  c.lfR = r;
  return r;
}
const and4: Alu4 = (c, a, b) => logic4(c, a & b);
const or4: Alu4 = (c, a, b) => logic4(c, a | b);
const xor4: Alu4 = (c, a, b) => logic4(c, a ^ b);

function arith8(c: Cpu, op: LF, a: number, ah: number, b: number, bh: number, r: number, rh: number): number {
  c.lfOp = op;
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
function add8(c: Cpu, a: number, ah: number, b: number, bh: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return arith8(c, LF.Add, a, ah, b, bh, s | 0, (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0);
}
function sub8(c: Cpu, a: number, ah: number, b: number, bh: number): number {
  const d = (a >>> 0) - (b >>> 0);
  return arith8(c, LF.Sub, a, ah, b, bh, d | 0, (ah - bh - (d < 0 ? 1 : 0)) | 0);
}
function logic8(c: Cpu, r: number, rh: number): number {
  c.lfOp = LF.Logic;
  c.lfSize = 8;
  c.lfR = r;
  c.lfRh = rh;
  c.hi = rh;
  return r;
}
const and8: Alu8 = (c, a, ah, b, bh) => logic8(c, a & b, ah & bh);
const or8: Alu8 = (c, a, ah, b, bh) => logic8(c, a | b, ah | bh);
const xor8: Alu8 = (c, a, ah, b, bh) => logic8(c, a ^ b, ah ^ bh);

const ALU4: Alu4[] = [add4, sub4, sub4, and4, or4, xor4, and4];
const ALU8: Alu8[] = [add8, sub8, sub8, and8, or8, xor8, and8];

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
  const F4 = ALU4[op]!;
  const F8 = ALU8[op]!;
  const size = u.s0;
  const WRITE = op !== CMP && op !== TEST;
  const D = 2 * u.r0;
  const H0 = u.h0;
  const S = 2 * u.r1;
  const H1 = u.h1;
  const IB = u.immLo | 0;
  const IBH = u.immHi | 0;
  const MM = memMode(u);
  const MB = 2 * u.mBase;
  const MI = 2 * u.mIndex;
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
          const b = c.mem.read8(addr(c, x, MM, MB, MI, MS, MD));
          const r = aluSmall(c, OP, 1, 0xff, getB(c, D >> 1, H0), b);
          if (WRITE) setB(c, D >> 1, H0, r);
        };
      if (k1 === K.Mem) return undefined;
      const FROM_IMM = k1 === K.Imm;
      return (c, x) => {
        const a = addr(c, x, MM, MB, MI, MS, MD);
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
      const a = c.mem.read16(addr(c, x, MM, MB, MI, MS, MD));
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
            F4(c, R[D]!, R[S]!);
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
          R[D] = F4(c, R[D]!, R[S]!);
          R[D + 1] = 0;
        };
      }
      if (!WRITE)
        return (c) => {
          const R = c.regs;
          F8(c, R[D]!, R[D + 1]!, R[S]!, R[S + 1]!);
        };
      return (c) => {
        const R = c.regs;
        R[D] = F8(c, R[D]!, R[D + 1]!, R[S]!, R[S + 1]!);
        R[D + 1] = c.hi;
      };
    }
    if (u.k1 === K.Imm) {
      if (size === 4) {
        if (!WRITE) return (c) => F4(c, c.regs[D]!, IB);
        return (c) => {
          const R = c.regs;
          R[D] = F4(c, R[D]!, IB);
          R[D + 1] = 0;
        };
      }
      if (!WRITE) return (c) => F8(c, c.regs[D]!, c.regs[D + 1]!, IB, IBH);
      return (c) => {
        const R = c.regs;
        R[D] = F8(c, R[D]!, R[D + 1]!, IB, IBH);
        R[D + 1] = c.hi;
      };
    }
    if (u.k1 === K.Mem && u.s1 === size) {
      if (size === 4)
        return (c, x) => {
          const b = c.mem.read32(addr(c, x, MM, MB, MI, MS, MD));
          const R = c.regs;
          const r = F4(c, R[D]!, b);
          if (WRITE) {
            R[D] = r;
            R[D + 1] = 0;
          }
        };
      return (c, x) => {
        const m = c.mem;
        const b = m.read64(addr(c, x, MM, MB, MI, MS, MD));
        const R = c.regs;
        const r = F8(c, R[D]!, R[D + 1]!, b, m.hi);
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
        const a = addr(c, x, MM, MB, MI, MS, MD);
        const m = c.mem;
        const r = F4(c, m.read32(a), FROM_IMM ? IB : c.regs[S]!);
        if (WRITE) m.write32(a, r);
      };
    return (c, x) => {
      const a = addr(c, x, MM, MB, MI, MS, MD);
      const m = c.mem;
      const lo = m.read64(a);
      const hi = m.hi;
      const r = FROM_IMM ? F8(c, lo, hi, IB, IBH) : F8(c, lo, hi, c.regs[S]!, c.regs[S + 1]!);
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
  const MB = 2 * u.mBase;
  const MI = 2 * u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  const LO = u.immLo | 0;
  const HI = u.immHi | 0;
  if (size === 1) {
    if (u.k0 === K.Gpr) {
      if (u.k1 === K.Gpr) return (c) => setB(c, D >> 1, H0, getB(c, S >> 1, H1));
      if (u.k1 === K.Imm) return (c) => setB(c, D >> 1, H0, LO);
      if (u.k1 === K.Mem) return (c, x) => setB(c, D >> 1, H0, c.mem.read8(addr(c, x, MM, MB, MI, MS, MD)));
    } else if (u.k0 === K.Mem) {
      if (u.k1 === K.Gpr) return (c, x) => c.mem.write8(addr(c, x, MM, MB, MI, MS, MD), getB(c, S >> 1, H1));
      if (u.k1 === K.Imm) return (c, x) => c.mem.write8(addr(c, x, MM, MB, MI, MS, MD), LO);
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
          const lo = m.read64(addr(c, x, MM, MB, MI, MS, MD));
          const R = c.regs;
          R[D] = lo;
          R[D + 1] = m.hi;
        };
      return (c, x) => {
        const v = c.mem.read32(addr(c, x, MM, MB, MI, MS, MD));
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
          c.mem.write64(addr(c, x, MM, MB, MI, MS, MD), R[S]!, R[S + 1]!);
        };
      return (c, x) => c.mem.write32(addr(c, x, MM, MB, MI, MS, MD), c.regs[S]!);
    }
    if (u.k1 === K.Imm) {
      if (size === 8) return (c, x) => c.mem.write64(addr(c, x, MM, MB, MI, MS, MD), LO, HI);
      return (c, x) => c.mem.write32(addr(c, x, MM, MB, MI, MS, MD), LO);
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
  if ((u.k1 !== K.Gpr && u.k1 !== K.Mem) || (!signed && from === 4)) return undefined;
  const SIGNED = signed;
  const WIDE = size === 8;
  const FROM = from;
  const SH = 32 - 8 * from;
  const D = 2 * u.r0;
  const S = 2 * u.r1;
  const H1 = u.h1;
  const MM = memMode(u);
  const MB = 2 * u.mBase;
  const MI = 2 * u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  if (u.k1 === K.Gpr) {
    if (!SIGNED) {
      if (FROM === 1)
        return (c) => {
          const R = c.regs;
          R[D] = getB(c, S >> 1, H1);
          R[D + 1] = 0;
        };
      return (c) => {
        const R = c.regs;
        R[D] = R[S]! & 0xffff;
        R[D + 1] = 0;
      };
    }
    const src = FROM === 1 ? (c: Cpu) => getB(c, S >> 1, H1) : (c: Cpu) => c.regs[S]!;
    return (c) => {
      const R = c.regs;
      const v = (src(c) << SH) >> SH;
      R[D] = v;
      R[D + 1] = WIDE ? v >> 31 : 0;
    };
  }
  if (!SIGNED) {
    if (FROM === 1)
      return (c, x) => {
        const v = c.mem.read8(addr(c, x, MM, MB, MI, MS, MD));
        const R = c.regs;
        R[D] = v;
        R[D + 1] = 0;
      };
    return (c, x) => {
      const v = c.mem.read16(addr(c, x, MM, MB, MI, MS, MD));
      const R = c.regs;
      R[D] = v;
      R[D + 1] = 0;
    };
  }
  const rd =
    FROM === 1
      ? (m: Memory, a: number) => m.read8(a)
      : FROM === 2
        ? (m: Memory, a: number) => m.read16(a)
        : (m: Memory, a: number) => m.read32(a);
  return (c, x) => {
    const v = (rd(c.mem, addr(c, x, MM, MB, MI, MS, MD)) << SH) >> SH;
    const R = c.regs;
    R[D] = v;
    R[D + 1] = WIDE ? v >> 31 : 0;
  };
}

/**
 * LEA into a 32/64-bit register with 64-bit addressing (move.ts `leaExact`), one closure per
 * shape: the low halves summed as a double (exact), the high halves as int32 sums with the carry
 * out of the low sum (`L * 2^-32`, truncated: L is never negative).
 */
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
  const B = 2 * u.mBase;
  const I = 2 * u.mIndex;
  const SC = u.mScale;
  const DL = u.mDisp >>> 0;
  const DH = u.mDisp < 0 ? -1 : 0;
  if (B >= 0 && I >= 0) {
    if (!WIDE)
      return (c) => {
        const R = c.regs;
        R[D] = (DL + (R[B]! >>> 0) + (R[I]! >>> 0) * SC) | 0;
        R[D + 1] = 0;
      };
    return (c) => {
      const R = c.regs;
      const L = DL + (R[B]! >>> 0) + (R[I]! >>> 0) * SC;
      const H = DH + R[B + 1]! + Math.imul(R[I + 1]!, SC) + ((L * INV32) | 0);
      R[D] = L | 0;
      R[D + 1] = H | 0;
    };
  }
  if (B >= 0) {
    if (!WIDE)
      return (c) => {
        const R = c.regs;
        R[D] = (DL + (R[B]! >>> 0)) | 0;
        R[D + 1] = 0;
      };
    return (c) => {
      const R = c.regs;
      const L = DL + (R[B]! >>> 0);
      R[D] = L | 0;
      R[D + 1] = (DH + R[B + 1]! + (L >= TWO32 ? 1 : 0)) | 0;
    };
  }
  if (I >= 0) {
    if (!WIDE)
      return (c) => {
        const R = c.regs;
        R[D] = (DL + (R[I]! >>> 0) * SC) | 0;
        R[D + 1] = 0;
      };
    return (c) => {
      const R = c.regs;
      const L = DL + (R[I]! >>> 0) * SC;
      R[D] = L | 0;
      R[D + 1] = (DH + Math.imul(R[I + 1]!, SC) + ((L * INV32) | 0)) | 0;
    };
  }
  const lo = DL | 0;
  const hi = WIDE ? DH : 0;
  return (c) => {
    const R = c.regs;
    R[D] = lo;
    R[D + 1] = hi;
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
  const MB = 2 * u.mBase;
  const MI = 2 * u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  return (c, x) => {
    const R = c.regs;
    const src = FROM_MEM ? c.mem.read32(addr(c, x, MM, MB, MI, MS, MD)) : R[S]!;
    const a = THREE ? src : R[D]!;
    const b = THREE ? IB : src;
    const p = a * b; // |p| < 2^62: the range test is exact even where p is rounded
    const lo = Math.imul(a, b);
    resFlags(c, 4, lo, 0, p < -2147483648 || p > 2147483647 ? FL.CF | FL.OF : 0);
    R[D] = lo;
    R[D + 1] = 0;
  };
}

/** SHL/SHR/SAR of a 32/64-bit register by an immediate (or 1): one closure per count range. */
function shiftImm(kind: "shl" | "shr" | "sar", u: Uop): Handler | undefined {
  if (u.k0 !== K.Gpr || u.h0 !== 0 || (u.s0 !== 4 && u.s0 !== 8) || (u.k1 !== K.Imm && u.k1 !== K.One))
    return undefined;
  const size = u.s0;
  const N = (u.k1 === K.One ? 1 : u.immLo) & (size === 8 ? 63 : 31);
  const D = 2 * u.r0;
  if (N === 0) {
    if (size === 8) return () => {};
    return (c) => {
      c.regs[D + 1] = 0;
    };
  }
  const CF = FL.CF;
  const OF = FL.OF;
  if (size === 4) {
    switch (kind) {
      case "shl":
        return (c) => {
          const R = c.regs;
          const v = R[D]!;
          const r = v << N;
          const cf = (v >>> (32 - N)) & 1;
          R[D] = r;
          R[D + 1] = 0;
          resFlags(c, 4, r, 0, (cf ? CF : 0) | ((r >>> 31) ^ cf ? OF : 0));
        };
      case "shr":
        return (c) => {
          const R = c.regs;
          const v = R[D]!;
          const r = (v >>> N) | 0;
          R[D] = r;
          R[D + 1] = 0;
          resFlags(c, 4, r, 0, ((v >>> (N - 1)) & 1 ? CF : 0) | (v < 0 ? OF : 0));
        };
      default:
        return (c) => {
          const R = c.regs;
          const v = R[D]!;
          const r = v >> N;
          R[D] = r;
          R[D + 1] = 0;
          resFlags(c, 4, r, 0, (v >> (N - 1)) & 1 ? CF : 0);
        };
    }
  }
  if (kind === "shl") {
    if (N < 32)
      return (c) => {
        const R = c.regs;
        const lo = R[D]!;
        const hi = R[D + 1]!;
        const rh = (hi << N) | (lo >>> (32 - N));
        const rl = lo << N;
        const cf = (hi >>> (32 - N)) & 1;
        R[D] = rl;
        R[D + 1] = rh;
        resFlags(c, 8, rl, rh, (cf ? CF : 0) | ((rh >>> 31) ^ cf ? OF : 0));
      };
    return (c) => {
      const R = c.regs;
      const lo = R[D]!;
      const rh = N === 32 ? lo : lo << (N - 32);
      const cf = N === 32 ? R[D + 1]! & 1 : (lo >>> (64 - N)) & 1;
      R[D] = 0;
      R[D + 1] = rh;
      resFlags(c, 8, 0, rh, (cf ? CF : 0) | ((rh >>> 31) ^ cf ? OF : 0));
    };
  }
  if (kind === "shr") {
    if (N < 32)
      return (c) => {
        const R = c.regs;
        const lo = R[D]!;
        const hi = R[D + 1]!;
        const rl = (lo >>> N) | (hi << (32 - N));
        const rh = (hi >>> N) | 0;
        R[D] = rl;
        R[D + 1] = rh;
        resFlags(c, 8, rl, rh, ((lo >>> (N - 1)) & 1 ? CF : 0) | (hi < 0 ? OF : 0));
      };
    return (c) => {
      const R = c.regs;
      const hi = R[D + 1]!;
      const lo = R[D]!;
      const rl = N === 32 ? hi : (hi >>> (N - 32)) | 0;
      const cf = N === 32 ? (lo >>> 31) & 1 : (hi >>> (N - 33)) & 1;
      R[D] = rl;
      R[D + 1] = 0;
      resFlags(c, 8, rl, 0, (cf ? CF : 0) | (hi < 0 ? OF : 0));
    };
  }
  if (N < 32)
    return (c) => {
      const R = c.regs;
      const lo = R[D]!;
      const hi = R[D + 1]!;
      const rl = (lo >>> N) | (hi << (32 - N));
      const rh = hi >> N;
      R[D] = rl;
      R[D + 1] = rh;
      resFlags(c, 8, rl, rh, (lo >>> (N - 1)) & 1 ? CF : 0);
    };
  return (c) => {
    const R = c.regs;
    const hi = R[D + 1]!;
    const lo = R[D]!;
    const rl = N === 32 ? hi : hi >> (N - 32);
    const cf = N === 32 ? (lo >>> 31) & 1 : (hi >> (N - 33)) & 1;
    R[D] = rl;
    R[D + 1] = hi >> 31;
    resFlags(c, 8, rl, hi >> 31, cf ? CF : 0);
  };
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

// ---- conditions -----------------------------------------------------------------------------------
// One small function per condition pair (cc >> 1; the low bit negates), chosen at specialisation:
// straight from a pending SUB/CMP (comparing the operands; sizes below 8 shifted to the top of an
// int32) or logic result, ZF/SF from any pending result, `Cpu.cond` otherwise.

type Cond = (c: Cpu) => boolean;

/** ZF: every lazy kind records its result. */
function condZ(c: Cpu): boolean {
  const op = c.lfOp;
  if (op === LF.None) return (c.flags & FL.ZF) !== 0;
  const s = c.lfSize;
  return s === 8 ? c.lfR === 0 && c.lfRh === 0 : c.lfR << (32 - 8 * s) === 0;
}
function condS(c: Cpu): boolean {
  const op = c.lfOp;
  if (op === LF.None) return (c.flags & FL.SF) !== 0;
  const s = c.lfSize;
  return s === 8 ? c.lfRh < 0 : c.lfR << (32 - 8 * s) < 0;
}
function condB(c: Cpu): boolean {
  if (c.lfOp !== LF.Sub) return c.cf() !== 0;
  const s = c.lfSize;
  if (s === 8) return c.lfAh !== c.lfBh ? c.lfAh >>> 0 < c.lfBh >>> 0 : c.lfA >>> 0 < c.lfB >>> 0;
  const sh = 32 - 8 * s;
  return (c.lfA << sh) >>> 0 < (c.lfB << sh) >>> 0;
}
function condBE(c: Cpu): boolean {
  if (c.lfOp !== LF.Sub) return c.cond(6);
  const s = c.lfSize;
  if (s === 8) return c.lfAh !== c.lfBh ? c.lfAh >>> 0 < c.lfBh >>> 0 : c.lfA >>> 0 <= c.lfB >>> 0;
  const sh = 32 - 8 * s;
  return (c.lfA << sh) >>> 0 <= (c.lfB << sh) >>> 0;
}
function condL(c: Cpu): boolean {
  if (c.lfOp !== LF.Sub) return c.cond(12);
  const s = c.lfSize;
  if (s === 8) return c.lfAh !== c.lfBh ? c.lfAh < c.lfBh : c.lfA >>> 0 < c.lfB >>> 0;
  const sh = 32 - 8 * s;
  return c.lfA << sh < c.lfB << sh;
}
function condLE(c: Cpu): boolean {
  if (c.lfOp !== LF.Sub) return c.cond(14);
  const s = c.lfSize;
  if (s === 8) return c.lfAh !== c.lfBh ? c.lfAh < c.lfBh : c.lfA >>> 0 <= c.lfB >>> 0;
  const sh = 32 - 8 * s;
  return c.lfA << sh <= c.lfB << sh;
}
const condO: Cond = (c) => c.cond(0);
const condP: Cond = (c) => c.cond(10);
const CONDS: Cond[] = [condO, condB, condZ, condBE, condS, condP, condL, condLE];

function jccHandler(cc: number, u: Uop): Handler {
  const F = CONDS[cc >> 1]!;
  const WANT = (cc & 1) === 0;
  const T = u.target;
  return (c) => {
    if (F(c) === WANT) {
      c.rip = T;
      c.ticks += c.takenTicks;
    }
  };
}

function cmovHandler(cc: number, u: Uop): Handler | undefined {
  const size = u.s0;
  if ((size !== 4 && size !== 8) || u.k0 !== K.Gpr || u.s1 !== size) return undefined;
  if (u.k1 !== K.Gpr && u.k1 !== K.Mem) return undefined;
  const F = CONDS[cc >> 1]!;
  const WANT = (cc & 1) === 0;
  const WIDE = size === 8;
  const D = 2 * u.r0;
  const S = 2 * u.r1;
  const MM = memMode(u);
  const MB = 2 * u.mBase;
  const MI = 2 * u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  if (u.k1 === K.Gpr)
    return (c) => {
      const R = c.regs;
      if (F(c) === WANT) {
        R[D] = R[S]!;
        R[D + 1] = WIDE ? R[S + 1]! : 0;
      } else if (!WIDE) R[D + 1] = 0;
    };
  return (c, x) => {
    // The source is read (and may fault) even when the condition is false.
    const m = c.mem;
    const a = addr(c, x, MM, MB, MI, MS, MD);
    const lo = WIDE ? m.read64(a) : m.read32(a);
    const hi = WIDE ? m.hi : 0;
    const R = c.regs;
    if (F(c) === WANT) {
      R[D] = lo;
      R[D + 1] = hi;
    } else if (!WIDE) R[D + 1] = 0;
  };
}

function setccHandler(cc: number, u: Uop): Handler | undefined {
  const F = CONDS[cc >> 1]!;
  const WANT = (cc & 1) === 0;
  const D = u.r0;
  const H0 = u.h0;
  if (u.k0 === K.Gpr) return (c) => setB(c, D, H0, F(c) === WANT ? 1 : 0);
  if (u.k0 !== K.Mem) return undefined;
  const MM = memMode(u);
  const MB = 2 * u.mBase;
  const MI = 2 * u.mIndex;
  const MS = u.mScale;
  const MD = u.mDisp;
  return (c, x) => c.mem.write8(addr(c, x, MM, MB, MI, MS, MD), F(c) === WANT ? 1 : 0);
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
const CCS = CONDITION_CODES;
const JCC: Record<string, number> = {};
const CMOV: Record<string, number> = {};
const SETCC: Record<string, number> = {};
CCS.forEach((cc, i) => {
  JCC[`j${cc}`] = i;
  CMOV[`cmov${cc}`] = i;
  SETCC[`set${cc}`] = i;
});
/** MOVZX/MOVSX/MOVSXD mnemonics: true when the value is sign-extended. */
export const EXTEND: Readonly<Record<string, boolean>> = {
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

/** Form name → mnemonic, memoized (a sliced string is a slow property key on every decode). */
const MNEMONIC = new Map<string, string>();

/** The mnemonic of a form name (`add_Ev_Gv` → `add`). */
export function mnemonic(name: string): string {
  let mn = MNEMONIC.get(name);
  if (mn === undefined) {
    const us = name.indexOf("_");
    mn = us < 0 ? name : name.slice(0, us);
    MNEMONIC.set(name, mn);
  }
  return mn;
}

/** A specialised handler for `u` (form `name`), or undefined to keep the generic one. */
export function specialize(u: Uop, name: string): Handler | undefined {
  if (u.lock) return undefined;
  const mn = mnemonic(name);
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
