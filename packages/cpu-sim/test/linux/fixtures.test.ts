/**
 * Acceptance: every fixture program gives the same stdout and exit status on the simulator
 * (4 vCPUs) as natively on this machine. The binaries are committed (built by
 * test/fixtures/build.sh with musl-gcc and gcc, static, stripped), so no compiler is needed.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, runNative, runSim } from "./helpers.ts";

const SIMPLE = [
  "hello",
  "intwork",
  "qsortstr",
  "printffp",
  "printffp-glibc",
  "setjmp",
  "mallocs",
  "switchfp",
  "int128",
  "threads",
  "threads-glibc",
  "jit",
  "smc",
  "signals",
  "syscalls",
];

describe("fixtures: simulator (4 vCPUs) vs native", () => {
  for (const name of SIMPLE)
    test(name, () => {
      const native = runNative(fixture(name));
      const sim = runSim(fixture(name));
      expect(sim.exit.report ?? "", "no fault report").not.toMatch(/internal error/);
      expect({ stdout: sim.stdout, status: sim.status }).toEqual({
        stdout: native.stdout,
        status: native.status,
      });
    });

  test("readfile through --fs", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmc-fs-"));
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}: ${"abcdefghij".repeat((i % 5) + 1)}`);
    writeFileSync(join(dir, "data.txt"), `${lines.join("\n")}\n`);
    const native = runNative(fixture("readfile"), [join(dir, "data.txt")]);
    expect(native.status).toBe(0);
    const sim = runSim(fixture("readfile"), ["/data.txt"], { fsRoot: dir });
    expect({ stdout: sim.stdout, status: sim.status }).toEqual({
      stdout: native.stdout,
      status: native.status,
    });
  });
});
