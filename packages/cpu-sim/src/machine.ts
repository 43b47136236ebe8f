/**
 * The machine: memory, N vCPUs, the decoded-instruction cache and the cost profile. The
 * operating-system layer (linux/) drives it: it loads a program, creates threads and schedules
 * them on the vCPUs with {@link runCpu}.
 * @module
 */
import { CodeCache, type CodeCache as CodeCacheT } from "./cache.ts";
import { type CostProfile, classify, DEFAULT_PROFILE } from "./cost.ts";
import { Cpu, type CpuHost } from "./cpu.ts";
import { cpuid } from "./cpuid.ts";
import { HANDLERS } from "./exec/index.ts";
import { Memory } from "./memory.ts";

/** Options of a {@link Machine}. */
export interface MachineOptions {
  /** Number of vCPUs (1-64). */
  cpus?: number;
  /** Guest memory limit in bytes (default 4 GiB). */
  memoryLimit?: number;
  /** Cost profile (default {@link DEFAULT_PROFILE}). */
  profile?: CostProfile;
}

/** Memory, vCPUs and the code cache. */
export class Machine {
  readonly mem: Memory;
  readonly cpus: Cpu[];
  readonly cache: CodeCacheT;
  readonly profile: CostProfile;

  constructor(opts: MachineOptions = {}) {
    const n = opts.cpus ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`cpus must be 1-64, not ${n}`);
    this.profile = opts.profile ?? DEFAULT_PROFILE;
    this.mem = new Memory(opts.memoryLimit);
    const profile = this.profile;
    this.cache = new CodeCache(this.mem, {
      handler: (_form, name) => HANDLERS[name],
      cost: (u, name) => classify(u, name, profile),
    });
    this.cpus = [];
    for (let i = 0; i < n; i++) {
      const c = new Cpu(i, this.mem);
      c.takenExtra = profile.insn.branchTaken - profile.insn.branchNotTaken;
      this.cpus.push(c);
    }
  }

  /** Attach the OS layer: syscalls go to `syscall`; CPUID is answered by the machine. */
  attach(syscall: (c: Cpu) => void): void {
    const ncpus = this.cpus.length;
    const host: CpuHost = { syscall, cpuid: (c) => cpuid(c, ncpus) };
    for (const c of this.cpus) c.host = host;
  }
}
