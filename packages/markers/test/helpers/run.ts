/**
 * Running a fixture program on cpu-sim's machine with markers attached (tests only: the
 * package itself never imports cpu-sim). `machinePort(machine)` satisfies `MarkerPort`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LinuxProcess, Machine, type MachineOptions, machinePort } from "@xmc/cpu-sim";
import { parseElf } from "@xmc/elf";
import { discoverSites, type MarkerSite, Markers, type MarkersOptions } from "../../src/index.ts";

export const BIN: string = join(import.meta.dirname, "../fixtures/bin");

/** The program's bytes, its sites and its symbol map. */
export function program(name: string): {
  bytes: Uint8Array;
  sites: MarkerSite[];
  symbols: Map<string, number>;
} {
  const bytes = new Uint8Array(readFileSync(join(BIN, name)));
  const elf = parseElf(bytes);
  const symbols = new Map<string, number>();
  for (const s of elf.symbols()) if (s.name !== "" && s.value !== 0n) symbols.set(s.name, Number(s.value));
  return { bytes, sites: discoverSites(elf), symbols };
}

export interface Session {
  readonly machine: Machine;
  readonly proc: LinuxProcess;
  readonly markers: Markers;
  readonly port: ReturnType<typeof machinePort>;
  /** Run to the end: guest stdout, exit status. */
  run(): { out: string; code: number; instructions: number; cycles: number };
}

/** A machine running `name` with a Markers registry on it (nothing armed yet). */
export function session(
  name: string,
  opts: {
    cpus?: number;
    seed?: number;
    precise?: MachineOptions["precise"];
    /** argv[0] (default: the fixture's name). */
    argv0?: string;
    argv?: string[];
    markers?: MarkersOptions;
  } = {},
): Session {
  const p = program(name);
  const machine = new Machine({ cpus: opts.cpus ?? 4, ...(opts.precise ? { precise: opts.precise } : {}) });
  let out = "";
  const proc = new LinuxProcess(machine, p.bytes, {
    argv: [opts.argv0 ?? name, ...(opts.argv ?? [])],
    seed: opts.seed ?? 1,
    stdout: (d) => {
      out += Buffer.from(d).toString();
    },
    stderr: (d) => {
      out += Buffer.from(d).toString();
    },
  });
  const port = machinePort(machine);
  const markers = new Markers(port, p.sites, { symbols: p.symbols, ...opts.markers });
  return {
    machine,
    proc,
    markers,
    port,
    run() {
      const r = proc.run();
      const instructions = machine.cpus.reduce((a, c) => a + c.instructions, 0);
      const cycles = machine.cpus.reduce((a, c) => a + c.cycles, 0);
      return { out, code: r.code, instructions, cycles };
    },
  };
}
