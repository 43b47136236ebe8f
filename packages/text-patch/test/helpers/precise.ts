/**
 * The checking scenarios on cpu-sim's `PreciseMachine`: the programs and the port adapter are
 * shipped code (`scenarioProgram`, `preciseScenario`, `precisePort` in src/, which the `xmc`
 * app uses too); this helper only loads the simulator and boots it.
 *
 * The checks run from cpu-sim's built bundle (schedule exploration is hot code; the bundle is
 * several times faster than transformed sources), as cpu-sim's own litmus tests do.
 */
import { join } from "node:path";
import type * as Sim from "@xmc/cpu-sim";
import { decode, formatAtt, Instruction } from "@xmc/x86-decode";
import {
  type PatchSite,
  type PreciseScenario,
  preciseScenario,
  type ScenarioProgramOptions,
  type SiteKind,
  scenarioProgram,
} from "../../src/index.ts";

export type { PrecisePort, SiteKind } from "../../src/index.ts";

/** cpu-sim, loaded from its bundle. */
export async function loadSim(): Promise<typeof Sim> {
  return (await import(
    join(import.meta.dirname, "../../node_modules/@xmc/cpu-sim/dist/index.js")
  )) as typeof Sim;
}

/** Options of a generated scenario. */
export interface ScenarioOptions extends ScenarioProgramOptions {
  cpus: number;
  kinds: SiteKind[];
  strict?: boolean;
  ipiInTrap?: boolean;
  fetchBlock?: number;
  prefetch?: number;
  maxSteps?: number;
  /** The sim bundle. */
  sim: typeof Sim;
}

/** A scenario, with its code and site addresses for inspection. */
export interface BuiltScenario extends PreciseScenario<Sim.PreciseMachine> {
  readonly code: Uint8Array;
  readonly base: number;
  readonly sites: PatchSite[];
}

/** Build a scenario on the PreciseMachine: code, sites and batches (forward, then back). */
export function buildScenario(name: string, o: ScenarioOptions): BuiltScenario {
  const program = scenarioProgram(o);
  const sim = o.sim;
  const sc = preciseScenario(name, program, {
    cpus: o.cpus,
    boot: (p) => {
      const m = new sim.PreciseMachine({
        cpus: o.cpus,
        strict: o.strict ?? true,
        ipiInTrap: o.ipiInTrap ?? false,
        ...(o.fetchBlock !== undefined ? { fetchBlock: o.fetchBlock } : {}),
        ...(o.prefetch !== undefined ? { prefetch: o.prefetch } : {}),
      });
      m.load(p.base, p.code, sim.Perm.RX);
      return m;
    },
    describe: (h) => sim.describeHazard(h as Sim.Hazard),
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
  });
  return { ...sc, code: program.code, base: program.base, sites: program.sites };
}

/** Disassemble `code` at `base` (for messages). */
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
