/**
 * Running a fixture program on cpu-sim's machine with a Probes registry attached (tests and
 * benches only: the package itself never imports cpu-sim). `machinePort(machine)` satisfies
 * `ProbePort` structurally.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LinuxProcess, Machine, type MachineOptions, machinePort } from "@xmc/cpu-sim";
import { type ElfFile, parseElf, STT } from "@xmc/elf";
import { type ProbePort, type ProbeSteps, Probes, type ProbesOptions } from "../../src/index.ts";

/** Our own fixtures and the ones of markers and cpu-sim. */
export const BINS: Record<string, string> = {
  work: join(import.meta.dirname, "../fixtures/bin/work"),
  shop: join(import.meta.dirname, "../../../markers/test/fixtures/bin/shop"),
  "hot-nop5": join(import.meta.dirname, "../../../markers/test/fixtures/bin/hot-nop5"),
  intwork: join(import.meta.dirname, "../fixtures/bin/intwork"),
  qsortstr: join(import.meta.dirname, "../fixtures/bin/qsortstr"),
  threads: join(import.meta.dirname, "../../../cpu-sim/test/fixtures/bin/threads"),
};

const cache = new Map<string, { bytes: Uint8Array; elf: ElfFile }>();

/** The program's bytes and parsed ELF. */
export function program(name: string): { bytes: Uint8Array; elf: ElfFile } {
  let p = cache.get(name);
  if (!p) {
    const bytes = new Uint8Array(readFileSync(BINS[name] ?? name));
    p = { bytes, elf: parseElf(bytes) };
    cache.set(name, p);
  }
  return p;
}

/** Function symbols of a program: name → [start, size]. */
export function functions(name: string): Map<string, { start: number; size: number }> {
  const out = new Map<string, { start: number; size: number }>();
  for (const s of program(name).elf.symbols())
    if (s.type === STT.FUNC && s.value !== 0n && s.size > 0 && !out.has(s.name))
      out.set(s.name, { start: Number(s.value), size: Number(s.size) });
  return out;
}

export interface Session {
  readonly machine: Machine;
  readonly proc: LinuxProcess;
  readonly probes: Probes;
  readonly port: ReturnType<typeof machinePort>;
  /** Run `steps` as the patching agent from modeled time `at` (default: now). */
  agent(steps: ProbeSteps, at?: number): void;
  /** Run to the end: guest output, exit status, instructions, cycles. */
  run(): { out: string; code: number; instructions: number; cycles: number };
}

export interface SessionOptions {
  cpus?: number;
  seed?: number;
  precise?: MachineOptions["precise"];
  argv?: string[];
  probes?: Omit<ProbesOptions, "elf">;
  /** Blocks off: every instruction's execution count is in its uop's `heat` (the reference). */
  countInstructions?: boolean;
}

/** A machine running `name` with a Probes registry on it (nothing registered yet). */
export function session(name: string, opts: SessionOptions = {}): Session {
  const p = program(name);
  const machine = new Machine({ cpus: opts.cpus ?? 4, ...(opts.precise ? { precise: opts.precise } : {}) });
  if (opts.countInstructions) machine.cache.blockThreshold = 0;
  let out = "";
  const proc = new LinuxProcess(machine, p.bytes, {
    argv: [name, ...(opts.argv ?? [])],
    seed: opts.seed ?? 1,
    stdout: (d) => {
      out += Buffer.from(d).toString();
    },
    stderr: (d) => {
      out += Buffer.from(d).toString();
    },
  });
  const port = machinePort(machine);
  // SAFETY: the structural check below is what the issue asks of cpu-sim's port.
  const probePort: ProbePort = port;
  const probes = new Probes(probePort, { elf: p.elf, ...opts.probes });
  return {
    machine,
    proc,
    probes,
    port,
    agent(steps, at) {
      port.runAgent(steps, at);
    },
    run() {
      const r = proc.run();
      const instructions = machine.cpus.reduce((a, c) => a + c.instructions, 0);
      const cycles = machine.cpus.reduce((a, c) => a + c.cycles, 0);
      return { out, code: r.code, instructions, cycles };
    },
  };
}

/** Executions of the instruction at `addr` in a run made with `countInstructions`. */
export function executions(s: Session, addr: number): number {
  return s.machine.cache.peek(addr)?.heat ?? 0;
}

/** "key value key value" counters of a line of output. */
export function counters(out: string): Record<string, bigint[]> {
  const r: Record<string, bigint[]> = {};
  for (const line of out.trim().split("\n")) {
    const [k, ...v] = line.split(" ");
    r[k!] = v.filter((x) => /^-?\d+$/.test(x)).map((x) => BigInt(x));
  }
  return r;
}
