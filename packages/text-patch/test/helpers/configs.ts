/** The configurations of acceptance 1: site kinds x CPU counts, batches of 1 and 64 sites. */
import type * as Sim from "@xmc/cpu-sim";
import { type BuiltScenario, buildScenario, type SiteKind } from "./precise.ts";

/** CPU counts checked. */
export const CPU_COUNTS: readonly number[] = [2, 4, 8];

/** Single-site kinds. */
export const SINGLE_KINDS: readonly SiteKind[] = ["nop5-jmp32", "nop5-call32", "nop2-jmp8", "jcc32"];

/** The 64-site batch: the four kinds in turn, at every offset within a fetch block. */
export function batch64(sim: typeof Sim, cpus: number, strict = true): BuiltScenario {
  const kinds = Array.from({ length: 64 }, (_, i) => SINGLE_KINDS[i % 4]!);
  return buildScenario(`batch of 64 (mixed kinds), ${cpus} CPUs`, {
    cpus,
    kinds,
    sim,
    strict,
    iterations: 1,
    siteOffset: (i) => (i * 7) % 16,
  });
}

/** One site of `kind`, straddling a fetch-block boundary. */
export function single(sim: typeof Sim, kind: SiteKind, cpus: number, strict = true): BuiltScenario {
  return buildScenario(`${kind}, ${cpus} CPUs`, { cpus, kinds: [kind], sim, strict, iterations: 2 });
}
