/**
 * Acceptance 2 of the markers issue: a disabled marker costs exactly its NOP. The hot fixture
 * (test/fixtures/src/hot.c) is built with markers compiled out and in each variant; the
 * difference in modeled cycles over N calls is checked against COST-MODEL.md's table (the
 * published design figures, not read from our profile object): NOP of any length 0.25 cycles;
 * a taken branch 1; a load 0.5, a simple ALU op 0.25-0.33 and a not-taken branch 0.5.
 */
import { describe, expect, test } from "vitest";
import { session } from "./helpers/run.ts";

const N = 10000;

function run(variant: string): { instructions: number; cycles: number; out: string } {
  // The same argv[0] for every build: its length is visible to the startup code.
  return session(`hot-${variant}`, { cpus: 1, argv0: "hot", argv: [String(N)] }).run();
}

describe("disabled markers cost their NOP", () => {
  const off = run("off");
  const diff = (v: string) => {
    const r = run(v);
    expect(r.out).toBe(off.out);
    return { instructions: r.instructions - off.instructions, cycles: r.cycles - off.cycles };
  };

  test("nop5: one 5-byte NOP per call, 0.25 cycles each", () => {
    const d = diff("nop5");
    expect(d.instructions).toBe(N);
    expect(d.cycles).toBeCloseTo(N * 0.25, 6);
  });

  test("USDT without a semaphore: one 1-byte NOP per call, 0.25 cycles each", () => {
    const d = diff("usdt");
    expect(d.instructions).toBe(N);
    expect(d.cycles).toBeCloseTo(N * 0.25, 6);
  });

  test("jmp2: a taken 2-byte jmp per call (1 cycle), the 3 NOP bytes never run", () => {
    const d = diff("jmp2");
    expect(d.instructions).toBe(N);
    expect(d.cycles).toBeCloseTo(N * 1, 6);
  });

  test("call (flag check): load + test + not-taken jne per call, 1.25-1.33 cycles", () => {
    const d = diff("call");
    expect(d.instructions).toBe(3 * N);
    expect(d.cycles / N).toBeGreaterThanOrEqual(0.5 + 0.25 + 0.5 - 1e-9);
    expect(d.cycles / N).toBeLessThanOrEqual(0.5 + 0.33 + 0.5 + 1e-9);
  });

  test("USDT with a semaphore: cmpw on the semaphore + taken je per call", () => {
    const d = diff("usdt-sem");
    expect(d.instructions).toBe(2 * N);
    // A compare with a memory operand (a load) and a taken branch: 0.5-1 + 1.
    expect(d.cycles / N).toBeGreaterThanOrEqual(1.5 - 1e-9);
    expect(d.cycles / N).toBeLessThanOrEqual(2 + 1e-9);
  });
});
