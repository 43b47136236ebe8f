/**
 * The port of a program-running {@link Machine}: one object that satisfies, structurally, the
 * ports text-patch, markers and probes define (ARCHITECTURE.md: those packages never import
 * cpu-sim; cpu-sim does not import them either, it only has the same shape).
 *
 * The patching CPU is the machine's agent: its time is the agent's modeled time, each store is
 * one agent step, a sync is an IPI to every CPU whose handler serializes (`sync_core`), and
 * the agent moves on once every target has acknowledged. Traps (#BP, #DB) are offered to the
 * claimed handlers before they become guest signals; a handler that is a generator is run to
 * its end (the program machine delivers a trap within one instruction boundary).
 * @module
 */
import type { Cpu } from "./cpu.ts";
import type { HostAgentYield } from "./host.ts";
import type { Machine } from "./machine.ts";
import type { TrapResult } from "./precise/machine.ts";

/** A CPU as trap handlers and host calls see it: registers, flags, stack, time, memory. */
export interface PortCpu {
  /** CPU number. */
  readonly id: number;
  /** RIP (after an INT3: the byte after it). Setting it resumes there. */
  rip: number;
  /** RFLAGS (low 32 bits). */
  readonly flags: number;
  /** Modeled time of this CPU (cycles). */
  readonly cycles: number;
  /** A 64-bit register (0 RAX … 15 R15) as a number, exact below 2^53. */
  reg64(r: number): number;
  /** A 64-bit register as an unsigned BigInt. */
  reg64n(r: number): bigint;
  /** Set a 64-bit register. */
  setReg64(r: number, v: number): void;
  /** Set a 64-bit register from a BigInt (mod 2^64). */
  setReg64n(r: number, v: bigint): void;
  /** Replace RFLAGS. */
  setFlags(v: number): void;
  /** Push a 64-bit value on the stack (RSP -= 8). */
  push64(value: number): void;
  /** Pop a 64-bit value from the stack (RSP += 8). */
  pop64(): number;
  /** Charge `cycles` of host work (e.g. a probe handler's body) to this CPU's modeled time. */
  charge(cycles: number): void;
  /** The underlying simulator CPU (for callers that know the backend). */
  readonly raw: Cpu;
}

/** An INT3 / #DB trap as the port offers it. */
export interface PortTrap {
  /** #BP: the INT3 byte's address; #DB: RIP. */
  readonly address: number;
  readonly cpu: PortCpu;
}

/** A trap handler: decides at once, or is a generator (run to its end here). */
export type PortTrapHandler = (trap: PortTrap) => TrapResult | Generator<void, TrapResult, void>;

/** The patch-writer lock (text-patch's `WriterLock` shape). */
export interface PortLock {
  tryAcquire(owner: string): boolean;
  release(owner: string): void;
  readonly holder: string | undefined;
}

/** The program machine's port (see the module comment). */
export interface MachinePort {
  readonly cpus: number;
  readonly lock: PortLock;
  /** Stores made through {@link MachinePort.write}. */
  readonly stores: number;
  read(addr: number, len: number): Uint8Array;
  write(addr: number, bytes: Uint8Array): void;
  syncAll(): { readonly targets: number; done(): boolean; stallCycles(): number };
  stopMachine(): { parked(): boolean; release(): void; stallCycles(): number };
  othersQuiet(): boolean;
  serializeSelf(): void;
  claimInt3(h: PortTrapHandler): void;
  releaseInt3(h: PortTrapHandler): void;
  /** Offer single-step / debug traps (#DB) to `h` first. */
  claimDebug(h: PortTrapHandler): void;
  releaseDebug(h: PortTrapHandler): void;
  declarePatched(addr: number, len: number): void;
  /** End the declarations of [addr, addr+len) (the original instructions are back). */
  endPatched(addr: number, len: number): void;
  /** Cycles a probe handler's body costs by the machine's profile (`events.probeHandler`). */
  readonly probeHandlerCycles: number;
  /** Modeled time of the patching CPU (the agent). */
  cycles(): number;
  /** Executable memory within ±2 GiB of `near`. */
  allocExec(near: number, size: number): number;
  /** Free executable memory (executing it afterwards is a hazard in precise mode). */
  freeExec(addr: number, len: number): void;
  /** No thread's RIP or stacked return address lies in `ranges`. */
  quiescent(ranges: readonly { start: number; len: number }[]): boolean;
  /** Register host call `id` (guest VMCALL with EAX = id). */
  onHostCall(id: number, fn: (cpu: PortCpu) => void): void;
  /** Data access to guest memory by the host (semaphores, argument strings). */
  readMem(addr: number, len: number): Uint8Array;
  writeMem(addr: number, bytes: Uint8Array): void;
  /** The CPU currently running (for host code called from a probe), or undefined. */
  cpu(id: number): PortCpu;
  /**
   * Run `steps` as the patching agent starting at modeled time `at` (default: now); when an
   * agent is already running, it starts after that one ends (never before `at`). `done` gets
   * the steps' return value.
   */
  runAgent<T>(steps: Generator<HostAgentYield, T, void>, at?: number, done?: (value: T) => void): void;
}

function portCpu(c: Cpu): PortCpu {
  return {
    id: c.id,
    raw: c,
    get rip() {
      return c.rip;
    },
    set rip(v: number) {
      c.rip = v;
    },
    get flags() {
      return c.getFlags();
    },
    get cycles() {
      return c.cycles;
    },
    reg64: (r) => c.reg64(r),
    reg64n: (r) => c.reg64n(r),
    setReg64: (r, v) => c.setReg64(r, v),
    setReg64n: (r, v) => c.setReg64n(r, v),
    setFlags: (v) => c.setFlags(v),
    push64: (v) => c.push64(v),
    pop64: () => c.pop64(),
    charge(n: number) {
      c.cycles += n;
    },
  };
}

function finish(r: TrapResult | Generator<void, TrapResult, void>): TrapResult {
  if (typeof r === "string") return r;
  for (;;) {
    const s = r.next();
    if (s.done) return s.value;
  }
}

/**
 * The port of `m` (one per machine: it owns the writer lock and the trap claims). Costs follow
 * COST-MODEL.md: a store is one agent step; a sync's stall is IPI + sync_core per target.
 */
export function machinePort(m: Machine): MachinePort {
  const side = m.hostSide;
  const prof = m.profile.events;
  const cpus = m.cpus.map((c) => portCpu(c));
  const claims = { bp: [] as PortTrapHandler[], db: [] as PortTrapHandler[] };
  const offer = (list: PortTrapHandler[]) => (ctx: { cpu: Cpu; address: number }) => {
    for (const h of list) {
      const r = finish(h({ address: ctx.address, cpu: cpus[ctx.cpu.id]! }));
      if (r !== "declined") return r;
    }
    return "declined" as const;
  };
  m.onTrap("bp", offer(claims.bp));
  m.onTrap("db", offer(claims.db));
  let holder: string | undefined;
  let declared = new Set<string>();
  const port = {
    cpus: m.cpus.length,
    stores: 0,
    lock: {
      tryAcquire(owner: string): boolean {
        if (holder !== undefined) return false;
        holder = owner;
        return true;
      },
      release(owner: string): void {
        if (holder === owner) holder = undefined;
      },
      get holder() {
        return holder;
      },
    },
    read: (a: number, n: number) => m.mem.readBytes(a, n),
    write(a: number, b: Uint8Array): void {
      m.writeText(a, b);
      port.stores++;
    },
    syncAll() {
      // The patching CPU waits for the last acknowledgement: once every target has taken the
      // IPI, the agent's time moves to when the slowest one finished (IPI charged after the handler).
      let last = 0;
      const ipi = m.sendIpi((cpu) => {
        m.syncCore(cpu);
        last = Math.max(last, cpu.cycles + prof.ipi);
      });
      let seen = false;
      return {
        targets: ipi.targets.length,
        done: () => {
          const d = ipi.acked >= ipi.targets.length;
          if (d && !seen) {
            seen = true;
            if (side.agentTime < last) side.agentTime = last;
          }
          return d;
        },
        stallCycles: () => ipi.targets.length * (prof.ipi + prof.syncCore),
      };
    },
    stopMachine() {
      let last = 0;
      const ipi = m.sendIpi((cpu) => {
        side.parked[cpu.id] = true;
        last = Math.max(last, cpu.cycles + prof.ipi);
      });
      let stall = 0;
      return {
        parked: () => {
          const d = ipi.acked >= ipi.targets.length;
          // The rendezvous completes when the last CPU is parked.
          if (d && side.agentTime < last) side.agentTime = last;
          return d;
        },
        release(): void {
          for (let i = 0; i < m.cpus.length; i++) {
            side.parked[i] = false;
            const c = m.cpus[i]!;
            // Parked CPUs spun until the agent released them.
            if (c.cycles < side.agentTime) {
              stall += side.agentTime - c.cycles;
              c.cycles = side.agentTime;
            }
            m.syncCore(c);
          }
        },
        stallCycles: () => stall + ipi.targets.length * (prof.ipi + prof.syncCore),
      };
    },
    othersQuiet: () => false,
    serializeSelf(): void {
      side.agentTime += prof.syncCore;
    },
    claimInt3: (h: PortTrapHandler) => void claims.bp.push(h),
    releaseInt3(h: PortTrapHandler): void {
      const i = claims.bp.indexOf(h);
      if (i >= 0) claims.bp.splice(i, 1);
    },
    claimDebug: (h: PortTrapHandler) => void claims.db.push(h),
    releaseDebug(h: PortTrapHandler): void {
      const i = claims.db.indexOf(h);
      if (i >= 0) claims.db.splice(i, 1);
    },
    declarePatched(a: number, n: number): void {
      // Once per range and patch run (the precise core keeps a list; repeats only slow it).
      const k = `${a}+${n}`;
      if (declared.has(k)) return;
      declared.add(k);
      m.declarePatched(a, n);
    },
    endPatched(a: number, n: number): void {
      declared.delete(`${a}+${n}`);
      m.endPatched(a, n);
    },
    probeHandlerCycles: prof.probeHandler,
    cycles: () => side.agentTime,
    allocExec: (near: number, size: number) => m.allocExec(near, size),
    freeExec: (a: number, n: number) => m.freeExec(a, n),
    quiescent: (r: readonly { start: number; len: number }[]) => m.quiescent(r),
    onHostCall(id: number, fn: (cpu: PortCpu) => void): void {
      m.onHostCall(id, ({ cpu }) => fn(cpus[cpu.id]!));
    },
    readMem: (a: number, n: number) => m.mem.readBytes(a, n),
    writeMem: (a: number, b: Uint8Array) => m.mem.writeBytes(a, b),
    cpu: (id: number) => cpus[id]!,
    runAgent<T>(steps: Generator<HostAgentYield, T, void>, at?: number, done?: (value: T) => void): void {
      const now = Math.min(...m.cpus.map((c) => c.cycles));
      side.queueAgent(
        (function* () {
          declared = new Set();
          const v = yield* steps;
          done?.(v);
        })(),
        Math.max(now, at ?? 0),
      );
    },
  };
  return port;
}
