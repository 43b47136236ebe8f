/**
 * Differential test against GNU objdump on real binaries of this machine: instruction
 * boundaries agree on 100% of instructions and the AT&T text on at least 99.9%, every
 * remaining difference explained in test/known-differences.txt.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";
import { compareWithObjdump, explain, loadKnownDifferences } from "./support/objdump.ts";

const ok = requireTools("objdump", "as");
const known = ok ? loadKnownDifferences(join(import.meta.dirname, "known-differences.txt")) : [];

/** Two 64-bit programs under /usr/bin that a Debian machine of this kind has. */
const programs = [
  "/usr/bin/perl",
  "/usr/bin/git",
  "/usr/bin/gdb",
  "/usr/bin/make",
  "/usr/bin/ls",
  "/usr/bin/cat",
]
  .filter((f) => existsSync(f))
  .slice(0, 2);
const files = ["/usr/lib/x86_64-linux-gnu/libc.so.6", ...programs];

function check(file: string, mode: 32 | 64): void {
  const r = compareWithObjdump(file, { mode });
  const unexplained = r.textMismatches.filter((m) => !explain(m, known));
  const agreement = 1 - r.textMismatches.length / r.objdumpCount;
  console.log(
    `${file}: ${r.objdumpCount} instructions, boundary mismatches ${r.boundaryMismatches.length}, ` +
      `text agreement ${(agreement * 100).toFixed(4)}% (${r.textMismatches.length} differences, ${unexplained.length} unexplained)`,
  );
  expect(r.boundaryMismatches.slice(0, 10).map((a) => a.toString(16))).toEqual([]);
  expect(unexplained.slice(0, 20)).toEqual([]);
  expect(agreement).toBeGreaterThanOrEqual(0.999);
}

describe.skipIf(!ok)("differential vs objdump -d", () => {
  test("at least two programs under /usr/bin are present", () => {
    expect(programs.length).toBe(2);
  });
  for (const f of files) {
    test(`64-bit: ${f}`, () => check(f, 64));
  }
  test("32-bit: object assembled with as --32 from test/vectors/insns32.s", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmc-as32-"));
    const obj = join(dir, "insns32.o");
    execFileSync("as", ["--32", join(import.meta.dirname, "vectors/insns32.s"), "-o", obj]);
    const r = compareWithObjdump(obj, { mode: 32 });
    expect(r.objdumpCount).toBeGreaterThan(150);
    expect(r.boundaryMismatches).toEqual([]);
    expect(r.textMismatches.filter((m) => !explain(m, known))).toEqual([]);
  });
});
