/**
 * Control transfer: JMP, Jcc, CALL, RET, LOOP/JRCXZ, indirect JMP/CALL.
 * @module
 */
import { CONDITION_CODES, type Cpu } from "../cpu.ts";
import { pop64, push64, readOp, toNum } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

const jmp: Handler = (c, u) => {
  c.rip = u.target;
};

const jmpInd: Handler = (c, u) => {
  const lo = readOp(c, u, 0);
  c.rip = u.s0 === 8 ? toNum(lo, c.hi) : lo >>> 0;
};

const call: Handler = (c, u) => {
  push64(c, u.next | 0, Math.floor(u.next / 4294967296) | 0);
  c.rip = u.target;
};

const callInd: Handler = (c, u) => {
  const lo = readOp(c, u, 0);
  const t = u.s0 === 8 ? toNum(lo, c.hi) : lo >>> 0;
  push64(c, u.next | 0, Math.floor(u.next / 4294967296) | 0);
  c.rip = t;
};

const ret: Handler = (c: Cpu, u: Uop) => {
  const lo = pop64(c);
  c.rip = toNum(lo, c.hi);
  if (u.k0 === 3 /* K.Imm: RET imm16 */) c.setReg64(4, c.reg64(4) + (u.immLo & 0xffff));
};

function jcc(cc: number): Handler {
  return (c, u) => {
    if (c.cond(cc)) {
      c.rip = u.target;
      c.ticks += c.takenTicks;
    }
  };
}

/** RCX (or ECX with 32-bit addressing) as the LOOP counter. */
function loop(kind: "loop" | "loope" | "loopne"): Handler {
  return (c, u) => {
    const r = c.regs;
    let zero: boolean;
    if (u.asize === 4) {
      r[2] = (r[2]! - 1) | 0;
      r[3] = 0;
      zero = r[2] === 0;
    } else {
      const lo = r[2]!;
      r[2] = (lo - 1) | 0;
      if (lo === 0) r[3] = (r[3]! - 1) | 0;
      zero = r[2] === 0 && r[3] === 0;
    }
    let take = !zero;
    if (kind === "loope") take = take && c.cond(4);
    else if (kind === "loopne") take = take && c.cond(5);
    if (take) c.rip = u.target;
  };
}

const jrcxz: Handler = (c, u) => {
  const r = c.regs;
  const zero = u.asize === 4 ? r[2] === 0 : r[2] === 0 && r[3] === 0;
  if (zero) c.rip = u.target;
};

const CC = CONDITION_CODES;

/** Handlers by form name. */
export const BRANCH: Record<string, Handler> = {
  jmp_Jb: jmp,
  jmp_Jz: jmp,
  jmp_Ev: jmpInd,
  call_Jz: call,
  call_Ev: callInd,
  ret: ret,
  ret_Iw: ret,
  loop_Jb: loop("loop"),
  loope_Jb: loop("loope"),
  loopne_Jb: loop("loopne"),
  jrcxz_Jb: jrcxz,
  jecxz_Jb: jrcxz,
};
CC.forEach((cc, i) => {
  BRANCH[`j${cc}_Jb`] = jcc(i);
  BRANCH[`j${cc}_Jz`] = jcc(i);
});
