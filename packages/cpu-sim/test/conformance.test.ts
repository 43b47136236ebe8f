/**
 * Instruction conformance against this machine's CPU: seeded cases for every implemented
 * integer form run natively (test/conformance/harness.c, built here with gcc) and on the
 * simulator; registers, defined flags, memory and fault status must agree.
 */
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, describe, expect, it } from "vitest";
import { buildHarness, formatCounts, runConformance } from "./conformance/run.ts";

const CASES = Number(process.env.XMC_CONFORMANCE_CASES ?? 210_000);
const SEED = Number(process.env.XMC_CONFORMANCE_SEED ?? 20240601);
const run = requireTools("gcc");

describe.skipIf(!run)("integer conformance vs the native CPU", () => {
  const h = run ? buildHarness() : undefined;
  afterAll(() => h?.cleanup());

  it.each(["interp", "fast"] as const)(
    `${CASES} seeded cases agree on registers, defined flags, memory and faults (%s)`,
    (mode) => {
      // fast: each case's instruction runs as a translated one-instruction block (exec/translate.ts).
      const rep = runConformance(SEED, CASES, h!.exe, undefined, mode);
      process.stdout.write(
        `conformance (${mode}): ${rep.cases} cases, ${rep.perForm.size} forms, ${rep.passed} passed; native faults ${JSON.stringify(
          Object.fromEntries(rep.faults),
        )}; generate ${rep.genMs.toFixed(0)} ms, native ${rep.nativeMs.toFixed(0)} ms, simulator ${rep.simMs.toFixed(0)} ms\n${formatCounts(rep)}\n`,
      );
      if (rep.failures.length) process.stdout.write(`${rep.failures.join("\n")}\n`);
      expect(rep.cases).toBeGreaterThanOrEqual(Math.min(CASES, 200_000));
      expect(rep.perForm.has("(undecodable)")).toBe(false);
      expect(rep.failures).toEqual([]);
      expect(rep.passed).toBe(rep.cases);
    },
  );
});
