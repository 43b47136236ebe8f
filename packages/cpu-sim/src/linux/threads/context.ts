/**
 * Saving and restoring a thread's register context on a context switch. The context is kept
 * in a detached {@link Cpu} object (so it has exactly the CPU's fields and types): the GPRs,
 * RIP, RFLAGS (pending lazy flags are materialized first), FS/GS base, XMM0-15, MXCSR, and the
 * x87 state — every own field of the CPU whose name starts with `fpu` or `x87` (numbers,
 * booleans, typed arrays and plain arrays are copied), so x87 storage added to `Cpu` later is
 * switched without changes here.
 * @module
 */
import { Cpu } from "../../cpu.ts";
import type { Memory } from "../../memory.ts";

let fpuKeys: string[] | undefined;

/** The x87 fields of a CPU (computed once from the first CPU seen). */
function x87Keys(c: Cpu): string[] {
  if (!fpuKeys) fpuKeys = Object.keys(c).filter((k) => /^(fpu|x87)/.test(k));
  return fpuKeys;
}

/** A fresh detached context (a CPU object that never runs). */
export function newContext(mem: Memory): Cpu {
  return new Cpu(-1, mem);
}

/** Copy the architectural state of `from` into `to` (both CPUs or contexts). */
export function copyContext(from: Cpu, to: Cpu): void {
  from.materialize();
  to.regs.set(from.regs);
  to.rip = from.rip;
  to.setFlags(from.flags);
  to.fsBase = from.fsBase;
  to.gsBase = from.gsBase;
  to.xmm.set(from.xmm);
  to.mxcsr = from.mxcsr;
  const f = from as unknown as Record<string, unknown>;
  const t = to as unknown as Record<string, unknown>;
  for (const k of x87Keys(from)) {
    const v = f[k];
    if (ArrayBuffer.isView(v)) (t[k] as { set(a: unknown): void }).set(v);
    else if (Array.isArray(v)) t[k] = v.map((x) => (typeof x === "object" && x !== null ? { ...x } : x));
    else t[k] = v;
  }
}
