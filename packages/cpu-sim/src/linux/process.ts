/**
 * A Linux process on the machine: the loaded program, its threads, file descriptors, program
 * break and memory mappings, and the scheduler that runs threads on the vCPUs. Deterministic:
 * the vCPU with the smallest modeled time runs next for one quantum.
 * @module
 */
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import { runCpu, Stop } from "../exec/run.ts";
import type { Machine } from "../machine.ts";
import { GuestFault } from "../memory.ts";
import { type LoadedImage, loadStatic } from "./loader.ts";
import { SYSCALLS, type SyscallContext } from "./syscalls.ts";

/** How the process ended. */
export interface ExitStatus {
  /** Exit code (0-255) when the process exited normally. */
  code: number;
  /** Terminating signal number, 0 when it exited. */
  signal: number;
  /** A human-readable report for a fatal signal or a stop (fault address, RIP, instruction). */
  report?: string;
  /** True when the run stopped at the instruction limit. */
  instructionLimit?: boolean;
}

/** Options for running a program. */
export interface ProcessOptions {
  argv: string[];
  env?: string[];
  /** Seed for everything random (AT_RANDOM, getrandom, scheduling choices). */
  seed?: number;
  /** Stop after this many instructions in total (over all CPUs). */
  maxInstructions?: number;
  /** Instructions per scheduling quantum (default 10,000). */
  quantum?: number;
  /** Where guest stdout/stderr go (default: the host's). */
  stdout?: (data: Uint8Array) => void;
  stderr?: (data: Uint8Array) => void;
  /** Guest stdin (default: empty). */
  stdin?: Uint8Array;
}

/** A guest thread: its register context while it is not on a CPU. */
export class Thread {
  readonly tid: number;
  readonly regs: Int32Array = new Int32Array(32);
  rip = 0;
  flags = 0x202;
  fsBase = 0;
  gsBase = 0;
  readonly xmm: Int32Array = new Int32Array(64);
  mxcsr = 0x1f80;
  /** The CPU it runs on, or -1. */
  cpu = -1;
  /** Exited. */
  done = false;
  /** clear_child_tid address (set_tid_address / CLONE_CHILD_CLEARTID), 0 for none. */
  clearTid = 0;
  constructor(tid: number) {
    this.tid = tid;
  }
}

/** SplitMix64-like seeded generator (32-bit output) for determinism. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

/** A running Linux program. */
export class LinuxProcess implements SyscallContext {
  readonly machine: Machine;
  readonly opts: ProcessOptions;
  readonly rng: Rng;
  image!: LoadedImage;
  brk = 0;
  brkStart = 0;
  /** Next mmap search hint. */
  mmapBase = 0x7f0000000000;
  readonly threads: Thread[] = [];
  private nextTid = 1000;
  exit: ExitStatus | undefined;
  /** Unknown syscalls reported once each. */
  readonly reported: Set<number> = new Set<number>();
  readonly pid: number = 1000;
  stdout: (d: Uint8Array) => void;
  stderr: (d: Uint8Array) => void;
  stdinPos = 0;
  /** Signal dispositions set with rt_sigaction (handler address per signal; 0 = default). */
  readonly sigHandlers: Map<number, number> = new Map<number, number>();

  constructor(machine: Machine, program: Uint8Array, opts: ProcessOptions) {
    this.machine = machine;
    this.opts = opts;
    this.rng = new Rng(opts.seed ?? 1);
    this.stdout = opts.stdout ?? ((d) => process.stdout.write(d));
    this.stderr = opts.stderr ?? ((d) => process.stderr.write(d));
    const execfn = opts.argv[0] ?? "program";
    this.image = loadStatic(machine.mem, program, opts.argv, opts.env ?? [], this.rng.bytes(16), execfn);
    this.brk = this.image.brk;
    this.brkStart = this.image.brk;
    const t = new Thread(this.nextTid++);
    t.rip = this.image.entry;
    t.regs[8] = this.image.sp | 0;
    t.regs[9] = Math.floor(this.image.sp / 4294967296);
    this.threads.push(t);
    machine.attach((c) => this.syscall(c));
  }

  /** Thread currently on `c`. */
  threadOn(c: Cpu): Thread | undefined {
    return this.threads.find((t) => t.cpu === c.id && !t.done);
  }

  private load(c: Cpu, t: Thread): void {
    c.regs.set(t.regs);
    c.rip = t.rip;
    c.setFlags(t.flags);
    c.fsBase = t.fsBase;
    c.gsBase = t.gsBase;
    c.xmm.set(t.xmm);
    c.mxcsr = t.mxcsr;
    t.cpu = c.id;
  }

  private save(c: Cpu, t: Thread): void {
    t.regs.set(c.regs);
    t.rip = c.rip;
    t.flags = c.getFlags();
    t.fsBase = c.fsBase;
    t.gsBase = c.gsBase;
    t.xmm.set(c.xmm);
    t.mxcsr = c.mxcsr;
    t.cpu = -1;
  }

  /** Run until the process exits (or the instruction limit). */
  run(): ExitStatus {
    const cpus = this.machine.cpus;
    const quantum = this.opts.quantum ?? 10_000;
    const limit = this.opts.maxInstructions ?? Number.POSITIVE_INFINITY;
    let total = 0;
    while (!this.exit) {
      // Pick the runnable thread for the CPU with the least modeled time (single-threaded core;
      // the threads layer extends this).
      const t = this.threads.find((x) => !x.done);
      if (!t) {
        this.exit = { code: 0, signal: 0 };
        break;
      }
      let c = cpus[0]!;
      for (const x of cpus) if (x.cycles < c.cycles) c = x;
      this.load(c, t);
      const before = c.instructions;
      const budget = Math.min(quantum, limit - total);
      const why = runCpu(c, this.machine.cache, budget);
      total += c.instructions - before;
      if (why === Stop.Fault) this.fault(c, t);
      if (!t.done) this.save(c, t);
      if (!this.exit && total >= limit) {
        this.exit = {
          code: 0,
          signal: 0,
          instructionLimit: true,
          report: `stopped after ${total} instructions (--max-insns)`,
        };
      }
    }
    return this.exit!;
  }

  /** A CPU exception or fault on thread `t`: deliver as a signal (default action: terminate). */
  private fault(c: Cpu, t: Thread): void {
    const e = c.fault;
    let signal = 11;
    let what = "";
    if (e instanceof GuestFault) {
      signal = 11;
      what = `SIGSEGV: ${e.access} of ${e.protection ? "protected" : "unmapped"} address 0x${e.address.toString(16)}`;
    } else if (e instanceof CpuException) {
      switch (e.vector) {
        case Vec.DE:
          signal = 8;
          what = `SIGFPE: divide error (${e.message})`;
          break;
        case Vec.UD:
          signal = 4;
          what = `SIGILL: ${e.message}`;
          break;
        case Vec.BP:
          signal = 5;
          what = "SIGTRAP: int3";
          break;
        case Vec.XM:
        case Vec.MF:
          signal = 8;
          what = `SIGFPE: ${e.message}`;
          break;
        default:
          signal = 11;
          what = `SIGSEGV: general protection (${e.message})`;
      }
    } else {
      // A host-side bug: report it as such, never as an uncaught exception.
      signal = 6;
      what = `internal error in the simulator: ${(e as Error)?.stack ?? String(e)}`;
    }
    let insn = "";
    try {
      const u = this.machine.cache.lookup(c.rip);
      insn = ` executing ${Buffer.from(u.bytes).toString("hex").replace(/(..)/g, "$1 ").trim()} (${u.text})`;
    } catch {
      insn = " (instruction bytes unreadable)";
    }
    t.done = true;
    this.exit = {
      code: 0,
      signal,
      report: `xmc: guest killed by ${what} at rip 0x${c.rip.toString(16)} on cpu ${c.id}${insn}`,
    };
  }

  /** SYSCALL: dispatch by number in RAX, result in RAX. */
  syscall(c: Cpu): void {
    const nr = c.regs[0]!;
    const fn = SYSCALLS[nr];
    let res: number;
    if (fn) {
      try {
        res = fn(this, c);
      } catch (e) {
        if (e instanceof GuestFault)
          res = -14; // EFAULT: a bad guest pointer passed to the kernel
        else throw e;
      }
    } else {
      if (!this.reported.has(nr)) {
        this.reported.add(nr);
        this.stderr(new TextEncoder().encode(`xmc: unknown syscall ${nr}, returning -ENOSYS\n`));
      }
      res = -38;
    }
    c.regs[0] = res | 0;
    c.regs[1] = res < 0 ? -1 : Math.floor(res / 4294967296);
    // SYSCALL clobbers RCX (return address) and R11 (RFLAGS).
    c.regs[2] = c.rip | 0;
    c.regs[3] = Math.floor(c.rip / 4294967296);
    c.regs[22] = c.getFlags();
    c.regs[23] = 0;
  }

  /** End the process with `code` (exit_group). */
  exitGroup(c: Cpu, code: number): void {
    this.exit = { code: code & 0xff, signal: 0 };
    for (const t of this.threads) t.done = true;
    c.stopRequested = true;
  }
}
