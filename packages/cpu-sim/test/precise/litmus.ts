/**
 * The litmus tests of XMC-MODEL.md (litmus/*.json), run by the checker: bounded exhaustive
 * exploration (all schedules with at most 3 preemptions, up to the file's budget) plus
 * XMC_LITMUS_RANDOM (default 100,000) seeded random schedules per test. Every forbidden outcome
 * stays unobserved, every hazard the table says must be found is found, and its counterexample
 * replays to the same hazard.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { beforeAll, describe, expect, test } from "vitest";
import type * as Sim from "../../src/index.ts";

// The checker runs from the built bundle (turbo builds before testing): schedule exploration
// is hot code, and the bundle is several times faster than transformed sources.
let sim: typeof Sim;
beforeAll(async () => {
  sim = (await import(join(import.meta.dirname, "../../dist/index.js"))) as typeof Sim;
});

const dir = join(import.meta.dirname, "../../litmus");
const RANDOM = Number(process.env.XMC_LITMUS_RANDOM ?? 100_000);
const ok = requireTools("as", "ld");

/** Register the litmus files whose names pass `pick` (the suite is split over two files so that both cores work). */
export function litmusSuite(name: string, pick: (file: string) => boolean): void {
  describe.skipIf(!ok)(name, () => {
    for (const f of readdirSync(dir)
      .filter((x) => x.endsWith(".json") && pick(x))
      .sort()) {
      test(f, () => {
        const t = sim.loadLitmus(join(dir, f));
        const r = sim.checkLitmus(t, { random: RANDOM, seed: 1 });
        const hz = Object.entries(r.runsWithHazard)
          .filter(([, v]) => v)
          .map(([k, v]) => `${k}: ${v} runs`);
        console.log(
          `${t.id} ${f}: ${r.runs} schedules (${r.exhaustiveRuns} bounded-exhaustive${r.exhaustiveComplete ? ", complete" : ""}, ${r.randomRuns} random), ${r.outcomes.size} outcomes, ${r.incomplete} cut at the step bound; hazards: ${hz.join(", ") || "none"}`,
        );
        expect(r.failures).toEqual([]);
        expect(r.randomRuns).toBeGreaterThanOrEqual(RANDOM);
        // Every hazard found replays to the same hazard from its recorded choices.
        for (const cx of r.counterexamples) {
          if (!cx.hazard) continue;
          if (t.mustFind.includes(cx.hazard.cls))
            console.log(
              `counterexample (replay choices: ${JSON.stringify(cx.choices)}):\n${sim.describeHazard(cx.hazard)}`,
            );
          const again = sim.replayLitmus(t, cx.choices);
          expect(again.hazards.some((h) => h.cls === cx.hazard!.cls && h.rip === cx.hazard!.rip)).toBe(true);
        }
      });
    }
  });
}
