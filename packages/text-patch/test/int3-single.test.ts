/**
 * Acceptance 1, single sites: with 2, 4 and 8 CPUs looping through a site patched back and
 * forth (NOP5 <-> JMP32, NOP5 <-> CALL32, NOP2 <-> JMP8, Jcc32 condition change), the INT3
 * protocol shows zero hazards in strict mode over bounded-exhaustive schedules (at most 2
 * preemptions) plus XMC_PATCH_RANDOM (default 10,000) random adversarial schedules per
 * configuration, and every CPU's result is what it is without patching.
 */
import type * as Sim from "@xmc/cpu-sim";
import { beforeAll, describe, test } from "vitest";
import { CPU_COUNTS, SINGLE_KINDS, single } from "./helpers/configs.ts";
import { loadSim } from "./helpers/precise.ts";
import { expectSafe } from "./helpers/suite.ts";

let sim: typeof Sim;
beforeAll(async () => {
  sim = await loadSim();
});

describe("INT3 batch protocol, one site, strict mode", () => {
  for (const kind of SINGLE_KINDS)
    for (const cpus of CPU_COUNTS)
      test(`${kind}, ${cpus} CPUs`, () => {
        expectSafe(sim, single(sim, kind, cpus));
      });
});
