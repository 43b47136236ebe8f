/**
 * The machine: memory, N vCPUs, the decoded-instruction cache and the cost profile. The
 * operating-system layer (linux/) drives it: it loads a program, creates threads and schedules
 * them on the vCPUs with {@link runCpu}.
 * @module
 */
import { CodeCache, type CodeCache as CodeCacheT } from "./cache.ts";
import { type CostProfile, classify, DEFAULT_PROFILE, takenTicks, toTicks } from "./cost.ts";
import { Cpu, type CpuHost } from "./cpu.ts";
import { cpuid } from "./cpuid.ts";
import { specialize } from "./exec/fast.ts";
import { HANDLERS } from "./exec/index.ts";
import { runCpu, type Stop } from "./exec/run.ts";
import {
  allocNear,
  type HostAgentYield,
  type HostCallInfo,
  type HostIpi,
  HostSide,
  type HostTrapHandler,
} from "./host.ts";
import { Memory } from "./memory.ts";
import { type CoreCpu, PreciseCore } from "./precise/core.ts";
import { FetchUnit } from "./precise/fetch.ts";
import { runPrecise } from "./precise/run-linux.ts";
import { XorShift } from "./precise/schedule.ts";
import { TrackedMemory } from "./precise/tracked-memory.ts";
import { K } from "./uop.ts";

/** Options of a {@link Machine}. */
export interface MachineOptions {
  /** Number of vCPUs (1-64). */
  cpus?: number;
  /** Guest memory limit in bytes (default 4 GiB). */
  memoryLimit?: number;
  /** Cost profile (default {@link DEFAULT_PROFILE}). */
  profile?: CostProfile;
  /**
   * Execution engine of the ordinary (non-precise) mode: `"fast"` (default) translates hot
   * blocks into JavaScript with the instruction semantics inline (exec/translate.ts);
   * `"interp"` runs them through the handlers (exec/block.ts). Architectural results,
   * instruction counts and modeled cycles are identical. Ignored in precise mode.
   */
  mode?: "fast" | "interp";
  /**
   * Precise mode (XMC-MODEL.md): fetch through per-CPU fetch units of `fetchBlock` bytes with a
   * `prefetch`-block queue, and check every instruction for hazards (`strict`: also
   * `unsynchronized`). Omit for the ordinary (fast) mode.
   */
  precise?: {
    fetchBlock?: number;
    prefetch?: number;
    strict?: boolean;
    /**
     * Adversarial fetch timing: before each instruction, prefetch one more block (within the
     * queue's bounds) with a probability drawn per run from this seed. Omit for lazy fetching.
     */
    fetchSeed?: number;
  };
}

/**
 * Kinds of scheduling events: 0 a thread loaded on a CPU, 1 a syscall (detail: its number),
 * 2 a signal delivered (detail: the signal), 3 a thread exited (detail: its exit code).
 */
export type EventKind = 0 | 1 | 2 | 3;

/**
 * The order of scheduling events — (cpu, tid, kind, detail) tuples — as a running FNV-1a hash
 * and a count, and optionally the full list. Two runs with the same seed give the same hash;
 * another seed gives another interleaving and (almost surely) another hash.
 */
export class EventLog {
  /** FNV-1a (32-bit) over every event's four numbers. */
  hash = 0x811c9dc5;
  /** Number of events. */
  count = 0;
  /** When set (an array), every event is also appended as [cpu, tid, kind, detail]. */
  keep: [number, number, EventKind, number][] | undefined;

  /** Record one event. */
  record(cpu: number, tid: number, kind: EventKind, detail: number): void {
    let h = this.hash;
    h = Math.imul(h ^ cpu, 0x01000193);
    h = Math.imul(h ^ tid, 0x01000193);
    h = Math.imul(h ^ kind, 0x01000193);
    h = Math.imul(h ^ (detail | 0), 0x01000193);
    this.hash = h >>> 0;
    this.count++;
    if (this.keep) this.keep.push([cpu, tid, kind, detail]);
  }

  /** The hash as 8 hex digits. */
  hex(): string {
    return this.hash.toString(16).padStart(8, "0");
  }
}

/** Instructions a block runs before fast mode translates it (the threshold doubles as in block.ts). */
export const FAST_JIT_THRESHOLD = 20_000;

/**
 * The default engine: `XMC_SIM_MODE` (`fast` or `interp`) when set in the environment (the test
 * suite runs in both), else fast.
 */
function defaultMode(): "fast" | "interp" {
  const env = typeof process !== "undefined" ? process.env.XMC_SIM_MODE : undefined;
  return env === "interp" ? "interp" : "fast";
}

/** Memory, vCPUs and the code cache. */
export class Machine {
  readonly mem: Memory;
  readonly cpus: Cpu[];
  readonly cache: CodeCacheT;
  readonly profile: CostProfile;
  /** The engine of the ordinary mode (see {@link MachineOptions.mode}). */
  readonly mode: "fast" | "interp";
  /** Scheduling events of the OS layer (determinism checks). */
  readonly events: EventLog = new EventLog();
  /** The privileged side: trap handlers, host calls, IPIs, the patching agent. */
  readonly hostSide: HostSide;
  /** Precise mode's shared core (hazards are in `precise.hazards`), when enabled. */
  readonly precise: PreciseCore | undefined;
  private readonly coreCpus: CoreCpu[] = [];
  private fetchRng: (() => boolean) | undefined;

  constructor(opts: MachineOptions = {}) {
    const n = opts.cpus ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`cpus must be 1-64, not ${n}`);
    this.profile = opts.profile ?? DEFAULT_PROFILE;
    this.mem = opts.precise ? new TrackedMemory(opts.memoryLimit) : new Memory(opts.memoryLimit);
    const profile = this.profile;
    const costs = new Map<number, number>();
    this.cache = new CodeCache(this.mem, {
      handler: (_form, name) => HANDLERS[name],
      // The cost depends on the form and these operand facts only: computed once per shape.
      cost: (u, name) => {
        const key =
          ((((u.form * 2 + (u.lock ? 1 : 0)) * 16 + u.k0) * 16 + u.k1) * 2 + (u.k2 === K.Mem ? 1 : 0)) * 2 +
          (u.osize === 8 ? 1 : 0);
        let v = costs.get(key);
        if (v === undefined) {
          v = toTicks(classify(u, name, profile));
          costs.set(key, v);
        }
        return v;
      },
      specialize,
    });
    this.mode = opts.mode ?? defaultMode();
    if (this.mode === "fast") {
      this.cache.translate = true;
      this.cache.jitThreshold = FAST_JIT_THRESHOLD;
      this.cache.jitNext = FAST_JIT_THRESHOLD;
    }
    this.hostSide = new HostSide(n);
    this.cpus = [];
    for (let i = 0; i < n; i++) {
      const c = new Cpu(i, this.mem);
      c.takenTicks = takenTicks(profile);
      this.cpus.push(c);
    }
    if (opts.precise) {
      const mem = this.mem as TrackedMemory;
      let step = 0;
      this.precise = new PreciseCore(mem, opts.precise.strict ?? false, profile, () => step++);
      if (opts.precise.fetchSeed !== undefined) {
        const rng = new XorShift(opts.precise.fetchSeed);
        const p = rng.next() / 4294967296; // this run's eagerness
        this.fetchRng = () => rng.next() / 4294967296 < p;
      }
      for (const c of this.cpus)
        this.coreCpus.push({
          cpu: c,
          fetch: new FetchUnit(mem, opts.precise.fetchBlock ?? 16, opts.precise.prefetch ?? 2),
          lastSerialize: 0,
          prevNext: -1,
          branched: false,
        });
    } else this.precise = undefined;
  }

  /**
   * Run CPU `c` for at most `budget` instructions (one scheduling quantum) in the machine's
   * mode. See {@link runCpu} for the result.
   */
  run(c: Cpu, budget: number): Stop {
    if (this.precise) return runPrecise(this.precise, this.coreCpus[c.id]!, budget, this.fetchRng);
    return runCpu(c, this.cache, budget);
  }

  /** Attach the OS layer: syscalls go to `syscall`; CPUID and VMCALL are answered by the machine. */
  attach(syscall: (c: Cpu) => void): void {
    const ncpus = this.cpus.length;
    const side = this.hostSide;
    const cost = this.profile.events.hostCall;
    const host: CpuHost = {
      syscall,
      cpuid: (c) => cpuid(c, ncpus),
      hostcall: (c) => {
        c.cycles += cost;
        return side.hostCall(c);
      },
    };
    for (const c of this.cpus) c.host = host;
  }

  // ---- the privileged side ------------------------------------------------------------------

  /** Register a host trap handler (before the trap becomes a guest signal). */
  onTrap(vector: "bp" | "db" | "ud" | "pf", handler: HostTrapHandler): void {
    this.hostSide.onTrap(vector, handler);
  }

  /** Register host call `id` (guest VMCALL with EAX = id). */
  onHostCall(id: number, fn: (info: HostCallInfo) => void): void {
    this.hostSide.onHostCall(id, fn);
  }

  /** Send an IPI; each target runs `handler` at its next instruction boundary. */
  sendIpi(handler: (cpu: Cpu) => void, targets?: number[]): HostIpi {
    return this.hostSide.sendIpi(handler, targets);
  }

  /** The sync_core IPI handler: serializes the CPU (precise mode: flushes its fetch queue). */
  readonly syncCore = (cpu: Cpu): void => {
    cpu.cycles += this.profile.events.syncCore;
    const p = this.coreCpus[cpu.id];
    if (this.precise && p) this.precise.serialize(p);
  };

  /** Take `c`'s pending IPIs (delivery and return flush the fetch queue; each is charged). */
  takeIpis(c: Cpu): void {
    const q = this.hostSide.pending[c.id]!;
    while (q.length > 0) {
      const ipi = q.shift()!;
      const p = this.coreCpus[c.id];
      if (p) p.fetch.flush();
      ipi.handler(c);
      if (p) p.fetch.flush();
      c.cycles += this.profile.events.ipi;
      ipi.acked++;
      this.hostSide.stats.ipis++;
    }
  }

  /**
   * Start the patching agent: `program` runs privileged steps interleaved with the CPUs in
   * modeled time, starting at time `at` (default: the earliest CPU's time).
   */
  setAgent(program: (m: Machine) => Generator<HostAgentYield, void, void>, at?: number): void {
    this.hostSide.setAgent(program(this), at ?? Math.min(...this.cpus.map((c) => c.cycles)));
  }

  /**
   * Stop-machine for an agent program: `yield* machine.stopMachine(body)` parks every CPU in
   * an IPI handler, runs `body` (privileged writes), then serializes and releases them.
   */
  *stopMachine(body: () => void): Generator<HostAgentYield, void, void> {
    const side = this.hostSide;
    const ipi = this.sendIpi((cpu) => {
      side.parked[cpu.id] = true;
    });
    yield { wait: () => ipi.acked >= ipi.targets.length, why: "stop-machine rendezvous" };
    body();
    for (let i = 0; i < this.cpus.length; i++) {
      side.parked[i] = false;
      const c = this.cpus[i]!;
      // Released together at the agent's time: the parked CPUs spun until then.
      if (c.cycles < side.agentTime) c.cycles = side.agentTime;
      this.syncCore(c);
    }
  }

  /** The OS layer's threads (set by LinuxProcess): each thread's RIP and stack pointer. */
  threadPoints: (() => { rip: number; rsp: number; running: boolean }[]) | undefined;

  /**
   * True when no thread's RIP and no return address on any thread's stack (the 64 KiB above its
   * stack pointer, or up to an unmapped page) lies in `ranges`: the condition optprobes and stub
   * freeing wait for (`yield { wait: () => machine.quiescent(r), why: "quiescence" }`).
   */
  quiescent(ranges: readonly { start: number; len: number }[]): boolean {
    const inside = (a: number) => ranges.some((r) => a >= r.start && a < r.start + r.len);
    const points =
      this.threadPoints?.() ?? this.cpus.map((c) => ({ rip: c.rip, rsp: c.reg64(4), running: true }));
    for (const t of points) {
      if (inside(t.rip)) return false;
      for (let a = t.rsp; a < t.rsp + 0x10000; a += 8) {
        let lo: number;
        try {
          lo = this.mem.read64(a);
        } catch {
          break;
        }
        if (inside((this.mem.hi >>> 0) * 4294967296 + (lo >>> 0))) return false;
      }
    }
    return true;
  }

  /** Allocate `size` bytes of executable memory within ±2 GiB of `near` (RX, page-aligned). */
  allocExec(near: number, size: number): number {
    return allocNear(this.mem, near, size);
  }

  /** Free executable memory: in precise mode, executing it afterwards is a `freed-text` hazard. */
  freeExec(start: number, len: number): void {
    this.precise?.freed.push({ start, len, time: (this.mem as TrackedMemory).now ?? 0 });
  }

  /** Declare that [start, start+len) is being replaced (precise mode's mid-instruction checks). */
  declarePatched(start: number, len: number): void {
    this.precise?.patched.push({ start, len, time: (this.mem as TrackedMemory).now ?? 0 });
  }

  /**
   * End the declarations of [start, start+len): its original instructions are back (e.g. an
   * optprobe's jump was removed and synced), so starts inside it are legitimate again.
   */
  endPatched(start: number, len: number): void {
    const now = (this.mem as TrackedMemory).now ?? 0;
    for (const r of this.precise?.patched ?? []) if (r.start === start && r.len === len) r.end ??= now;
  }

  /** A privileged write of `bytes` at `addr` (ignores W permission; logged as the agent's in precise mode). */
  writeText(addr: number, bytes: Uint8Array): void {
    if (this.mem instanceof TrackedMemory) this.mem.agentWrite(addr, bytes);
    else this.mem.writeBytes(addr, bytes);
  }
}
