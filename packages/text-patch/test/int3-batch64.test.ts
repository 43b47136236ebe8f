/**
 * Acceptance 1, batches: 64 sites of the four kinds (at every offset within a fetch block)
 * patched forward and back in one batch each (three syncs per batch) while 2, 4 and 8 CPUs run
 * through them: zero hazards in strict mode over bounded-exhaustive plus XMC_PATCH_RANDOM
 * (default 10,000) random schedules, results unchanged.
 */
import type * as Sim from "@xmc/cpu-sim";
import { beforeAll, describe, expect, test } from "vitest";
import { batch64 } from "./helpers/configs.ts";
import { loadSim } from "./helpers/precise.ts";
import { expectSafe } from "./helpers/suite.ts";

let sim: typeof Sim;
beforeAll(async () => {
  sim = await loadSim();
});

// 2 and 4 CPUs here; 8 CPUs in int3-batch64-8cpus.test.ts (so that the two cores share the work).
describe("INT3 batch protocol, 64 sites per batch, strict mode", () => {
  for (const cpus of [2, 4])
    test(`64 sites, ${cpus} CPUs`, () => {
      const sc = batch64(sim, cpus);
      expect(sc.sites.length).toBe(64);
      expectSafe(sim, sc, 1000);
    });
});
