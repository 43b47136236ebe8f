/**
 * Precise mode and the ordinary mode give identical results (output, exit status, instruction
 * counts) on every fixture program when no code is modified concurrently, and the
 * self-modifying fixture agrees too (issue 4, acceptance 2). Strict precise mode finds no
 * hazard in these programs.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, runSim } from "./helpers.ts";

const FIXTURES: [string, string[]][] = [
  ["hello", []],
  ["intwork", []],
  ["qsortstr", []],
  ["printffp", []],
  ["setjmp", []],
  ["mallocs", []],
  ["switchfp", []],
  ["int128", []],
  ["threads", []],
  ["jit", []],
  ["signals", []],
  ["printffp-glibc", []],
  ["threads-glibc", []],
];

describe("precise mode vs ordinary mode on the fixtures (4 CPUs)", () => {
  for (const [name, args] of FIXTURES) {
    test(name, () => {
      const fast = runSim(fixture(name), args, { seed: 3 });
      const precise = runSim(fixture(name), args, {
        seed: 3,
        precise: { fetchBlock: 16, prefetch: 2, strict: true },
      });
      expect(precise.stdout).toBe(fast.stdout);
      expect(precise.status).toBe(fast.status);
      expect(precise.machine.cpus.map((c) => c.instructions)).toEqual(
        fast.machine.cpus.map((c) => c.instructions),
      );
      expect(precise.machine.precise!.hazards).toEqual([]);
    });
  }

  test("adversarial fetch timing and quanta change nothing a program can see", () => {
    for (const seed of [1, 2, 3]) {
      const fast = runSim(fixture("threads"), [], { seed });
      const adv = runSim(fixture("threads"), [], {
        seed,
        adversarial: true,
        quantum: 50,
        precise: { strict: true, fetchSeed: seed },
      });
      expect(adv.stdout).toBe(fast.stdout);
      expect(adv.status).toBe(fast.status);
      expect(adv.machine.precise!.hazards).toEqual([]);
    }
  });

  test("readfile through --fs", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmc-precise-fs-"));
    writeFileSync(join(dir, "data.txt"), "line one\nline two\n");
    const fast = runSim(fixture("readfile"), ["/data.txt"], { fsRoot: dir });
    const precise = runSim(fixture("readfile"), ["/data.txt"], { fsRoot: dir, precise: {} });
    expect(precise.stdout).toBe(fast.stdout);
    expect(precise.status).toBe(fast.status);
  });
});
