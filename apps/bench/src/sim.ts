/**
 * Running a fixture program on cpu-sim's machine (the built bundles, as users run them) with
 * a markers registry attached through `machinePort`, and the paths of the fixtures this app
 * reads from other packages.
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LinuxProcess, Machine, machinePort } from "@xmc/cpu-sim";
import { type ElfFile, parseElf } from "@xmc/elf";
import { discoverSites, Markers } from "@xmc/markers";

/** The repository root. */
export const ROOT: string = join(import.meta.dirname, "../../..");
/** packages/markers' hot-path fixtures (hot.c in every variant). */
export const MARKER_BIN: string = join(ROOT, "packages/markers/test/fixtures/bin");
/** This app's fixtures (cuts.c). */
export const BENCH_BIN: string = join(ROOT, "apps/bench/fixtures/bin");

const programs = new Map<string, { bytes: Uint8Array; elf: ElfFile; symbols: Map<string, number> }>();

/** A program's bytes, ELF and symbol addresses (cached). */
export function program(path: string): { bytes: Uint8Array; elf: ElfFile; symbols: Map<string, number> } {
  let p = programs.get(path);
  if (!p) {
    const bytes = new Uint8Array(readFileSync(path));
    const elf = parseElf(bytes);
    const symbols = new Map<string, number>();
    for (const s of elf.symbols()) if (s.name !== "" && s.value !== 0n) symbols.set(s.name, Number(s.value));
    p = { bytes, elf, symbols };
    programs.set(path, p);
  }
  return p;
}

/** A program loaded on a machine, with a markers registry (nothing armed). */
export interface SimRun {
  readonly machine: Machine;
  readonly port: ReturnType<typeof machinePort>;
  readonly markers: Markers;
  readonly elf: ElfFile;
  /** Run to the end: guest output, and instructions and modeled cycles summed over CPUs. */
  run(): { out: string; instructions: number; cycles: number };
}

/**
 * Load `path` on a fresh machine with `cpus` CPUs and argv `[argv0, ...args]`. argv0 is the
 * same for every build of a fixture: its length is visible to the startup code.
 */
export function load(path: string, argv0: string, args: readonly string[], cpus = 1): SimRun {
  const p = program(path);
  const machine = new Machine({ cpus });
  let out = "";
  const sink = (d: Uint8Array): void => {
    out += Buffer.from(d).toString();
  };
  const proc = new LinuxProcess(machine, p.bytes, {
    argv: [argv0, ...args],
    seed: 1,
    stdout: sink,
    stderr: sink,
  });
  const port = machinePort(machine);
  const markers = new Markers(port, discoverSites(p.elf), { symbols: p.symbols });
  return {
    machine,
    port,
    markers,
    elf: p.elf,
    run() {
      const r = proc.run();
      if (r.signal) throw new Error(`${path}: ${r.report ?? `signal ${r.signal}`}`);
      let instructions = 0;
      let cycles = 0;
      for (const c of machine.cpus) {
        instructions += c.instructions;
        cycles += c.cycles;
      }
      return { out, instructions, cycles };
    },
  };
}
