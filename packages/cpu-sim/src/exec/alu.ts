/**
 * Integer ALU instructions: ADD ADC SUB SBB AND OR XOR CMP TEST INC DEC NEG NOT, with flags
 * recorded lazily (cpu.ts). Values are int32 halves; sizes 1/2/4 use the low half only.
 * @module
 */
import { type Cpu, LF, maskOf } from "../cpu.ts";
import { readOp, writeOp } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

/** Truncate/sign-normalise a low half to `size` bytes (returns int32 for size 4, masked value otherwise). */
function trunc(v: number, size: number): number {
  return size >= 4 ? v | 0 : v & maskOf(size);
}

/** Sign-extend an immediate already sign-extended by the decoder: nothing to do except for size 8. */
function binary(op: "add" | "adc" | "sub" | "sbb" | "and" | "or" | "xor" | "cmp" | "test"): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const a = readOp(c, u, 0);
    const ah = c.hi;
    let b = readOp(c, u, 1);
    let bh = c.hi;
    if (u.k1 === 3 /* K.Imm */ && size === 8) {
      bh = u.immHi;
    } else if (u.s1 < size && u.k1 === 3) {
      // imm8 sign-extended to the operand size by the decoder already
      bh = b < 0 ? -1 : 0;
    }
    if (size < 8) {
      b = trunc(b, size);
      bh = 0;
    }
    let r: number;
    let rh = 0;
    switch (op) {
      case "add":
      case "adc": {
        const cin = op === "adc" ? c.cf() : 0;
        if (size === 8) {
          const s = (a >>> 0) + (b >>> 0) + cin;
          r = s | 0;
          rh = (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0;
        } else r = trunc(a + b + cin, size);
        c.lfC = cin;
        c.setLazy(op === "adc" ? LF.Adc : LF.Add, size, a, ah, b, bh, r, rh);
        writeOp(c, u, 0, r, rh);
        return;
      }
      case "sub":
      case "sbb":
      case "cmp": {
        const cin = op === "sbb" ? c.cf() : 0;
        if (size === 8) {
          const d = (a >>> 0) - (b >>> 0) - cin;
          r = d | 0;
          rh = (ah - bh - (d < 0 ? 1 : 0)) | 0;
        } else r = trunc(a - b - cin, size);
        c.lfC = cin;
        c.setLazy(op === "sbb" ? LF.Sbb : LF.Sub, size, a, ah, b, bh, r, rh);
        if (op !== "cmp") writeOp(c, u, 0, r, rh);
        return;
      }
      default: {
        if (op === "and" || op === "test") {
          r = a & b;
          rh = ah & bh;
        } else if (op === "or") {
          r = a | b;
          rh = ah | bh;
        } else {
          r = a ^ b;
          rh = ah ^ bh;
        }
        if (size < 8) {
          r = trunc(r, size);
          rh = 0;
        }
        c.setLazy(LF.Logic, size, a, ah, b, bh, r, rh);
        if (op !== "test") writeOp(c, u, 0, r, rh);
      }
    }
  };
}

function unary(op: "inc" | "dec" | "neg" | "not"): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const a = readOp(c, u, 0);
    const ah = size === 8 ? c.hi : 0;
    let r: number;
    let rh = 0;
    if (op === "not") {
      r = trunc(~a, size);
      rh = size === 8 ? ~ah : 0;
      writeOp(c, u, 0, r, rh);
      return; // NOT leaves flags alone
    }
    if (op === "inc" || op === "dec") {
      const cf = c.cf();
      const d = op === "inc" ? 1 : -1;
      if (size === 8) {
        const s = (a >>> 0) + d;
        r = s | 0;
        rh = (ah + (s > 0xffffffff ? 1 : s < 0 ? -1 : 0)) | 0;
      } else r = trunc(a + d, size);
      c.lfC = cf;
      c.setLazy(op === "inc" ? LF.Inc : LF.Dec, size, a, ah, 1, 0, r, rh);
    } else {
      // NEG: 0 - a
      if (size === 8) {
        r = -a | 0;
        rh = (~ah + (a === 0 ? 1 : 0)) | 0;
      } else r = trunc(-a, size);
      c.setLazy(LF.Neg, size, a, ah, 0, 0, r, rh);
    }
    writeOp(c, u, 0, r, rh);
  };
}

const ops = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"] as const;

/** Handlers by form name. */
export const ALU: Record<string, Handler> = {};
for (const op of ops) {
  for (const form of ["Eb_Gb", "Ev_Gv", "Gb_Eb", "Gv_Ev", "AL_Ib", "rAX_Iz", "Eb_Ib", "Ev_Iz", "Ev_Ibs"])
    ALU[`${op}_${form}`] = binary(op);
}
for (const form of ["Eb_Gb", "Ev_Gv", "AL_Ib", "rAX_Iz", "Eb_Ib", "Ev_Iz"])
  ALU[`test_${form}`] = binary("test");
for (const op of ["inc", "dec", "neg", "not"] as const) {
  ALU[`${op}_Eb`] = unary(op);
  ALU[`${op}_Ev`] = unary(op);
}
ALU.inc_Zv = unary("inc");
ALU.dec_Zv = unary("dec");
