/** Shared runner of the acceptance-1 checks (split over two files so that both cores work). */
import type * as Sim from "@xmc/cpu-sim";
import { expect } from "vitest";
import { type CheckReport, checkProtocol, replayProtocol } from "../../src/index.ts";
import type { BuiltScenario } from "./precise.ts";

/** Random schedules per configuration (acceptance: at least 10,000 in CI). */
export const RANDOM: number = Number(process.env.XMC_PATCH_RANDOM ?? 10_000);

/** One line for the log. */
export function summary(r: CheckReport): string {
  const hz = Object.entries(r.runsWithHazard)
    .map(([k, v]) => `${k}: ${v} runs`)
    .join(", ");
  return `${r.protocol} on ${r.scenario}: ${r.runs} schedules (${r.exhaustiveRuns} bounded-exhaustive${r.exhaustiveComplete ? ", complete" : ""}, ${r.randomRuns} random), ${r.incomplete} cut, ${r.wrongResults} wrong results, INT3 hits in ${r.runsWithInt3Hits} runs (${r.int3Hits} emulated or declined); hazards: ${hz || "none"}`;
}

/** The INT3 batch protocol shows no hazard and leaves every result unchanged. */
export function expectSafe(_sim: typeof Sim, sc: BuiltScenario, exhaustive = 4000): CheckReport {
  const r = checkProtocol("int3-batch", sc, { random: RANDOM, seed: 1, exhaustive, preemptions: 2 });
  console.log(summary(r));
  for (const cx of r.counterexamples) console.log(`counterexample ${cx.what}: ${cx.description}`);
  expect(r.hazards).toEqual({});
  expect(r.wrongResults).toBe(0);
  expect(r.refused).toBe(0);
  expect(r.incomplete).toBe(0);
  expect(r.randomRuns).toBeGreaterThanOrEqual(RANDOM);
  // The patches really raced with the CPUs: many runs had CPUs trap on the sites' INT3s.
  expect(r.runsWithInt3Hits).toBeGreaterThan(r.runs / 20);
  // And the default schedule patches both ways (two batches finish).
  const again = replayProtocol("int3-batch", sc, []);
  expect(again.completed).toBe(true);
  expect(again.stats.length).toBe(2);
  return r;
}
