/**
 * Modeled cycles (../shared/design/COST-MODEL.md). A profile is data: cycles per instruction
 * class and per privileged event. The classifier maps a decoded instruction to a class once,
 * when it enters the decoded-instruction cache; dynamic parts (a taken branch) are added by the
 * handler. Every figure a report prints names the profile it used.
 * @module
 */
import { K, type Uop } from "./uop.ts";

/** A cost profile: cycles per class and per event. */
export interface CostProfile {
  name: string;
  /** Per-instruction classes (reciprocal throughput, cycles). */
  insn: {
    nop: number;
    alu: number;
    movRegImm: number;
    load: number;
    store: number;
    branchNotTaken: number;
    branchTaken: number;
    call: number;
    ret: number;
    mul: number;
    div32: number;
    div64: number;
    lockedRmw: number;
    serializing: number;
    sse: number;
    sseDivSqrt: number;
    x87: number;
    syscall: number;
  };
  /** Privileged events (cycles). */
  events: {
    int3RoundTrip: number;
    singleStepRoundTrip: number;
    hostCall: number;
    probeHandler: number;
    traceEvent: number;
    ipi: number;
    syncCore: number;
  };
}

/**
 * The `default` profile. Figures from COST-MODEL.md; where it gives a range the choice is
 * noted: ALU 0.33 (0.25 for MOV reg/imm and LEA), divide 20 for 8-32-bit and 40 for 64-bit
 * operands, SSE arithmetic 0.5 (1 for divide/square root). SYSCALL entry+exit is not in the
 * model; 100 cycles is our figure for a fast syscall round trip (not a published number).
 */
export const DEFAULT_PROFILE: CostProfile = {
  name: "default",
  insn: {
    nop: 0.25,
    alu: 0.33,
    movRegImm: 0.25,
    load: 0.5,
    store: 1,
    branchNotTaken: 0.5,
    branchTaken: 1,
    call: 1,
    ret: 1,
    mul: 1,
    div32: 20,
    div64: 40,
    lockedRmw: 18,
    serializing: 150,
    sse: 0.5,
    sseDivSqrt: 1,
    x87: 1,
    syscall: 100,
  },
  events: {
    int3RoundTrip: 1000,
    singleStepRoundTrip: 1000,
    hostCall: 20,
    probeHandler: 50,
    traceEvent: 40,
    ipi: 1500,
    syncCore: 150,
  },
};

/**
 * Modeled time is counted in ticks, hundredths of a cycle, as an integer: every sum of costs is
 * then exact, in any order, so fast mode adds a block's costs at once and still matches the
 * interpreter's per-instruction sum to the bit (a float sum of 0.33s depends on its order). A
 * profile's figures are rounded to the nearest tick.
 */
export const TICKS_PER_CYCLE = 100;

/** `cycles` in ticks (rounded to the nearest). */
export function toTicks(cycles: number): number {
  return Math.round(cycles * TICKS_PER_CYCLE);
}

/** Extra ticks of a taken conditional branch under profile `p` (`Cpu.takenTicks`). */
export function takenTicks(p: CostProfile): number {
  return toTicks(p.insn.branchTaken) - toTicks(p.insn.branchNotTaken);
}

const NOPS = /^(nop|endbr|pause|prefetch|fwait$|lfence|sfence|mfence)/;
const SERIALIZING = /^(cpuid|iret|serialize|wrmsr|lgdt|lidt|lldt|ltr|invd|wbinvd|invlpg|rsm|mov_C)/;

/**
 * Modeled cycles of `u` (static part). Conditional branches are charged as not taken here; the
 * handler adds `branchTaken - branchNotTaken` when the branch is taken.
 */
export function classify(u: Uop, name: string, p: CostProfile): number {
  const c = p.insn;
  const mn = name.split("_")[0] ?? name;
  if (NOPS.test(mn)) return c.nop;
  if (SERIALIZING.test(name)) return c.serializing;
  if (mn === "syscall") return c.syscall;
  if (u.lock || (mn === "xchg" && (u.k0 === K.Mem || u.k1 === K.Mem))) return c.lockedRmw;
  if (/^i?div/.test(mn)) return u.osize === 8 ? c.div64 : c.div32;
  if (/^(i?mul|mulx)/.test(mn)) return c.mul;
  if (mn === "call") return c.call;
  if (mn === "ret" || mn === "retw") return c.ret;
  if (/^j/.test(mn) && mn !== "jmp") return c.branchNotTaken;
  if (/^(jmp|loop|jrcxz|jecxz)/.test(mn)) return c.branchTaken;
  if (/^f/.test(mn)) return c.x87;
  if (mn === "push" || mn === "pushw" || mn === "pushf" || mn === "pushfw") return c.store;
  if (mn === "pop" || mn === "popf" || mn === "popfw" || mn === "leave") return c.load;
  if (u.k0 === K.Xmm || u.k1 === K.Xmm) return /sqrt|div/.test(mn) ? c.sseDivSqrt : c.sse;
  if (u.k0 === K.Mem) return c.store;
  if (u.k1 === K.Mem || u.k2 === K.Mem) return c.load;
  if (/^(mov|lea)/.test(mn)) return c.movRegImm;
  return c.alu;
}
