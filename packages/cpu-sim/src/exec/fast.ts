/**
 * Specialised handlers for the hottest instruction forms: when an instruction enters the
 * decoded-instruction cache, its operand kinds and sizes are known, so MOV/ALU/INC/DEC/PUSH/
 * POP between registers, immediates and simple memory operands get a closure that touches the
 * register file directly instead of dispatching on operand kinds at run time. Semantics are
 * exactly those of the generic handlers (alu.ts, move.ts, branch.ts); the conformance harness
 * runs through this path.
 * @module
 */
import { type Cpu, FL, LF } from "../cpu.ts";
import { ea, pop64, push64 } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";

type AluOp = "add" | "sub" | "cmp" | "and" | "or" | "xor" | "test";

/** Record lazy flags for a 4-byte result (operands as int32). */
function flags4(c: Cpu, op: LF, a: number, b: number, r: number): void {
  c.lfOp = op;
  c.lfSize = 4;
  c.lfA = a;
  c.lfB = b;
  c.lfR = r;
  c.lfC = 0;
}

function flags8(c: Cpu, op: LF, a: number, ah: number, b: number, bh: number, r: number, rh: number): void {
  c.lfOp = op;
  c.lfSize = 8;
  c.lfA = a;
  c.lfAh = ah;
  c.lfB = b;
  c.lfBh = bh;
  c.lfR = r;
  c.lfRh = rh;
  c.lfC = 0;
}

/** 32-bit ALU on (a, b) → result; sets flags; returns r. */
function alu4(c: Cpu, op: AluOp, a: number, b: number): number {
  let r: number;
  switch (op) {
    case "add":
      r = (a + b) | 0;
      flags4(c, LF.Add, a, b, r);
      return r;
    case "sub":
    case "cmp":
      r = (a - b) | 0;
      flags4(c, LF.Sub, a, b, r);
      return r;
    case "and":
    case "test":
      r = a & b;
      break;
    case "or":
      r = a | b;
      break;
    default:
      r = a ^ b;
  }
  flags4(c, LF.Logic, a, b, r);
  return r;
}

/** 64-bit ALU on halves; returns the low half, high in c.hi. */
function alu8(c: Cpu, op: AluOp, a: number, ah: number, b: number, bh: number): number {
  let r: number;
  let rh: number;
  switch (op) {
    case "add": {
      const s = (a >>> 0) + (b >>> 0);
      r = s | 0;
      rh = (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0;
      flags8(c, LF.Add, a, ah, b, bh, r, rh);
      break;
    }
    case "sub":
    case "cmp": {
      const d = (a >>> 0) - (b >>> 0);
      r = d | 0;
      rh = (ah - bh - (d < 0 ? 1 : 0)) | 0;
      flags8(c, LF.Sub, a, ah, b, bh, r, rh);
      break;
    }
    case "and":
    case "test":
      r = a & b;
      rh = ah & bh;
      flags8(c, LF.Logic, a, ah, b, bh, r, rh);
      break;
    case "or":
      r = a | b;
      rh = ah | bh;
      flags8(c, LF.Logic, a, ah, b, bh, r, rh);
      break;
    default:
      r = a ^ b;
      rh = ah ^ bh;
      flags8(c, LF.Logic, a, ah, b, bh, r, rh);
  }
  c.hi = rh;
  return r;
}

function aluHandler(op: AluOp, u: Uop): Handler | undefined {
  const size = u.s0;
  if (size !== 4 && size !== 8) return undefined;
  const write = op !== "cmp" && op !== "test";
  const d = 2 * u.r0;
  if (u.k0 === K.Gpr && u.h0 === 0) {
    if (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size) {
      const s = 2 * u.r1;
      if (size === 4)
        return write
          ? (c) => {
              const R = c.regs;
              R[d] = alu4(c, op, R[d]!, R[s]!);
              R[d + 1] = 0;
            }
          : (c) => {
              const R = c.regs;
              alu4(c, op, R[d]!, R[s]!);
            };
      return (c) => {
        const R = c.regs;
        const r = alu8(c, op, R[d]!, R[d + 1]!, R[s]!, R[s + 1]!);
        if (write) {
          R[d] = r;
          R[d + 1] = c.hi;
        }
      };
    }
    if (u.k1 === K.Imm) {
      const ib = u.immLo | 0;
      const ibh = u.immHi | 0;
      if (size === 4)
        return (c) => {
          const R = c.regs;
          const r = alu4(c, op, R[d]!, ib);
          if (write) {
            R[d] = r;
            R[d + 1] = 0;
          }
        };
      return (c) => {
        const R = c.regs;
        const r = alu8(c, op, R[d]!, R[d + 1]!, ib, ibh);
        if (write) {
          R[d] = r;
          R[d + 1] = c.hi;
        }
      };
    }
    if (u.k1 === K.Mem && u.s1 === size) {
      if (size === 4)
        return (c, x) => {
          const R = c.regs;
          const b = c.mem.read32(ea(c, x));
          const r = alu4(c, op, R[d]!, b);
          if (write) {
            R[d] = r;
            R[d + 1] = 0;
          }
        };
      return (c, x) => {
        const R = c.regs;
        const m = c.mem;
        const b = m.read64(ea(c, x));
        const r = alu8(c, op, R[d]!, R[d + 1]!, b, m.hi);
        if (write) {
          R[d] = r;
          R[d + 1] = c.hi;
        }
      };
    }
  }
  if (u.k0 === K.Mem && (u.k1 === K.Imm || (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size))) {
    const fromImm = u.k1 === K.Imm;
    const s = 2 * u.r1;
    const ib = u.immLo | 0;
    const ibh = u.immHi | 0;
    if (size === 4)
      return (c, x) => {
        const a = ea(c, x);
        const m = c.mem;
        const r = alu4(c, op, m.read32(a), fromImm ? ib : c.regs[s]!);
        if (write) m.write32(a, r);
      };
    return (c, x) => {
      const a = ea(c, x);
      const m = c.mem;
      const lo = m.read64(a);
      const r = fromImm ? alu8(c, op, lo, m.hi, ib, ibh) : alu8(c, op, lo, m.hi, c.regs[s]!, c.regs[s + 1]!);
      if (write) m.write64(a, r, c.hi);
    };
  }
  return undefined;
}

function movHandler(u: Uop): Handler | undefined {
  const size = u.s0;
  if (size !== 4 && size !== 8) return undefined;
  const d = 2 * u.r0;
  if (u.k0 === K.Gpr && u.h0 === 0) {
    if (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size) {
      const s = 2 * u.r1;
      if (size === 8)
        return (c) => {
          const R = c.regs;
          R[d] = R[s]!;
          R[d + 1] = R[s + 1]!;
        };
      return (c) => {
        const R = c.regs;
        R[d] = R[s]!;
        R[d + 1] = 0;
      };
    }
    if (u.k1 === K.Imm) {
      const lo = u.immLo | 0;
      const hi = size === 8 ? u.immHi | 0 : 0;
      return (c) => {
        const R = c.regs;
        R[d] = lo;
        R[d + 1] = hi;
      };
    }
    if (u.k1 === K.Mem && u.s1 === size) {
      if (size === 8)
        return (c, x) => {
          const m = c.mem;
          const lo = m.read64(ea(c, x));
          const R = c.regs;
          R[d] = lo;
          R[d + 1] = m.hi;
        };
      return (c, x) => {
        const v = c.mem.read32(ea(c, x));
        const R = c.regs;
        R[d] = v;
        R[d + 1] = 0;
      };
    }
  }
  if (u.k0 === K.Mem) {
    if (u.k1 === K.Gpr && u.h1 === 0 && u.s1 === size) {
      const s = 2 * u.r1;
      if (size === 8) return (c, x) => c.mem.write64(ea(c, x), c.regs[s]!, c.regs[s + 1]!);
      return (c, x) => c.mem.write32(ea(c, x), c.regs[s]!);
    }
    if (u.k1 === K.Imm) {
      const lo = u.immLo | 0;
      const hi = u.immHi | 0;
      if (size === 8) return (c, x) => c.mem.write64(ea(c, x), lo, hi);
      return (c, x) => c.mem.write32(ea(c, x), lo);
    }
  }
  return undefined;
}

function incDecHandler(inc: boolean, u: Uop): Handler | undefined {
  if (u.k0 !== K.Gpr || u.h0 !== 0 || (u.s0 !== 4 && u.s0 !== 8)) return undefined;
  const d = 2 * u.r0;
  const delta = inc ? 1 : -1;
  const op = inc ? LF.Inc : LF.Dec;
  if (u.s0 === 4)
    return (c) => {
      const R = c.regs;
      const cf = c.cf();
      const a = R[d]!;
      const r = (a + delta) | 0;
      R[d] = r;
      R[d + 1] = 0;
      c.lfOp = op;
      c.lfSize = 4;
      c.lfA = a;
      c.lfB = 1;
      c.lfR = r;
      c.lfC = cf;
    };
  return (c) => {
    const R = c.regs;
    const cf = c.cf();
    const a = R[d]!;
    const ah = R[d + 1]!;
    const s = (a >>> 0) + delta;
    const r = s | 0;
    const rh = (ah + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
    R[d] = r;
    R[d + 1] = rh;
    c.lfOp = op;
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

function pushPopHandler(push: boolean, u: Uop): Handler | undefined {
  if (u.k0 !== K.Gpr || u.s0 !== 8 || u.osize !== 8) return undefined;
  const d = 2 * u.r0;
  if (push) return (c) => push64(c, c.regs[d]!, c.regs[d + 1]!);
  return (c) => {
    const lo = pop64(c);
    c.regs[d] = lo;
    c.regs[d + 1] = c.hi;
  };
}

/** Shift flags as shift.ts records them: SF ZF PF from the result, CF/OF explicit (LF.Res). */
function shiftRes(c: Cpu, size: number, r: number, rh: number, cf: number, of: number): void {
  c.lfC = (cf ? FL.CF : 0) | (of ? FL.OF : 0);
  c.lfOp = LF.Res;
  c.lfSize = size;
  c.lfA = 0;
  c.lfAh = 0;
  c.lfB = 0;
  c.lfBh = 0;
  c.lfR = r;
  c.lfRh = rh;
}

/** SHL/SHR/SAR of a 32/64-bit register by an immediate (or 1). */
function shiftImm(kind: "shl" | "shr" | "sar", u: Uop): Handler | undefined {
  if (u.k0 !== K.Gpr || u.h0 !== 0 || (u.s0 !== 4 && u.s0 !== 8) || (u.k1 !== K.Imm && u.k1 !== K.One))
    return undefined;
  const size = u.s0;
  const cnt = (u.k1 === K.One ? 1 : u.immLo) & (size === 8 ? 63 : 31);
  const d = 2 * u.r0;
  if (cnt === 0)
    return (c) => {
      if (size === 4) c.regs[d + 1] = 0;
    };
  if (size === 4) {
    switch (kind) {
      case "shl":
        return (c) => {
          const R = c.regs;
          const v = R[d]! >>> 0;
          const r = (v << cnt) | 0;
          const cf = (v >>> (32 - cnt)) & 1;
          R[d] = r;
          R[d + 1] = 0;
          shiftRes(c, 4, r, 0, cf, (r >>> 31) ^ cf);
        };
      case "shr":
        return (c) => {
          const R = c.regs;
          const v = R[d]! >>> 0;
          const r = (v >>> cnt) | 0;
          R[d] = r;
          R[d + 1] = 0;
          shiftRes(c, 4, r, 0, (v >>> (cnt - 1)) & 1, v >>> 31);
        };
      default:
        return (c) => {
          const R = c.regs;
          const v = R[d]! | 0;
          const r = v >> cnt;
          R[d] = r;
          R[d + 1] = 0;
          shiftRes(c, 4, r, 0, (v >> (cnt - 1)) & 1, 0);
        };
    }
  }
  switch (kind) {
    case "shl":
      return (c) => {
        const R = c.regs;
        const lo = R[d]!;
        const hi = R[d + 1]!;
        let rl: number;
        let rh: number;
        let cf: number;
        if (cnt < 32) {
          rh = (hi << cnt) | (lo >>> (32 - cnt));
          rl = lo << cnt;
          cf = (hi >>> (32 - cnt)) & 1;
        } else if (cnt === 32) {
          rh = lo;
          rl = 0;
          cf = hi & 1;
        } else {
          rh = lo << (cnt - 32);
          rl = 0;
          cf = (lo >>> (64 - cnt)) & 1;
        }
        R[d] = rl;
        R[d + 1] = rh;
        shiftRes(c, 8, rl, rh, cf, (rh >>> 31) ^ cf);
      };
    case "shr":
      return (c) => {
        const R = c.regs;
        const lo = R[d]!;
        const hi = R[d + 1]!;
        let rl: number;
        let rh: number;
        let cf: number;
        if (cnt < 32) {
          rl = (lo >>> cnt) | (hi << (32 - cnt));
          rh = hi >>> cnt;
          cf = (lo >>> (cnt - 1)) & 1;
        } else if (cnt === 32) {
          rl = hi;
          rh = 0;
          cf = (lo >>> 31) & 1;
        } else {
          rl = hi >>> (cnt - 32);
          rh = 0;
          cf = (hi >>> (cnt - 33)) & 1;
        }
        R[d] = rl | 0;
        R[d + 1] = rh | 0;
        shiftRes(c, 8, rl | 0, rh | 0, cf, hi >>> 31);
      };
    default:
      return (c) => {
        const R = c.regs;
        const lo = R[d]!;
        const hi = R[d + 1]!;
        let rl: number;
        let rh: number;
        let cf: number;
        if (cnt < 32) {
          rl = (lo >>> cnt) | (hi << (32 - cnt));
          rh = hi >> cnt;
          cf = (lo >>> (cnt - 1)) & 1;
        } else if (cnt === 32) {
          rl = hi;
          rh = hi >> 31;
          cf = (lo >>> 31) & 1;
        } else {
          rl = hi >> (cnt - 32);
          rh = hi >> 31;
          cf = (hi >> (cnt - 33)) & 1;
        }
        R[d] = rl | 0;
        R[d + 1] = rh;
        shiftRes(c, 8, rl | 0, rh, cf, 0);
      };
  }
}

const ALU_OPS: Record<string, AluOp> = {
  add: "add",
  sub: "sub",
  cmp: "cmp",
  and: "and",
  or: "or",
  xor: "xor",
  test: "test",
};

/** A specialised handler for `u` (form `name`), or undefined to keep the generic one. */
export function specialize(u: Uop, name: string): Handler | undefined {
  if (u.lock) return undefined;
  const mn = name.slice(0, name.indexOf("_") >>> 0);
  const op = ALU_OPS[mn];
  if (op && u.nops === 2) return aluHandler(op, u);
  switch (mn) {
    case "mov":
      return u.nops === 2 ? movHandler(u) : undefined;
    case "inc":
      return incDecHandler(true, u);
    case "dec":
      return incDecHandler(false, u);
    case "push":
      return pushPopHandler(true, u);
    case "pop":
      return pushPopHandler(false, u);
    case "shl":
    case "shr":
    case "sar":
      return u.nops === 2 ? shiftImm(mn, u) : undefined;
    default:
      return undefined;
  }
}
