/**
 * Precise mode (XMC-MODEL.md): N vCPUs, each with an instruction-fetch unit, a patching agent,
 * traps to host handlers, IPIs, host calls, and a hazard checker that judges every executed
 * instruction against the write log. Everything that happens is a *step* chosen by a
 * scheduler (one CPU instruction, one trap-handler step, one IPI, one agent step, or one
 * prefetch), so that a run is a pure function of its choices and any hazard can be replayed.
 *
 * This is a bare machine for litmus tests and protocol checking: CPUs run code placed in
 * memory by the caller (no operating system); `hlt` ends a CPU's program.
 * @module
 */
import { formName } from "@xmc/x86-decode";
import { type CostProfile, DEFAULT_PROFILE, takenTicks } from "../cost.ts";
import { Cpu, FL } from "../cpu.ts";
import { cpuid } from "../cpuid.ts";
import { CpuException, Vec } from "../errors.ts";
import { GuestFault, PAGE_SIZE, Perm } from "../memory.ts";
import { type CoreCpu, PreciseCore } from "./core.ts";
import { FetchUnit } from "./fetch.ts";
import type { Hazard } from "./hazards.ts";
import { AGENT, TrackedMemory } from "./tracked-memory.ts";

/** Options of a {@link PreciseMachine}. */
export interface PreciseOptions {
  /** Number of vCPUs (1-64). */
  cpus: number;
  /** Fetch block size B in bytes (power of two; default 16). */
  fetchBlock?: number;
  /** Prefetch queue length Q in blocks (default 2). */
  prefetch?: number;
  /** Report `unsynchronized` hazards (strict mode). */
  strict?: boolean;
  /** Cost profile (default `default`). */
  profile?: CostProfile;
  /** Memory limit in bytes. */
  memoryLimit?: number;
  /**
   * May a CPU take an IPI between the steps of a trap handler (after its first step)? Default
   * false: trap handlers run with interrupts disabled, as Linux's INT3 path does.
   */
  ipiInTrap?: boolean;
}

/** What a trap handler decides. */
export type TrapResult =
  /** Handled: continue at the RIP the handler left (it may have emulated an instruction). */
  | "handled"
  /** Not this handler's: try the next one; if none claims, the guest gets the signal. */
  | "declined"
  /** Spurious (the INT3 is gone): back RIP up to the trapping instruction and re-execute it. */
  | "retry";

/** Trap vectors delivered to host handlers. */
export type TrapVector = "bp" | "db" | "ud" | "pf";

/** What a trap handler sees. */
export interface TrapContext {
  readonly machine: PreciseMachine;
  readonly cpu: Cpu;
  readonly vector: TrapVector;
  /** For #BP: the address of the INT3 byte (RIP is after it, as on hardware). */
  readonly address: number;
}

/**
 * A host trap handler. It may finish at once (return a result) or take several scheduler
 * steps (a generator: every `yield` lets other CPUs and the agent run, as a real handler
 * would be interleaved with the patching CPU).
 */
export type TrapHandler = (ctx: TrapContext) => TrapResult | Generator<void, TrapResult, void>;

/** What a host call (VMCALL) sees. */
export interface HostCallContext {
  readonly machine: PreciseMachine;
  readonly cpu: Cpu;
  /** Modeled time of the calling CPU (cycles). */
  readonly cycles: number;
}

/** An IPI in flight. */
export interface IpiBatch {
  /** CPUs that must acknowledge. */
  readonly targets: number[];
  /** CPUs that have run the handler. */
  acked: number;
  readonly handler: (cpu: Cpu) => void;
}

/** What the agent yields: nothing (a step boundary) or a condition to wait for. */
export type AgentYield = undefined | { wait: () => boolean; why: string };

/** The patching agent's program: a generator of privileged steps. */
export type AgentProgram = (m: PreciseMachine) => Generator<AgentYield, void, void>;

/** Scheduling actors. */
export type Actor = { kind: "cpu"; id: number } | { kind: "agent" } | { kind: "prefetch"; id: number };

/** Chooses the next actor among the runnable ones. */
export interface Scheduler {
  choose(runnable: readonly Actor[], m: PreciseMachine): number;
}

interface PreciseCpu extends CoreCpu {
  halted: boolean;
  /** How it ended (e.g. "hlt", "SIGTRAP", "SIGSEGV …"). */
  end: string;
  /** Trap in progress (handler generator), with the handlers still to try. */
  trap:
    | { ctx: TrapContext; gen: Generator<void, TrapResult, void> | undefined; rest: TrapHandler[] }
    | undefined;
  pendingIpis: IpiBatch[];
  /** Initial stack top (quiescence scans the stack below it). */
  stackTop: number;
}

const HOSTCALL_HALT = -1;

/** A precise multi-CPU machine with a patching agent. */
export class PreciseMachine {
  readonly mem: TrackedMemory;
  readonly profile: CostProfile;
  readonly strict: boolean;
  readonly B: number;
  readonly Q: number;
  readonly ipiInTrap: boolean;
  /** Steps taken. */
  step = 0;
  /** Fetching, checking and bookkeeping shared with precise Linux runs. */
  readonly core: PreciseCore;
  /** Scheduler choices made so far (a run is a function of them). */
  readonly choices: number[] = [];
  /** Trap handlers by vector, tried in registration order. */
  private readonly trapHandlers: Record<TrapVector, TrapHandler[]> = { bp: [], db: [], ud: [], pf: [] };
  private readonly hostCalls = new Map<number, (ctx: HostCallContext) => void>();
  private readonly pcpus: PreciseCpu[] = [];
  private agent: Generator<AgentYield, void, void> | undefined;
  private agentWait: { wait: () => boolean; why: string } | undefined;
  private agentDone = true;
  /** Counters. */
  readonly stats = { instructions: 0, traps: 0, ipis: 0, hostCalls: 0, prefetches: 0, agentSteps: 0 };

  constructor(opts: PreciseOptions) {
    const n = opts.cpus;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`cpus must be 1-64, not ${n}`);
    this.profile = opts.profile ?? DEFAULT_PROFILE;
    this.strict = opts.strict ?? false;
    this.B = opts.fetchBlock ?? 16;
    this.Q = opts.prefetch ?? 2;
    this.ipiInTrap = opts.ipiInTrap ?? false;
    this.mem = new TrackedMemory(opts.memoryLimit);
    this.core = new PreciseCore(this.mem, this.strict, this.profile, () => this.step);
    const ncpus = n;
    for (let i = 0; i < n; i++) {
      const cpu = new Cpu(i, this.mem);
      cpu.takenTicks = takenTicks(this.profile);
      cpu.host = {
        syscall: () => {
          throw new CpuException(Vec.UD, "syscall on the bare precise machine");
        },
        cpuid: (c) => cpuid(c, ncpus),
      };
      this.pcpus.push({
        cpu,
        fetch: new FetchUnit(this.mem, this.B, this.Q),
        lastSerialize: 0,
        halted: false,
        end: "",
        trap: undefined,
        pendingIpis: [],
        prevNext: -1,
        branched: false,
        stackTop: 0,
      });
    }
  }

  /** All hazards found (in order). */
  get hazards(): Hazard[] {
    return this.core.hazards;
  }

  /** The vCPUs. */
  get cpus(): Cpu[] {
    return this.pcpus.map((p) => p.cpu);
  }

  /** Current event time (advances by one per step). */
  get now(): number {
    return this.mem.now;
  }

  // ---- setup ----------------------------------------------------------------------------------

  /** Map `bytes` at `addr` with `perm` as part of the initial image (write id 0, not logged). */
  load(addr: number, bytes: Uint8Array, perm: number): void {
    const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.ceil((addr + Math.max(bytes.length, 1)) / PAGE_SIZE) * PAGE_SIZE;
    if (!this.mem.isMapped(start, end - start)) this.mem.map(start, end - start, perm);
    else this.mem.protect(start, end - start, perm);
    this.mem.writeBytes(addr, bytes);
  }

  /** Start CPU `id` at `rip` with a fresh stack of `stackSize` bytes at `stackTop`. */
  start(id: number, rip: number, stackTop: number, stackSize = 0x1000): void {
    const p = this.pcpus[id]!;
    if (!this.mem.isMapped(stackTop - stackSize, stackSize))
      this.mem.map(stackTop - stackSize, stackSize, Perm.RW);
    p.cpu.rip = rip;
    p.cpu.setReg64(4, stackTop);
    p.stackTop = stackTop;
    p.halted = false;
  }

  /** Mark CPU `id` as having nothing to run (it still takes IPIs). */
  idle(id: number): void {
    this.pcpus[id]!.halted = true;
    this.pcpus[id]!.end = "idle";
  }

  /** Register a host trap handler for `vector` (tried in registration order). */
  onTrap(vector: TrapVector, handler: TrapHandler): void {
    this.trapHandlers[vector].push(handler);
  }

  /** Register host call `id` (VMCALL with EAX = id). */
  onHostCall(id: number, fn: (ctx: HostCallContext) => void): void {
    this.hostCalls.set(id, fn);
  }

  /** Give the patching agent its program (it runs interleaved with the CPUs). */
  setAgent(program: AgentProgram): void {
    this.agent = program(this);
    this.agentDone = false;
    this.agentWait = undefined;
  }

  // ---- the privileged side (used by the agent and by host handlers) ------------------------------

  /** Write `bytes` at `addr` as one store of the agent (ignores W permission). */
  write(addr: number, bytes: Uint8Array): void {
    this.mem.agentWrite(addr, bytes);
  }

  /** Read bytes (host view, current memory). */
  read(addr: number, len: number): Uint8Array {
    return this.mem.readBytes(addr, len);
  }

  /** Send an IPI to `targets` (default: all CPUs); each runs `handler` at its next instruction boundary. */
  sendIpi(handler: (cpu: Cpu) => void, targets?: number[]): IpiBatch {
    const t = targets ?? this.pcpus.map((_, i) => i);
    const batch: IpiBatch = { targets: t, acked: 0, handler };
    for (const id of t) this.pcpus[id]!.pendingIpis.push(batch);
    return batch;
  }

  /** The sync_core IPI handler: serializes the CPU (flushes its fetch queue). */
  readonly syncCore = (cpu: Cpu): void => {
    this.serialize(this.pcpus[cpu.id]!);
    cpu.cycles += this.profile.events.syncCore;
  };

  /** Declare that [start, start+len) is being replaced (for mid-instruction / branch-into-patch). */
  declarePatched(start: number, len: number): void {
    this.core.patched.push({ start, len, time: this.now });
  }

  /** Allocate `size` bytes of executable memory within ±2 GiB of `near` (page-aligned, RX). */
  allocExec(near: number, size: number): number {
    const len = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const reach = 0x7fff0000;
    let at = this.mem.findFree(near + 0x100000, len);
    if (at + len - near > reach) at = this.mem.findFree(Math.max(PAGE_SIZE, near - reach), len);
    if (Math.abs(at - near) > reach || at + len - near > reach)
      throw new RangeError(`no free executable memory within ±2 GiB of 0x${near.toString(16)}`);
    this.mem.map(at, len, Perm.RX);
    return at;
  }

  /** Free an executable region: executing it afterwards is a `freed-text` hazard. */
  freeExec(start: number, len: number): void {
    this.core.freed.push({ start, len, time: this.now });
  }

  /**
   * True when no CPU's RIP, no CPU inside a trap at an address in range, and no return address
   * on any CPU's stack lies within the ranges (the condition optprobes and stub freeing wait for).
   */
  quiescent(ranges: readonly { start: number; len: number }[]): boolean {
    const inside = (a: number) => ranges.some((r) => a >= r.start && a < r.start + r.len);
    for (const p of this.pcpus) {
      if (p.halted && !p.trap) continue;
      if (inside(p.cpu.rip)) return false;
      if (p.trap && inside(p.trap.ctx.address)) return false;
      // Scan the stack for return addresses into the ranges.
      const sp = p.cpu.reg64(4);
      for (let a = sp; a + 8 <= p.stackTop; a += 8) {
        let v: number;
        try {
          const lo = this.mem.read64(a);
          v = (this.mem.hi >>> 0) * 4294967296 + (lo >>> 0);
        } catch {
          break;
        }
        if (inside(v)) return false;
      }
    }
    return true;
  }

  // ---- running ----------------------------------------------------------------------------------

  /** Actors that can take a step now. */
  runnable(): Actor[] {
    const out: Actor[] = [];
    this.pcpus.forEach((p, id) => {
      if (p.trap || p.pendingIpis.length > 0 || !p.halted) out.push({ kind: "cpu", id });
    });
    if (!this.agentDone && (!this.agentWait || this.agentWait.wait())) out.push({ kind: "agent" });
    this.pcpus.forEach((p, id) => {
      if (!p.halted && !p.trap && p.fetch.queue.length > 0 && p.fetch.queue.length <= this.Q)
        out.push({ kind: "prefetch", id });
    });
    return out;
  }

  /** True when every CPU has halted (with no trap or IPI pending) and the agent is done. */
  get finished(): boolean {
    return this.agentDone && this.pcpus.every((p) => p.halted && !p.trap && p.pendingIpis.length === 0);
  }

  /**
   * Run until finished or `maxSteps`; returns false when the step bound was hit. Deadlock (the
   * agent waits on something no CPU can provide) also stops the run (returns false).
   */
  run(scheduler: Scheduler, maxSteps = 100_000): boolean {
    while (!this.finished) {
      if (this.step >= maxSteps) return false;
      const actors = this.runnable();
      if (actors.length === 0) return false;
      const i = actors.length === 1 ? 0 : scheduler.choose(actors, this);
      if (actors.length > 1) this.choices.push(i);
      this.doStep(actors[i]!);
    }
    return true;
  }

  /** Take one step of `a`. */
  doStep(a: Actor): void {
    this.step++;
    this.mem.now++;
    if (a.kind === "agent") this.agentStep();
    else if (a.kind === "prefetch") {
      if (this.pcpus[a.id]!.fetch.prefetchOne()) this.stats.prefetches++;
    } else this.cpuStep(this.pcpus[a.id]!);
  }

  private agentStep(): void {
    if (!this.agent) return;
    this.stats.agentSteps++;
    this.mem.writer = AGENT;
    const r = this.agent.next();
    if (r.done) {
      this.agentDone = true;
      this.agentWait = undefined;
    } else this.agentWait = r.value ?? undefined;
  }

  private serialize(p: PreciseCpu): void {
    this.core.serialize(p);
  }

  private cpuStep(p: PreciseCpu): void {
    const c = p.cpu;
    this.mem.writer = c.id;
    if (p.trap && !(this.ipiInTrap && p.pendingIpis.length > 0)) {
      this.trapStep(p);
      return;
    }
    if (p.pendingIpis.length > 0) {
      // IPI delivery and return flush the fetch queue (exception/interrupt rule).
      const batch = p.pendingIpis.shift()!;
      p.fetch.flush();
      batch.handler(c);
      p.fetch.flush();
      c.cycles += this.profile.events.ipi;
      batch.acked++;
      this.stats.ipis++;
      return;
    }
    if (p.halted) return;
    this.execute(p);
  }

  private execute(p: PreciseCpu): void {
    const c = p.cpu;
    const core = this.core;
    const rip = c.rip;
    const branched = core.takeBranched(p);
    let len = 0;
    try {
      len = core.fetchDecode(p, branched);
    } catch (e) {
      this.fault(p, e);
      return;
    }
    if (len === 0) {
      core.checkBytes(p, rip, Math.min(core.f.n, 15), branched);
      this.trapOrSignal(p, "ud", rip, "SIGILL: invalid instruction");
      return;
    }
    core.checkBytes(p, rip, len, branched);
    const insn = core.insn;
    const name = formName(insn.form);
    this.stats.instructions++;
    if (name === "int3") {
      c.instructions++;
      c.rip = rip + len;
      p.prevNext = -1;
      this.stats.traps++;
      this.trapOrSignal(p, "bp", rip, "SIGTRAP: int3 with no handler");
      return;
    }
    if (name === "hlt") {
      c.instructions++;
      p.halted = true;
      p.end = "hlt";
      c.rip = rip + len;
      return;
    }
    if (name === "vmcall") {
      c.instructions++;
      c.rip = rip + len;
      const id = c.regs[0]!;
      c.cycles += this.profile.events.hostCall;
      this.stats.hostCalls++;
      if (id === HOSTCALL_HALT) {
        p.halted = true;
        p.end = "halt hostcall";
        return;
      }
      const fn = this.hostCalls.get(id);
      if (!fn) {
        this.trapOrSignal(p, "ud", rip, `SIGILL: vmcall ${id} has no host function`);
        return;
      }
      fn({ machine: this, cpu: c, cycles: c.cycles });
      p.prevNext = c.rip;
      return;
    }
    const u = core.uopFor(insn, len);
    // TF at the start of the instruction decides the single-step trap after it (SDM Vol. 3A
    // §18.3.1.4: the trap follows the instruction that executes with TF set).
    const tf = (c.flags & FL.TF) !== 0;
    try {
      core.execute(p, u);
    } catch (e) {
      if (e instanceof CpuException && e.vector === Vec.UD) {
        this.trapOrSignal(p, "ud", rip, `SIGILL: ${e.message}`);
        return;
      }
      this.fault(p, e);
      return;
    }
    // Single-step: a #DB after an instruction that began with TF set.
    if (tf) this.trapOrSignal(p, "db", c.rip, "SIGTRAP: single step with no handler");
  }

  private fault(p: PreciseCpu, e: unknown): void {
    if (e instanceof GuestFault) {
      this.trapOrSignal(p, "pf", e.address, `SIGSEGV: ${e.message}`);
      return;
    }
    if (e instanceof CpuException) {
      p.halted = true;
      p.end = `signal (vector ${e.vector}): ${e.message}`;
      return;
    }
    p.halted = true;
    p.end = `internal error: ${(e as Error)?.message ?? String(e)}`;
  }

  /** Deliver a trap to host handlers (flushing the fetch queue); if none claims, end the CPU with `signal`. */
  private trapOrSignal(p: PreciseCpu, vector: TrapVector, address: number, signal: string): void {
    const handlers = this.trapHandlers[vector];
    p.fetch.flush(); // exception delivery
    p.cpu.cycles +=
      vector === "db" ? this.profile.events.singleStepRoundTrip : this.profile.events.int3RoundTrip;
    const ctx: TrapContext = { machine: this, cpu: p.cpu, vector, address };
    if (handlers.length === 0) {
      this.unclaimed(p, ctx, signal);
      return;
    }
    p.trap = { ctx, gen: undefined, rest: handlers.slice() };
    (p.trap as { signal?: string }).signal = signal;
    // The handler's first segment runs as part of the delivery (nothing can interrupt between
    // the exception and the handler's first instructions).
    this.trapStep(p);
  }

  private unclaimed(p: PreciseCpu, ctx: TrapContext, signal: string): void {
    if (ctx.vector === "bp")
      this.core.report("unhandled-int3", p, ctx.address, [], "an INT3 that no handler claims");
    p.halted = true;
    p.end = signal;
  }

  /** One step of the trap in progress on `p`. */
  private trapStep(p: PreciseCpu): void {
    const t = p.trap!;
    let result: TrapResult | undefined;
    if (t.gen) {
      const r = t.gen.next();
      if (!r.done) return;
      result = r.value;
    } else {
      const h = t.rest.shift();
      if (!h) {
        p.trap = undefined;
        this.unclaimed(p, t.ctx, (t as { signal?: string }).signal ?? "signal");
        return;
      }
      const r = h(t.ctx);
      if (typeof r === "string") result = r;
      else {
        t.gen = r;
        const first = r.next();
        if (!first.done) return;
        result = first.value;
      }
    }
    t.gen = undefined;
    if (result === "declined") {
      this.trapStep(p); // the next handler, in the same step
      return;
    }
    // Trap return flushes the fetch queue.
    p.trap = undefined;
    p.fetch.flush();
    p.prevNext = -1;
    if (result === "retry" && t.ctx.vector === "bp") p.cpu.rip = t.ctx.address;
  }

  /** How each CPU ended ("hlt", a signal, "idle" or "" when still running). */
  ends(): string[] {
    return this.pcpus.map((p) => p.end);
  }
}
