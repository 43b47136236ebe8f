/**
 * The {@link TextPort} of a machine shaped like cpu-sim's `PreciseMachine`, and checking
 * scenarios on such machines. text-patch does not import the simulator: {@link CheckMachine}
 * is the small interface it needs from one (the machine satisfies it structurally, as
 * ARCHITECTURE.md asks of every port), and whoever wires the two together (the `xmc` app, this
 * package's tests) passes a factory that boots one.
 *
 * Costs: the patching CPU is the machine's agent; each store costs one cycle (COST-MODEL.md:
 * store 1); after a sync or a rendezvous its clock moves to the last acknowledgement (the time
 * the slowest CPU finished the IPI).
 * @module
 */
import type { CheckScenario, HazardReport, ScenarioInstance, ScheduleChooser } from "./check.ts";
import {
  createWriterLock,
  type Int3Handler,
  type PatchSteps,
  type StopHandle,
  type SyncHandle,
  type TextPort,
  type TrapCpu,
  type TrapOutcome,
} from "./port.ts";
import { type ScenarioProgram, scenarioStack } from "./scenarios.ts";

/** A vCPU as {@link CheckMachine} exposes it. */
export interface CheckMachineCpu {
  readonly id: number;
  rip: number;
  /** Modeled time, cycles. */
  cycles: number;
  getFlags(): number;
  /** 64-bit register `r` (0 RAX … 15 R15) as a number (exact below 2^53). */
  reg64(r: number): number;
  setReg64(r: number, v: number): void;
  /** Push / pop a 64-bit value on the CPU's stack as host code does (RSP -= 8 / += 8). */
  push64(v: number): void;
  pop64(): number;
}

/** What {@link precisePort} and {@link preciseScenario} need from a machine (cpu-sim's `PreciseMachine` has it). */
export interface CheckMachine {
  readonly cpus: readonly CheckMachineCpu[];
  /** Guest memory: 64-bit accesses as two halves (`read64` returns the low half, `hi` the high). */
  readonly mem: {
    read64(addr: number): number;
    write64(addr: number, lo: number, hi: number): void;
    readonly hi: number;
  };
  /** Event costs in cycles. */
  readonly profile: { readonly events: { readonly ipi: number; readonly syncCore: number } };
  /** Hazards found so far. */
  readonly hazards: readonly HazardReport[];
  /** The scheduler's choices so far. */
  readonly choices: readonly number[];
  read(addr: number, len: number): Uint8Array;
  /** One store of the agent (ignores write protection). */
  write(addr: number, bytes: Uint8Array): void;
  /** IPI to every CPU: each runs `handler` at its next instruction boundary. */
  sendIpi(handler: (cpu: CheckMachineCpu) => void): {
    readonly targets: readonly number[];
    readonly acked: number;
  };
  /** Serialize `cpu` (flush its fetch queue) and charge sync_core. */
  syncCore(cpu: CheckMachineCpu): void;
  onTrap(
    vector: "bp",
    handler: (ctx: {
      readonly address: number;
      readonly cpu: CheckMachineCpu;
    }) => TrapOutcome | Generator<void, TrapOutcome, void>,
  ): void;
  declarePatched(addr: number, len: number): void;
  /** How each CPU ended: "" while running, "idle" when parked, else e.g. "hlt" or a signal. */
  ends(): string[];
  idle(id: number): void;
  start(id: number, rip: number, stackTop: number): void;
  setAgent(program: () => PatchSteps<void>): void;
  /** Run to the end or `maxSteps`; false when cut. */
  run(schedule: ScheduleChooser, maxSteps: number): boolean;
}

/** A port over a {@link CheckMachine}, with the adapter's own bookkeeping. */
export interface PrecisePort extends TextPort {
  /** Stores made through the port. */
  writes: number;
  /** Modeled time of the patching CPU (cycles). */
  clock: number;
}

/**
 * Make `m` satisfy {@link TextPort}. `stackTop(i)` is CPU i's stack (stop-machine restarts a
 * parked CPU with it, then restores the saved RSP); default {@link scenarioStack}.
 */
export function precisePort(m: CheckMachine, stackTop: (i: number) => number = scenarioStack): PrecisePort {
  const prof = m.profile.events;
  const declared = new Set<string>();
  const parkedBefore = new Set<number>();
  const claims: { h: Int3Handler; live: boolean }[] = [];
  const trapCpu = (c: CheckMachineCpu): TrapCpu => ({
    id: c.id,
    get rip() {
      return c.rip;
    },
    set rip(v: number) {
      c.rip = v;
    },
    get flags() {
      return c.getFlags();
    },
    push64: (v: number) => c.push64(v),
    pop64: () => c.pop64(),
  });
  const port: PrecisePort = {
    cpus: m.cpus.length,
    writes: 0,
    clock: 0,
    lock: createWriterLock(),
    read: (a, n) => m.read(a, n),
    write(a, b) {
      m.write(a, b);
      port.writes++;
      port.clock += 1;
    },
    syncAll(): SyncHandle {
      let last = 0;
      const b = m.sendIpi((cpu) => {
        m.syncCore(cpu);
        // The machine charges the IPI after the handler: the CPU is done at this time.
        last = Math.max(last, cpu.cycles + prof.ipi);
      });
      let seen = false;
      return {
        targets: b.targets.length,
        done() {
          const d = b.acked >= b.targets.length;
          if (d && !seen) {
            seen = true;
            port.clock = Math.max(port.clock, last);
          }
          return d;
        },
        stallCycles: () => b.targets.length * (prof.ipi + prof.syncCore),
      };
    },
    claimInt3(h) {
      const c = { h, live: true };
      claims.push(c);
      m.onTrap("bp", (ctx) => (c.live ? h({ address: ctx.address, cpu: trapCpu(ctx.cpu) }) : "declined"));
    },
    releaseInt3(h) {
      for (const c of claims) if (c.h === h) c.live = false;
    },
    declarePatched(a, n) {
      const k = `${a}+${n}`;
      if (declared.has(k)) return;
      declared.add(k);
      m.declarePatched(a, n);
    },
    cycles: () => port.clock,
    othersQuiet: () => m.ends().every((e) => e !== ""),
    stopMachine(): StopHandle {
      // Park: the IPI handler takes the CPU off the run list (idle) and remembers where it
      // was; release puts it back (start with the saved RIP, then the saved RSP), serialized,
      // at the patching CPU's time (it spun until then).
      const n = m.cpus.length;
      const saved: ({ rip: number; rsp: number } | undefined)[] = new Array(n).fill(undefined);
      const parkedAt = new Array<number>(n).fill(0);
      let stall = 0;
      const b = m.sendIpi((cpu) => {
        parkedAt[cpu.id] = cpu.cycles + prof.ipi;
        // Running: never ended, or idle only because an earlier stop-machine parked it.
        const e = m.ends()[cpu.id];
        if (e === "" || (e === "idle" && parkedBefore.has(cpu.id))) {
          parkedBefore.add(cpu.id);
          saved[cpu.id] = { rip: cpu.rip, rsp: cpu.reg64(4) };
          m.idle(cpu.id);
        }
      });
      let seen = false;
      return {
        parked() {
          const d = b.acked >= b.targets.length;
          if (d && !seen) {
            seen = true;
            port.clock = Math.max(port.clock, ...parkedAt);
          }
          return d;
        },
        release() {
          for (let i = 0; i < n; i++) {
            const c = m.cpus[i]!;
            const s = saved[i];
            if (s) {
              m.start(i, s.rip, stackTop(i));
              c.setReg64(4, s.rsp);
            }
            stall += prof.ipi + Math.max(0, port.clock - parkedAt[i]!) + prof.syncCore;
            if (c.cycles < port.clock) c.cycles = port.clock;
            m.syncCore(c);
          }
          port.clock += prof.syncCore;
        },
        stallCycles: () => stall,
      };
    },
  };
  return port;
}

/** Options of {@link preciseScenario}. */
export interface PreciseScenarioOptions<M extends CheckMachine> {
  /** CPUs running the program. */
  cpus: number;
  /** A fresh machine with `cpus` CPUs and `program.code` loaded executable at `program.base`. */
  boot: (program: ScenarioProgram) => M;
  /** A readable hazard description (cpu-sim's `describeHazard`). */
  describe?: (h: HazardReport) => string;
  /** Step bound per run (default 200,000). */
  maxSteps?: number;
}

/** A {@link CheckScenario} on a {@link CheckMachine}, with its program for inspection. */
export interface PreciseScenario<M extends CheckMachine> extends CheckScenario {
  readonly program: ScenarioProgram;
  /** Boot a fresh machine, every CPU started, with its port (for tests that drive it by hand). */
  bootMachine(): { m: M; port: PrecisePort };
}

/**
 * A checking scenario: every CPU starts at the program's base with its own stack; a run's
 * outcome is `cpuI=RAX+RBX:how-it-ended` for each CPU, the same with or without patching.
 */
export function preciseScenario<M extends CheckMachine>(
  name: string,
  program: ScenarioProgram,
  o: PreciseScenarioOptions<M>,
): PreciseScenario<M> {
  const bootMachine = () => {
    const m = o.boot(program);
    for (let i = 0; i < o.cpus; i++) m.start(i, program.base, scenarioStack(i));
    return { m, port: precisePort(m) };
  };
  const boot = (): ScenarioInstance => {
    const { m, port } = bootMachine();
    const inst: ScenarioInstance = {
      port,
      run(agent: PatchSteps<unknown> | undefined, schedule: ScheduleChooser, maxSteps: number) {
        // SAFETY: the checker's agents return nothing the machine reads.
        if (agent) m.setAgent(() => agent as PatchSteps<void>);
        const completed = m.run(schedule, maxSteps);
        const ends = m.ends();
        const outcome = m.cpus.map((c, i) => `cpu${i}=${c.reg64(0) + c.reg64(3)}:${ends[i]}`).join(" ");
        // A fresh machine per run: its choices are not reused.
        return { completed, hazards: m.hazards, outcome, choices: m.choices };
      },
      ...(o.describe ? { describe: o.describe } : {}),
    };
    return inst;
  };
  return {
    name,
    cpus: o.cpus,
    batches: program.batches,
    boot,
    bootMachine,
    maxSteps: o.maxSteps ?? 200_000,
    program,
  };
}
