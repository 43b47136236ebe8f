/**
 * Acceptance 2: the checker is strong enough to judge. Each unsafe protocol or variant is run
 * on the same scenarios as the safe one, and the hazard XMC-MODEL.md predicts is found, with a
 * counterexample whose recorded choices replay to the same hazard:
 *
 * | protocol | prediction (XMC-MODEL.md) |
 * | --- | --- |
 * | naive direct write | `torn` (L4) |
 * | jmp2 + 3 NOPs, no sync | `torn` (L15) |
 * | INT3 protocol without sync 1 | `torn` (L7: old first byte with the new tail) |
 * | INT3 protocol without sync 2 | `unsynchronized` (a first byte replacing 0xCC whose tail was not yet serialized) |
 * | INT3 protocol without sync 3 | `unhandled-int3` (a stale INT3 executed after the table was retired) |
 * | table retired without reference counts | `unhandled-int3` (L8; IPIs may interrupt the handler) |
 *
 * and the safe counterparts find nothing (jmp2 with a sync is not torn; with references the
 * teardown is safe even when IPIs interrupt the handler).
 */
import type * as Sim from "@xmc/cpu-sim";
import { beforeAll, describe, expect, test } from "vitest";
import { type CheckReport, checkProtocol, type ProtocolSpec, replayProtocol } from "../src/index.ts";
import { batch64, single } from "./helpers/configs.ts";
import { type BuiltScenario, buildScenario, loadSim } from "./helpers/precise.ts";
import { summary } from "./helpers/suite.ts";

let sim: typeof Sim;
beforeAll(async () => {
  sim = await loadSim();
});

const RANDOM = Math.min(Number(process.env.XMC_PATCH_RANDOM ?? 10_000), 3000);

function judge(p: ProtocolSpec, sc: BuiltScenario, mustFind: string): CheckReport {
  const r = checkProtocol(p, sc, { random: RANDOM, exhaustive: 1000, preemptions: 2 });
  console.log(summary(r));
  expect(r.runsWithHazard[mustFind] ?? 0).toBeGreaterThan(0);
  const cx = r.counterexamples.find((c) => c.what === mustFind)!;
  console.log(
    `counterexample (${cx.seed !== undefined ? `seed ${cx.seed}, ` : ""}${cx.choices.length} choices):\n${cx.description}`,
  );
  const again = replayProtocol(p, sc, cx.choices);
  expect(again.hazards.some((h) => h.cls === mustFind && h.rip === cx.hazard!.rip)).toBe(true);
  return r;
}

describe("unsafe protocols are caught", () => {
  for (const cpus of [2, 4]) {
    test(`naive direct write: torn (NOP5 <-> JMP32, ${cpus} CPUs)`, () => {
      judge("naive", single(sim, "nop5-jmp32", cpus), "torn");
    });
    test(`jmp2 + 3 NOPs without sync: torn (${cpus} CPUs)`, () => {
      judge("jmp2", single(sim, "jmp2", cpus), "torn");
    });
  }
  test("naive direct write on a 64-site batch: torn", () => {
    judge({ protocol: "naive", width: 1 }, batch64(sim, 2), "torn");
  });
  test("jmp2 + 3 NOPs with a sync between tail and head: never torn (unsynchronized in strict mode)", () => {
    const r = checkProtocol("jmp2-sync", single(sim, "jmp2", 2), { random: RANDOM, exhaustive: 1000 });
    console.log(summary(r));
    expect(r.runsWithHazard.torn ?? 0).toBe(0);
    expect(r.runsWithHazard.unsynchronized ?? 0).toBeGreaterThan(0);
    expect(r.wrongResults).toBe(0);
  });
  test("jmp2 + 3 NOPs with a sync, non-strict: no hazard at all", () => {
    const sc = buildScenario("jmp2, 2 CPUs, non-strict", { cpus: 2, kinds: ["jmp2"], sim, strict: false });
    const r = checkProtocol("jmp2-sync", sc, { random: RANDOM, exhaustive: 1000 });
    console.log(summary(r));
    expect(r.hazards).toEqual({});
  });
});

describe("the INT3 protocol with one piece removed", () => {
  for (const kind of ["nop5-jmp32", "jcc32"] as const) {
    test(`without sync 1: torn (${kind})`, () => {
      judge({ omitSync: 1 }, single(sim, kind, 2), "torn");
    });
    test(`without sync 2: unsynchronized (${kind})`, () => {
      judge({ omitSync: 2 }, single(sim, kind, 2), "unsynchronized");
    });
    test(`without sync 3: unhandled-int3 (${kind})`, () => {
      judge({ omitSync: 3 }, single(sim, kind, 2), "unhandled-int3");
    });
  }
  const trapped = (cpus: number) =>
    buildScenario(`nop5-call32, ${cpus} CPUs, IPIs inside the handler`, {
      cpus,
      kinds: ["nop5-call32"],
      sim,
      ipiInTrap: true,
    });
  test("table retired without reference counts: unhandled-int3 (IPIs may interrupt the handler)", () => {
    judge({ refcount: false }, trapped(2), "unhandled-int3");
  });
  test("with reference counts the same teardown is safe", () => {
    const r = checkProtocol("int3-batch", trapped(2), { random: RANDOM, exhaustive: 1000 });
    console.log(summary(r));
    expect(r.hazards).toEqual({});
    expect(r.wrongResults).toBe(0);
  });
});
