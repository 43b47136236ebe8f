/**
 * A Linux process on the machine. It owns the threads, the file descriptors, the guest
 * filesystem view, the futex queues, the signal dispositions and the program break, and it
 * drives the {@link Scheduler} that runs its threads on the vCPUs. Syscalls arrive here from
 * the SYSCALL instruction and are dispatched by number ({@link SYSCALLS}); CPU exceptions
 * arrive from the scheduler and become signals (a handler, or death with a report).
 * @module
 */
import { resolve } from "node:path";
import { isatty } from "node:tty";
import { decode, formatAtt, Instruction } from "@xmc/x86-decode";
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import type { Machine } from "../machine.ts";
import { GuestFault } from "../memory.ts";
import type { Uop } from "../uop.ts";
import { BLOCKED, EFAULT, EINTR, ENOSYS, NO_RESULT } from "./errno.ts";
import { FdTable, GUEST_UID, O_RDONLY, O_WRONLY, type Pipe, StdioFile } from "./fds.ts";
import { GuestFs } from "./fs.ts";
import { Futexes } from "./futex.ts";
import { type LoadedImage, loadStatic, STACK_SIZE, STACK_TOP } from "./loader.ts";
import {
  defaultIgnores,
  enterHandler,
  FPE_FLTINV,
  FPE_INTDIV,
  ILL_ILLOPN,
  SA_RESETHAND,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SI_KERNEL,
  SIG_DFL,
  SIG_IGN,
  SIGBUS,
  SIGFPE,
  SIGILL,
  SIGSEGV,
  SIGTRAP,
  type SigAction,
  type SigInfo,
  sigBit,
  signalName,
} from "./signals.ts";
import { SYSCALLS } from "./syscalls.ts";
import { Rng, Scheduler, type SchedulerHost } from "./threads/scheduler.ts";
import { Thread, ThreadState } from "./threads/thread.ts";
import type { WaitQueue } from "./threads/waitqueue.ts";

/** How the process ended. */
export interface ExitStatus {
  /** Exit code (0-255) when the process exited normally. */
  code: number;
  /** Terminating signal number, 0 when it exited. */
  signal: number;
  /** A human-readable report for a fatal signal or a stop (signal, address, RIP, instruction). */
  report?: string;
  /** True when the run stopped at the instruction limit. */
  instructionLimit?: boolean;
  /** True when the run stopped at the host time limit (`timeLimitMs`). */
  timeLimit?: boolean;
  /** True when every thread was blocked forever. */
  deadlock?: boolean;
}

/** Options for running a program. */
export interface ProcessOptions {
  argv: string[];
  env?: string[];
  /** Seed for everything random (AT_RANDOM, getrandom, scheduling choices). Default 1. */
  seed?: number;
  /** Stop after this many instructions in total (over all CPUs). */
  maxInstructions?: number;
  /** Mean instructions per scheduling quantum (default 10,000; the seed jitters it ±50%). */
  quantum?: number;
  /**
   * Adversarial scheduling (for checking): quanta are drawn from 1 to `quantum` instructions
   * instead of ±50% around it, so preemption can fall after any instruction (still a pure
   * function of the seed).
   */
  adversarial?: boolean;
  /** Where guest stdout/stderr go (default: the host's fd 1 and 2). */
  stdout?: (data: Uint8Array) => void;
  stderr?: (data: Uint8Array) => void;
  /** Guest stdin contents (default: the host's fd 0). */
  stdin?: Uint8Array;
  /** Host directory mapped as the guest's `/` (default: none, the host is invisible). */
  fsRoot?: string;
  /** Allow writes under `fsRoot`. */
  fsWritable?: boolean;
  /** What /proc/self/exe names (default: argv[0] made absolute on the host). */
  exePath?: string;
  /** Called every few million instructions with the total so far (progress reports). */
  onProgress?: (instructions: number) => void;
  /**
   * Stop the run after this much host (wall) time, in milliseconds, checked every few million
   * instructions (default: no limit; the CLI sets one). A guest that spins forever is then
   * bounded even without an instruction limit.
   */
  timeLimitMs?: number;
  /** Where xmc's own messages (unknown syscalls) go (default: the guest's stderr sink). */
  diagnostics?: (line: string) => void;
}

/** Process id of the guest (its first thread's tid). */
export const GUEST_PID = 1000;

/** A running Linux program. */
export class LinuxProcess implements SchedulerHost {
  readonly machine: Machine;
  readonly opts: ProcessOptions;
  /** Randomness the guest sees (AT_RANDOM, getrandom, /dev/urandom). */
  readonly rng: Rng;
  readonly sched: Scheduler;
  readonly image: LoadedImage;
  readonly fds: FdTable = new FdTable();
  readonly fs: GuestFs;
  readonly futexes: Futexes = new Futexes();
  /** Dispositions, index = signal number (1-64). */
  readonly sigactions: SigAction[] = [];
  readonly threads: Map<number, Thread> = new Map<number, Thread>();
  readonly pid: number = GUEST_PID;
  brk = 0;
  brkStart = 0;
  /** mmap places mappings top-down below this address (the stack's 8 MiB and a guard gap above). */
  mmapBase: number = STACK_TOP - STACK_SIZE - 0x8000000;
  /** umask. */
  umask = 0o022;
  /** Resource limits set with prlimit64 (resource → [soft, hard]). */
  readonly rlimits: Map<number, [bigint, bigint]> = new Map<number, [bigint, bigint]>();
  exit: ExitStatus | undefined;
  /** Unknown syscalls already reported. */
  readonly reported: Set<number> = new Set<number>();
  private nextTid = GUEST_PID;
  private live = 0;
  private nextIno = 0x1000;
  private readonly diag: (line: string) => void;

  constructor(machine: Machine, program: Uint8Array, opts: ProcessOptions) {
    this.machine = machine;
    this.opts = opts;
    const seed = opts.seed ?? 1;
    this.rng = new Rng(seed);
    this.sched = new Scheduler(
      machine,
      new Rng(Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d)),
      opts.quantum ?? 10_000,
      opts.adversarial ?? false,
    );
    // Quiescence (optprobes, stub freeing): every thread's RIP and its stack's return addresses.
    machine.threadPoints = () => {
      const out: { rip: number; rsp: number; running: boolean }[] = [];
      for (const t of this.threads.values()) {
        if (t.state === ThreadState.Done) continue;
        const c = t.cpu >= 0 ? machine.cpus[t.cpu]! : t.ctx;
        out.push({ rip: c.rip, rsp: c.reg64(4), running: t.cpu >= 0 });
      }
      return out;
    };
    const execfn = opts.argv[0] ?? "program";
    this.image = loadStatic(machine.mem, program, opts.argv, opts.env ?? [], this.rng.bytes(16), execfn);
    this.brk = this.image.brk;
    this.brkStart = this.image.brk;
    this.fs = new GuestFs({
      root: opts.fsRoot,
      writable: opts.fsWritable,
      // An absolute path, as the kernel gives (glibc asserts it).
      exe: opts.exePath ?? resolve(execfn),
      cpus: machine.cpus.length,
    });
    for (let i = 0; i <= 64; i++) this.sigactions.push({ handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n });
    // stdin, stdout, stderr: the host's (or the sinks given).
    const tty = (fd: number, sink: unknown) => sink === undefined && isatty(fd);
    this.fds.add(new StdioFile(0, O_RDONLY, tty(0, opts.stdin), undefined, opts.stdin), false);
    this.fds.add(new StdioFile(1, O_WRONLY, tty(1, opts.stdout), opts.stdout, undefined), false);
    this.fds.add(new StdioFile(2, O_WRONLY, tty(2, opts.stderr), opts.stderr, undefined), false);
    this.diag =
      opts.diagnostics ??
      (opts.stderr
        ? (l) => opts.stderr!(new TextEncoder().encode(`${l}\n`))
        : (l) => process.stderr.write(`${l}\n`));
    const t = this.newThread();
    t.ctx.rip = this.image.entry;
    t.ctx.setReg64(4, this.image.sp);
    this.sched.enqueue(t, 0);
    machine.attach((c) => this.syscall(c));
  }

  /** Create a thread (not yet runnable). */
  newThread(): Thread {
    const t = new Thread(this.nextTid++, this.machine.mem);
    this.threads.set(t.tid, t);
    this.live++;
    return t;
  }

  /** A fresh inode number for pipes and the like. */
  ino(): number {
    return this.nextIno++;
  }

  /** The thread running on `c`. */
  current(c: Cpu): Thread {
    // SAFETY: a CPU only executes (and so only makes syscalls) while a thread is loaded on it.
    return this.sched.current[c.id]!;
  }

  /** Run until the process exits, is killed, deadlocks or reaches the instruction limit. */
  run(): ExitStatus {
    this.sched.run(this, this.opts.maxInstructions ?? Number.POSITIVE_INFINITY);
    this.fds.closeAll();
    return this.exit ?? { code: 0, signal: 0 };
  }

  /** Write one diagnostic line from xmc itself. */
  diagnostic(line: string): void {
    this.diag(line);
  }

  // ---- SchedulerHost ----------------------------------------------------------------------

  finished(): boolean {
    return this.exit !== undefined;
  }

  switchedIn(c: Cpu, t: Thread): void {
    if (t.pending.length > 0) this.deliverPending(c, t);
  }

  timedOut(t: Thread): void {
    t.waiter?.cancel();
    t.waiter = undefined;
    if (!t.restart) setResult(t.ctx, t.timeoutResult);
  }

  deadlocked(): void {
    const blocked = [...this.threads.values()]
      .filter((t) => t.state === ThreadState.Blocked)
      .map((t) => t.tid);
    this.exit = {
      code: 0,
      signal: 0,
      deadlock: true,
      report: `xmc: deadlock: every thread is blocked forever (threads ${blocked.join(", ")})`,
    };
  }

  /** Progress reports to `opts.onProgress` (absent when there is none: the scheduler skips them). */
  get progress(): ((total: number) => void) | undefined {
    const { onProgress, timeLimitMs } = this.opts;
    if (timeLimitMs === undefined) return onProgress;
    const deadline = (this.startedAt ??= performance.now()) + timeLimitMs;
    return (total) => {
      onProgress?.(total);
      if (performance.now() > deadline && this.exit === undefined)
        this.exit = {
          code: 0,
          signal: 0,
          timeLimit: true,
          report: `xmc: stopped after ${total} instructions and ${(timeLimitMs / 1000).toFixed(1)} s of host time (the time limit)`,
        };
    };
  }
  private startedAt: number | undefined;

  limitReached(total: number): void {
    this.exit = {
      code: 0,
      signal: 0,
      instructionLimit: true,
      report: `xmc: stopped after ${total} instructions (the --max-insns limit)`,
    };
  }

  faulted(c: Cpu, t: Thread): void {
    const e = c.fault;
    const u = c.faultUop as Uop | undefined;
    c.fault = undefined;
    c.faultUop = undefined;
    if (this.offerTrap(c, e, u)) return;
    const info: SigInfo = {
      sig: SIGSEGV,
      code: SI_KERNEL,
      addr: 0,
      pid: 0,
      uid: 0,
      trapno: 0,
      err: 0,
      cr2: 0,
      user: false,
    };
    let what: string;
    if (e instanceof GuestFault) {
      info.sig = SIGSEGV;
      info.code = e.protection ? SEGV_ACCERR : SEGV_MAPERR;
      info.addr = e.address;
      info.cr2 = e.address;
      info.trapno = 14;
      info.err = (e.protection ? 1 : 0) | (e.access === "write" ? 2 : 0) | 4 | (e.access === "exec" ? 16 : 0);
      const at = `0x${e.address.toString(16)}`;
      what =
        e.access === "exec"
          ? e.protection
            ? `execution of non-executable memory at ${at}`
            : `jump to unmapped address ${at}`
          : e.protection
            ? `${e.access} of ${e.access === "write" ? "read-only" : "inaccessible"} memory at ${at}`
            : `${e.access} of unmapped address ${at}`;
    } else if (e instanceof CpuException) {
      info.trapno = e.vector;
      info.addr = c.rip;
      switch (e.vector) {
        case Vec.DE:
          info.sig = SIGFPE;
          info.code = FPE_INTDIV;
          what = `divide error (${e.message})`;
          break;
        case Vec.UD:
          info.sig = SIGILL;
          info.code = ILL_ILLOPN;
          what = `invalid or unimplemented instruction (${e.message})`;
          break;
        case Vec.BP:
        case Vec.DB:
          info.sig = SIGTRAP;
          info.code = SI_KERNEL;
          // A trap: the saved RIP is after the instruction.
          if (e.vector === Vec.BP && u) c.rip = u.ip + u.len;
          what = e.vector === Vec.BP ? "breakpoint (int3)" : "debug trap";
          break;
        case Vec.XM:
        case Vec.MF:
          info.sig = SIGFPE;
          info.code = FPE_FLTINV;
          what = `floating-point exception (${e.message})`;
          break;
        case Vec.AC:
          info.sig = SIGBUS;
          what = `alignment check (${e.message})`;
          break;
        default:
          info.sig = SIGSEGV;
          info.code = SI_KERNEL;
          info.addr = 0;
          what = `general protection fault (${e.message})`;
      }
    } else {
      // A bug in the simulator: reported as such, never rethrown to the host.
      const err = e as Error | undefined;
      this.kill(c, 6, `internal error in the simulator: ${err?.stack ?? String(e)}`, true);
      return;
    }
    const act = this.sigactions[info.sig]!;
    if (act.handler !== SIG_DFL && act.handler !== SIG_IGN && !(t.sigMask & sigBit(info.sig))) {
      if (this.enter(c, t, info, act)) return;
      if (this.exit) return;
    }
    this.kill(c, info.sig, `${signalName(info.sig)}: ${what}`, true);
  }

  /**
   * Offer a trap to the machine's host handlers before it becomes a guest signal (issue 4:
   * INT3, single-step, #UD and #PF can be claimed). Each delivery and return is charged.
   * Returns true when a handler claimed it (RIP is where the handler left it).
   */
  private offerTrap(c: Cpu, e: unknown, u: Uop | undefined): boolean {
    const side = this.machine.hostSide;
    const ev = this.machine.profile.events;
    if (e instanceof CpuException && e.vector === Vec.BP && u) {
      const at = u.ip;
      c.rip = u.ip + u.len; // as on hardware: after the INT3
      const r = side.trap({ cpu: c, vector: "bp", address: at });
      if (r === undefined) {
        c.rip = at;
        return false;
      }
      c.cycles += ev.int3RoundTrip;
      if (r === "retry") c.rip = at;
      return true;
    }
    if (e instanceof CpuException && e.vector === Vec.DB) {
      const r = side.trap({ cpu: c, vector: "db", address: c.rip });
      if (r === undefined) return false;
      c.cycles += ev.singleStepRoundTrip;
      return true;
    }
    if (e instanceof CpuException && e.vector === Vec.UD) {
      const r = side.trap({ cpu: c, vector: "ud", address: c.rip });
      if (r === undefined) return false;
      c.cycles += ev.int3RoundTrip;
      return true;
    }
    if (e instanceof GuestFault) {
      const r = side.trap({ cpu: c, vector: "pf", address: e.address });
      if (r === undefined) return false;
      c.cycles += ev.int3RoundTrip;
      return true;
    }
    return false;
  }

  // ---- syscalls ---------------------------------------------------------------------------

  /** SYSCALL: dispatch by number in RAX; the result goes to RAX, RCX/R11 are clobbered. */
  syscall(c: Cpu): void {
    const t = this.current(c);
    const nr = c.regs[0]!;
    this.machine.events.record(c.id, t.tid, 1, nr);
    const fn = SYSCALLS[nr];
    let res: number;
    if (fn) {
      try {
        res = fn(this, c, t);
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
        res = -EFAULT; // a bad guest pointer passed to the kernel
      }
    } else {
      if (!this.reported.has(nr)) {
        this.reported.add(nr);
        this.diag(`xmc: unknown syscall ${nr}, returning -ENOSYS`);
      }
      res = -ENOSYS;
    }
    if (res === NO_RESULT) {
      if (this.exit || t.state !== ThreadState.Running) c.stopRequested = true;
      else if (t.pending.length > 0) this.deliverPending(c, t);
      return;
    }
    const rip = c.rip;
    if (res !== BLOCKED) setResult(c, res);
    c.regs[2] = rip | 0;
    c.regs[3] = Math.floor(rip / 4294967296);
    c.regs[22] = c.getFlags();
    c.regs[23] = 0;
    if (res === BLOCKED) {
      if (t.restart) {
        // Re-execute the SYSCALL (2 bytes) when woken, as the kernel restarts a syscall.
        c.rip = rip - 2;
        c.regs[0] = nr;
        c.regs[1] = 0;
      }
      c.stopRequested = true;
      return;
    }
    if (this.exit || t.state !== ThreadState.Running) {
      c.stopRequested = true;
      return;
    }
    if (t.pending.length > 0) this.deliverPending(c, t);
  }

  /**
   * Park `t` (running on `c`) until woken. `deadline`: absolute cycles (Infinity for none),
   * `timeoutResult`: RAX on timeout, `restart`: re-execute the syscall when woken (pipes).
   * Returns {@link BLOCKED} for the handler to return.
   */
  block(t: Thread, opts: { deadline?: number; timeoutResult?: number; restart?: boolean }): number {
    t.restart = opts.restart ?? false;
    t.timeoutResult = opts.timeoutResult ?? 0;
    this.sched.park(t, opts.deadline ?? Number.POSITIVE_INFINITY);
    return BLOCKED;
  }

  /** Wake a blocked thread at modeled time `at` with `result` in RAX. */
  wake(t: Thread, result: number, at: number): void {
    if (t.state !== ThreadState.Blocked) return;
    t.waiter = undefined;
    if (!t.restart) setResult(t.ctx, result);
    this.sched.unpark(t, at);
  }

  /** Wake every thread on `q` (they retry their syscall). */
  wakeAll(q: WaitQueue, at: number): void {
    for (const t of q.takeAll()) this.wake(t, 0, at);
  }

  /** A pipe changed state: its waiting readers and writers retry. */
  pipeChanged(p: Pipe): void {
    this.wakeAll(p.waiting, this.now());
  }

  /** Modeled time of the CPU executing now (cycles). */
  now(): number {
    return this.sched.running?.cycles ?? 0;
  }

  /** Thread `t` on `c` exits with `code` (SYS_exit). */
  exitThread(c: Cpu, t: Thread, code: number): void {
    t.exitCode = code;
    if (t.clearTid) {
      try {
        c.mem.write32(t.clearTid, 0);
        for (const w of this.futexes.take(t.clearTid, 1)) this.wake(w, 0, c.cycles);
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
      }
    }
    this.finishThread(t);
    this.machine.events.record(c.id, t.tid, 3, code);
    c.stopRequested = true;
    if (this.live === 0) this.exit = { code: code & 0xff, signal: 0 };
  }

  private finishThread(t: Thread): void {
    if (t.state === ThreadState.Done) return;
    if (t.state === ThreadState.Blocked) t.waiter?.cancel();
    if (t.state === ThreadState.Ready || t.state === ThreadState.Blocked) this.sched.remove(t);
    t.waiter = undefined;
    t.state = ThreadState.Done;
    this.live--;
  }

  /** End the process with `code` (exit_group). */
  exitGroup(c: Cpu, code: number): void {
    this.exit = { code: code & 0xff, signal: 0 };
    for (const t of this.threads.values()) this.finishThread(t);
    c.stopRequested = true;
  }

  // ---- signals ----------------------------------------------------------------------------

  /** Kill the process with `sig`; `why` describes it; `where` adds the RIP and instruction on `c`. */
  kill(c: Cpu | undefined, sig: number, why: string, where: boolean): void {
    let report = `xmc: guest killed by ${why}`;
    if (c && where) {
      const t = this.sched.current[c.id];
      report += ` at rip 0x${c.rip.toString(16)} on cpu ${c.id}${t ? ` (thread ${t.tid})` : ""}${describeInsn(this.machine, c.rip)}`;
    }
    this.exit = { code: 0, signal: sig, report };
    for (const t of this.threads.values()) this.finishThread(t);
    if (c) c.stopRequested = true;
  }

  /** Enter the handler for `info` on `c`; false (and the process killed) if the frame cannot be written. */
  private enter(c: Cpu, t: Thread, info: SigInfo, act: SigAction): boolean {
    try {
      enterHandler(c, t, act, info);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      this.kill(
        c,
        SIGSEGV,
        `SIGSEGV: cannot write the frame for ${signalName(info.sig)} (${e.message})`,
        true,
      );
      return false;
    }
    if (act.flags & SA_RESETHAND)
      this.sigactions[info.sig] = { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n };
    this.machine.events.record(c.id, t.tid, 2, info.sig);
    return true;
  }

  /**
   * Send `sig` to thread `target` (kill, tkill, tgkill) from the thread running on `c`.
   * `code`: SI_USER or SI_TKILL. Ignored signals are dropped; a fatal default action kills the
   * process at once; otherwise the signal is queued and a blocked target is interrupted.
   */
  sendSignal(c: Cpu, target: Thread, sig: number, code: number): void {
    if (sig === 0 || target.state === ThreadState.Done) return;
    const act = this.sigactions[sig]!;
    if (act.handler === SIG_IGN || (act.handler === SIG_DFL && defaultIgnores(sig))) return;
    const blocked = (target.sigMask & sigBit(sig)) !== 0n;
    if (act.handler === SIG_DFL && !blocked) {
      this.kill(c, sig, `${signalName(sig)} (sent by the program)`, false);
      return;
    }
    // Standard signals are not queued twice.
    if (sig < 32 && target.pending.some((p) => p.sig === sig)) return;
    target.pending.push({ sig, code, pid: this.pid, uid: GUEST_UID });
    if (!blocked && target.state === ThreadState.Blocked) {
      target.waiter?.cancel();
      const restart = target.restart;
      this.wake(target, -EINTR, c.cycles);
      target.restart = restart;
    }
  }

  /** Deliver the first pending signal `t` does not block (on `c`, where `t` runs). */
  deliverPending(c: Cpu, t: Thread): void {
    for (;;) {
      const i = t.pending.findIndex((p) => (t.sigMask & sigBit(p.sig)) === 0n);
      if (i < 0) return;
      const p = t.pending.splice(i, 1)[0]!;
      const act = this.sigactions[p.sig]!;
      if (act.handler === SIG_IGN || (act.handler === SIG_DFL && defaultIgnores(p.sig))) continue;
      if (act.handler === SIG_DFL) {
        this.kill(c, p.sig, `${signalName(p.sig)} (sent by the program)`, false);
        return;
      }
      const info: SigInfo = {
        sig: p.sig,
        code: p.code,
        addr: 0,
        pid: p.pid,
        uid: p.uid,
        trapno: 0,
        err: 0,
        cr2: 0,
        user: true,
      };
      this.enter(c, t, info, act);
      return;
    }
  }
}

/** Put a syscall result in RAX (sign-extended). */
export function setResult(c: Cpu, res: number): void {
  c.regs[0] = res | 0;
  c.regs[1] = res < 0 ? -1 : Math.floor(res / 4294967296) | 0;
}

/** " executing 0f 0b (ud2)" for the instruction at `rip`, as far as it can be read. */
function describeInsn(m: Machine, rip: number): string {
  const bytes: number[] = [];
  for (let i = 0; i < 15; i++) {
    try {
      bytes.push(m.mem.readBytes(rip + i, 1)[0]!);
    } catch {
      break;
    }
  }
  if (bytes.length === 0) return " (no instruction bytes: the address is unmapped)";
  let text = "undecodable";
  let len = bytes.length;
  const insn = new Instruction();
  const n = decode(Uint8Array.from(bytes), 0, rip, 64, insn);
  if (n > 0) {
    text = formatAtt(insn);
    len = n;
  }
  const hex = bytes
    .slice(0, len)
    .map((b) => b.toString(16).padStart(2, "0"))
    .join(" ");
  return `: ${hex} (${text})`;
}
