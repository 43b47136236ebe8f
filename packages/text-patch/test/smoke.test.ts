import { expect, test } from "vitest";
import { checkProtocol } from "../src/index.ts";
import { buildScenario, loadSim, type SiteKind } from "./helpers/precise.ts";

test("smoke", async () => {
  const sim = await loadSim();
  const K: SiteKind[] = ["nop5-jmp32", "nop5-call32", "nop2-jmp8", "jcc32"];
  const kinds = Array.from({ length: 64 }, (_, i) => K[i % 4]!);
  for (const cpus of [2, 8]) {
    const sc = buildScenario("b64", { cpus, kinds, sim, iterations: 1, siteOffset: (i) => (i * 7) % 16 });
    const t0 = performance.now();
    const r = checkProtocol("int3-batch", sc, { random: 200, exhaustive: 100 });
    const t1 = performance.now();
    console.log(cpus, (t1 - t0).toFixed(0), "ms", r.runs, r.hazards, r.wrongResults, r.incomplete, r.refused, r.expected);
    const n = checkProtocol({ protocol: "naive", width: 1 }, sc, { random: 200, exhaustive: 0 });
    console.log("naive", n.runsWithHazard, n.wrongResults, n.incomplete);
  }
  expect(1).toBe(1);
});
