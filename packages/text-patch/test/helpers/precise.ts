/**
 * The adapter that makes cpu-sim's `PreciseMachine` satisfy text-patch's port, and the
 * checking scenarios: N CPUs looping through patch sites (NOP5 <-> JMP32, NOP5 <-> CALL32,
 * NOP2 <-> JMP8, Jcc32 condition changes, the jmp2 marker) while the patching CPU patches them
 * forward and back. Each site's old path counts in RAX and its new path in RBX, so that every
 * CPU's RAX + RBX is the same with or without patching, whichever paths it took.
 *
 * The checks run from cpu-sim's built bundle (schedule exploration is hot code; the bundle is
 * several times faster than transformed sources), as cpu-sim's own litmus tests do.
 */
import { join } from "node:path";
import type * as Sim from "@xmc/cpu-sim";
import {
  decode,
  encodeCall32,
  encodeJcc32,
  encodeJmp8,
  encodeJmp32,
  encodeNop,
  formatAtt,
  Instruction,
} from "@xmc/x86-decode";
import {
  type CheckScenario,
  createWriterLock,
  type HazardReport,
  type Int3Handler,
  type PatchSite,
  type PatchSteps,
  type ScenarioInstance,
  type ScheduleChooser,
  type StopHandle,
  type SyncHandle,
  type TextPort,
  type TrapCpu,
} from "../../src/index.ts";
import { Emitter } from "./asm.ts";

/** cpu-sim, loaded from its bundle. */
export async function loadSim(): Promise<typeof Sim> {
  return (await import(
    join(import.meta.dirname, "../../node_modules/@xmc/cpu-sim/dist/index.js")
  )) as typeof Sim;
}

/** A port over a PreciseMachine, with the adapter's own bookkeeping. */
export interface PrecisePort extends TextPort {
  /** Stores made through the port. */
  writes: number;
  /** Modeled time of the patching CPU (cycles); the bench's scheduler reads it. */
  clock: number;
}

const STACK = (i: number): number => 0x7000000 + i * 0x100000;

/**
 * Make `m` satisfy {@link TextPort}. The patching CPU is the machine's agent: each store costs
 * one cycle (COST-MODEL.md: store 1); after a sync or a rendezvous its clock moves to the last
 * acknowledgement (the time the slowest CPU finished the IPI).
 */
export function precisePort(m: Sim.PreciseMachine): PrecisePort {
  const prof = m.profile.events;
  const declared = new Set<string>();
  const parkedBefore = new Set<number>();
  const claims: { h: Int3Handler; live: boolean }[] = [];
  const trapCpu = (c: Sim.Cpu): TrapCpu => ({
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
    push64(v: number) {
      const sp = c.reg64(4) - 8;
      m.mem.write64(sp, v | 0, Math.floor(v / 4294967296));
      c.setReg64(4, sp);
    },
    pop64() {
      const sp = c.reg64(4);
      const lo = m.mem.read64(sp);
      c.setReg64(4, sp + 8);
      return (m.mem.hi >>> 0) * 4294967296 + (lo >>> 0);
    },
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
      // Park: the IPI handler takes the CPU off the run list (PreciseMachine.idle) and
      // remembers where it was; release puts it back (start with the saved RIP, then the saved
      // RSP), serialized, at the patching CPU's time (it spun until then).
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
              m.start(i, s.rip, STACK(i));
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

/** Site kinds: the pair of instructions a site is patched between. */
export type SiteKind = "nop5-jmp32" | "nop5-call32" | "nop2-jmp8" | "jcc32" | "jmp2";

/** Options of a generated scenario. */
export interface ScenarioOptions {
  cpus: number;
  /** Kinds of the sites, one per site. */
  kinds: SiteKind[];
  /** Passes each CPU makes through all sites (default 2). */
  iterations?: number;
  strict?: boolean;
  ipiInTrap?: boolean;
  fetchBlock?: number;
  prefetch?: number;
  /** Offset of each site within its 16-byte fetch block (default: sites straddle a block boundary). */
  siteOffset?: (i: number, kind: SiteKind) => number;
  /** Only patch forward (no second batch back). */
  forwardOnly?: boolean;
  maxSteps?: number;
  /** The sim bundle. */
  sim: typeof Sim;
}

/** A scenario, with its code and site addresses for inspection. */
export interface BuiltScenario extends CheckScenario {
  readonly code: Uint8Array;
  readonly base: number;
  readonly sites: PatchSite[];
  /** Boot a fresh machine, with its port (for tests that drive it by hand). */
  bootMachine(): { m: Sim.PreciseMachine; port: PrecisePort };
}

const BASE = 0x10000;

function pair(kind: SiteKind, site: number, target: number, fn: number): [Uint8Array, Uint8Array] {
  switch (kind) {
    case "nop5-jmp32":
      return [encodeNop(5), encodeJmp32(site, target)];
    case "nop5-call32":
      return [encodeNop(5), encodeCall32(site, fn)];
    case "nop2-jmp8":
      return [encodeNop(2), encodeJmp8(site, target)];
    case "jcc32":
      return [encodeJcc32("e", site, target), encodeJcc32("ne", site, target)];
    case "jmp2":
      return [Uint8Array.of(0xeb, 0x03, 0x0f, 0x1f, 0x00), encodeJmp32(site, target)];
  }
}

function defaultOffset(_i: number, kind: SiteKind): number {
  // Straddle a fetch-block boundary (16-byte blocks), the hardest placement: for NOP2/JMP8 and
  // Jcc32 (whose condition change rewrites only byte 1) the first byte alone in its block.
  return kind === "nop2-jmp8" || kind === "jcc32" ? 15 : 14;
}

/** Build a scenario: code, sites and batches (forward, then back). */
export function buildScenario(name: string, o: ScenarioOptions): BuiltScenario {
  const iterations = o.iterations ?? 2;
  const off = o.siteOffset ?? defaultOffset;
  const e = new Emitter(BASE);
  e.label("start");
  e.emit(0xb9, iterations & 0xff, (iterations >> 8) & 0xff, 0, 0); // mov $iterations, %ecx
  e.emit(0x31, 0xc0); // xor %eax, %eax
  e.emit(0x31, 0xdb); // xor %ebx, %ebx
  const n = o.kinds.length;
  o.kinds.forEach((kind, i) => {
    const pre = kind === "jcc32" ? 3 : 0;
    e.alignTo(16, (off(i, kind) - pre + 16) % 16, encodeNop);
    e.label(`blk${i}`);
    if (kind === "jcc32") e.emit(0xf6, 0xc1, 0x01); // test $1, %cl
    e.label(`site${i}`);
    const len = kind === "nop2-jmp8" ? 2 : kind === "jcc32" ? 6 : 5;
    if (kind === "jcc32") e.rel32([0x0f, 0x84], `new${i}`);
    else if (kind === "jmp2") e.emit(0xeb, 0x03, 0x0f, 0x1f, 0x00);
    else e.emit(encodeNop(len));
    e.emit(0xff, 0xc0); // inc %eax
    e.rel32([0xe9], `blk${i + 1}`);
    e.label(`new${i}`);
    e.emit(0xff, 0xc3); // inc %ebx
    e.rel32([0xe9], `blk${i + 1}`);
    e.label(`fn${i}`);
    e.emit(0xff, 0xc3, 0xff, 0xc8, 0xc3); // inc %ebx; dec %eax; ret
  });
  e.alignTo(16, 0, encodeNop);
  e.label(`blk${n}`);
  e.emit(0xff, 0xc9); // dec %ecx
  e.rel32([0x0f, 0x85], "blk0"); // jnz blk0
  e.emit(0xf4); // hlt
  const code = e.finish();
  const sites: PatchSite[] = o.kinds.map((kind, i) => {
    const site = e.addr(`site${i}`);
    const [a, b] = pair(kind, site, e.addr(`new${i}`), e.addr(`fn${i}`));
    return { addr: site, from: e.addr(`blk${i}`), old: a, new: b };
  });
  const back = sites.map((s) => ({ ...s, old: s.new, new: s.old }));
  const sim = o.sim;
  const bootMachine = () => {
    const m = new sim.PreciseMachine({
      cpus: o.cpus,
      strict: o.strict ?? true,
      ipiInTrap: o.ipiInTrap ?? false,
      ...(o.fetchBlock !== undefined ? { fetchBlock: o.fetchBlock } : {}),
      ...(o.prefetch !== undefined ? { prefetch: o.prefetch } : {}),
    });
    m.load(BASE, code, sim.Perm.RX);
    for (let i = 0; i < o.cpus; i++) m.start(i, BASE, STACK(i));
    return { m, port: precisePort(m) };
  };
  const boot = (): ScenarioInstance => {
    const { m, port } = bootMachine();
    return {
      port,
      run(agent: PatchSteps<unknown> | undefined, schedule: ScheduleChooser, maxSteps: number) {
        if (agent) m.setAgent(() => agent as PatchSteps<void>);
        const completed = m.run(schedule as Sim.PreciseScheduler, maxSteps);
        const ends = m.ends();
        const outcome = m.cpus.map((c, i) => `cpu${i}=${c.reg64(0) + c.reg64(3)}:${ends[i]}`).join(" ");
        return { completed, hazards: m.hazards, outcome, choices: m.choices };
      },
      describe: (h: HazardReport) => sim.describeHazard(h as Sim.Hazard),
    };
  };
  return {
    name,
    cpus: o.cpus,
    batches: o.forwardOnly ? [sites] : [sites, back],
    boot,
    bootMachine,
    maxSteps: o.maxSteps ?? 200_000,
    code,
    base: BASE,
    sites,
  };
}

/** Disassemble `code` at `base` (for messages and the emitter's own test). */
export function disassemble(code: Uint8Array, base: number): string[] {
  const out: string[] = [];
  const insn = new Instruction();
  for (let at = 0; at < code.length; ) {
    const n = decode(code, at, base + at, 64, insn);
    if (n === 0) throw new Error(`undecodable at 0x${(base + at).toString(16)}`);
    out.push(`${(base + at).toString(16)}: ${formatAtt(insn)}`);
    at += n;
  }
  return out;
}
