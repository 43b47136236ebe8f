/**
 * The privileged side of the machine that runs real programs: what a kernel would do for
 * tracing, done by host code that upper layers register. Traps (#BP, #DB, #UD, #PF) go to host
 * handlers before they become guest signals; VMCALL calls host functions; IPIs are taken by
 * each CPU at its next instruction boundary (the start of its next scheduling step); a
 * patching agent runs privileged steps interleaved with the CPUs in modeled time; stop-machine
 * parks every CPU; executable memory for trampolines is allocated near an address and freed
 * (executing freed text is a hazard in precise mode). Everything is charged per COST-MODEL.md.
 * @module
 */
import type { Cpu } from "./cpu.ts";
import { PAGE_SIZE, Perm } from "./memory.ts";
import type { TrapResult, TrapVector } from "./precise/machine.ts";

/** What a host trap handler sees on the machine that runs programs. */
export interface HostTrapContext {
  readonly cpu: Cpu;
  readonly vector: TrapVector;
  /** #BP: the INT3's address (RIP is after it, as on hardware); #UD/#DB: RIP; #PF: the faulting address. */
  readonly address: number;
}

/** A host trap handler: claims the trap ("handled", "retry") or declines it. */
export type HostTrapHandler = (ctx: HostTrapContext) => TrapResult;

/** What a host call sees. */
export interface HostCallInfo {
  readonly cpu: Cpu;
  /** The calling CPU's modeled time (cycles). */
  readonly cycles: number;
}

/** An IPI in flight. */
export interface HostIpi {
  readonly targets: number[];
  acked: number;
  readonly handler: (cpu: Cpu) => void;
}

/** What the agent yields: a step boundary, or a condition to wait for. */
export type HostAgentYield = undefined | { wait: () => boolean; why: string };

/** The privileged state of a machine (owned by `Machine`). */
export class HostSide {
  private readonly traps: Record<TrapVector, HostTrapHandler[]> = { bp: [], db: [], ud: [], pf: [] };
  private readonly calls = new Map<number, (info: HostCallInfo) => void>();
  /** Pending IPIs per CPU. */
  readonly pending: HostIpi[][];
  /** CPUs parked by stop-machine. */
  readonly parked: boolean[];
  /** The agent's program, its modeled time and its wait condition. */
  private agent: Generator<HostAgentYield, void, void> | undefined;
  private agentWait: { wait: () => boolean; why: string } | undefined;
  /** Modeled time of the agent (cycles). */
  agentTime = 0;
  /** Cycles one agent step costs (a privileged store or bookkeeping). */
  agentStepCycles = 1;
  /** Instructions per scheduling quantum while the agent is active (fine interleaving). */
  agentQuantum = 64;
  /** Counters. */
  readonly stats = { traps: 0, ipis: 0, hostCalls: 0, agentSteps: 0 };

  constructor(ncpus: number) {
    this.pending = Array.from({ length: ncpus }, () => []);
    this.parked = new Array(ncpus).fill(false);
  }

  /** Register a trap handler for `vector` (tried in registration order). */
  onTrap(vector: TrapVector, handler: HostTrapHandler): void {
    this.traps[vector].push(handler);
  }

  /** Remove a trap handler. */
  offTrap(vector: TrapVector, handler: HostTrapHandler): void {
    const l = this.traps[vector];
    const i = l.indexOf(handler);
    if (i >= 0) l.splice(i, 1);
  }

  /** Offer a trap to the handlers; undefined when every handler declines. */
  trap(ctx: HostTrapContext): TrapResult | undefined {
    const handlers = this.traps[ctx.vector];
    if (handlers.length === 0) return undefined;
    this.stats.traps++;
    for (const h of handlers) {
      const r = h(ctx);
      if (r !== "declined") return r;
    }
    return undefined;
  }

  /** Register host call `id` (VMCALL with EAX = id). */
  onHostCall(id: number, fn: (info: HostCallInfo) => void): void {
    this.calls.set(id, fn);
  }

  /** Run the host call in EAX; false when nothing is registered under it. */
  hostCall(c: Cpu): boolean {
    const fn = this.calls.get(c.regs[0]!);
    if (!fn) return false;
    this.stats.hostCalls++;
    fn({ cpu: c, cycles: c.cycles });
    return true;
  }

  /** Send an IPI to `targets` (default: every CPU); each runs `handler` at its next boundary. */
  sendIpi(handler: (cpu: Cpu) => void, targets?: number[]): HostIpi {
    const t = targets ?? this.pending.map((_, i) => i);
    const ipi: HostIpi = { targets: t, acked: 0, handler };
    for (const id of t) this.pending[id]!.push(ipi);
    return ipi;
  }

  /** Give the agent a program (a generator of privileged steps) starting at modeled time `at`. */
  setAgent(program: Generator<HostAgentYield, void, void>, at: number): void {
    this.agent = program;
    this.agentWait = undefined;
    this.agentTime = at;
  }

  /** Agent programs waiting for the current one to end, with their start times. */
  private readonly agentQueue: { program: Generator<HostAgentYield, void, void>; at: number }[] = [];

  /**
   * Run `program` after the current agent program (or now when there is none), not before
   * modeled time `at`: the agent is one patching CPU, so its programs never overlap.
   */
  queueAgent(program: Generator<HostAgentYield, void, void>, at: number): void {
    if (this.agent === undefined) this.setAgent(program, Math.max(at, this.agentTime));
    else this.agentQueue.push({ program, at });
  }

  /** An agent program is in progress. */
  get agentActive(): boolean {
    return this.agent !== undefined;
  }

  /** The agent can take a step now (active, and not waiting on an unmet condition). */
  agentRunnable(): boolean {
    return this.agent !== undefined && (!this.agentWait || this.agentWait.wait());
  }

  /** One agent step. */
  agentStep(): void {
    if (!this.agent) return;
    this.stats.agentSteps++;
    this.agentTime += this.agentStepCycles;
    const r = this.agent.next();
    if (r.done) {
      this.agent = undefined;
      this.agentWait = undefined;
      const next = this.agentQueue.shift();
      if (next) this.setAgent(next.program, Math.max(next.at, this.agentTime));
    } else this.agentWait = r.value ?? undefined;
  }
}

/**
 * Find `size` bytes of free address space within ±2 GiB of `near` (page-aligned), map it RX
 * and return its address; throws RangeError when there is none.
 */
export function allocNear(
  mem: { findFree(hint: number, len: number): number; map(a: number, l: number, p: number): void },
  near: number,
  size: number,
): number {
  const len = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
  const reach = 0x7fff0000;
  let at = mem.findFree(near + 0x100000, len);
  if (at + len - near > reach) at = mem.findFree(Math.max(PAGE_SIZE, near - reach), len);
  if (Math.abs(at - near) > reach || at + len - near > reach)
    throw new RangeError(`no free executable memory within ±2 GiB of 0x${near.toString(16)}`);
  mem.map(at, len, Perm.RX);
  return at;
}
