/**
 * Precise mode for real programs: the same interpreter handlers, but every instruction is
 * fetched through its CPU's fetch unit (snapshot blocks, prefetch queue) and judged against
 * the write log, so that a Linux program's own self- and cross-modifying code is checked like
 * a litmus test. Each call is one scheduling quantum; quantum boundaries are interrupts and
 * flush the fetch queue.
 * @module
 */
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import { Stop } from "../exec/run.ts";
import type { CoreCpu, PreciseCore } from "./core.ts";

/** Run `p` for at most `budget` instructions in precise mode. */
export function runPrecise(core: PreciseCore, p: CoreCpu, budget: number, eager?: () => boolean): Stop {
  const c: Cpu = p.cpu;
  const mem = core.mem;
  // The quantum started with an interrupt return (or the first dispatch): nothing queued survives.
  p.fetch.flush();
  p.prevNext = -1;
  for (let n = 0; n < budget; n++) {
    mem.now++;
    mem.writer = c.id;
    const rip = c.rip;
    // Adversarial fetch timing: sometimes fetch ahead now (eager), else only when needed (lazy).
    if (eager?.()) p.fetch.prefetchOne();
    const branched = core.takeBranched(p);
    let len: number;
    try {
      len = core.fetchDecode(p, branched);
    } catch (e) {
      c.fault = e;
      return Stop.Fault;
    }
    if (len === 0) {
      core.checkBytes(p, rip, Math.min(core.f.n, 15), branched);
      c.fault = new CpuException(Vec.UD, `invalid instruction at 0x${rip.toString(16)}`);
      return Stop.Fault;
    }
    core.checkBytes(p, rip, len, branched);
    const u = core.uopFor(core.insn, len);
    const tf = c.flags & 0x100;
    try {
      core.execute(p, u);
    } catch (e) {
      c.fault = e;
      c.faultUop = u;
      return Stop.Fault;
    }
    if (tf !== 0) {
      c.fault = new CpuException(Vec.DB, "single step");
      c.faultUop = u;
      return Stop.Fault;
    }
    if (c.stopRequested) {
      c.stopRequested = false;
      return Stop.Requested;
    }
  }
  return Stop.Budget;
}
