/**
 * `xmc run` (the built app, dist/xmc.js): every fixture under --cpus 4 gives the same stdout
 * and exit status as the native binary; statistics, the instruction limit, determinism by
 * seed, --fs, and clear one-line errors (dynamic programs, bad options).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";

const xmc = join(import.meta.dirname, "../dist/xmc.js");
const BIN = join(import.meta.dirname, "../../../packages/cpu-sim/test/fixtures/bin");
const fixture = (n: string) => join(BIN, n);

function status(r: ReturnType<typeof spawnSync>): number {
  return r.status ?? 128 + ((constants.signals as Record<string, number>)[r.signal ?? ""] ?? 0);
}
const xrun = (...args: string[]) =>
  spawnSync("node", [xmc, "run", ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
const native = (path: string, ...args: string[]) =>
  spawnSync(path, args, { encoding: "utf8", maxBuffer: 1 << 26 });

const FIXTURES = [
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
  "signals",
  "syscalls",
];

describe("xmc run --cpus 4: fixtures vs native", () => {
  for (const name of FIXTURES)
    test(name, () => {
      const n = native(fixture(name));
      const x = xrun("--cpus", "4", fixture(name));
      expect(x.stderr).not.toMatch(/internal error/);
      expect({ stdout: x.stdout, status: status(x) }).toEqual({ stdout: n.stdout, status: status(n) });
    });

  test("readfile with --fs", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmc-cli-fs-"));
    writeFileSync(join(dir, "in.txt"), "alpha\nbeta\ngamma\ndelta\nepsilon\n");
    const n = native(fixture("readfile"), join(dir, "in.txt"));
    const x = xrun("--cpus", "4", "--fs", dir, fixture("readfile"), "/in.txt");
    expect({ stdout: x.stdout, status: status(x) }).toEqual({ stdout: n.stdout, status: status(n) });
  });

  for (const mode of ["rotext", "div0", "priv", "jump"])
    test(`faults ${mode}: same status as native, a report on stderr`, () => {
      const n = native(fixture("faults"), mode);
      const x = xrun("--cpus", "4", fixture("faults"), mode);
      expect(status(x)).toBe(status(n));
      expect(x.stderr).toMatch(/^xmc: guest killed by SIG[A-Z]+: .* at rip 0x[0-9a-f]+ on cpu \d/m);
      expect(x.stderr.trim().split("\n")).toHaveLength(1);
    });
});

describe("xmc run options", () => {
  test("--stats prints per-CPU instructions and cycles, host time and MIPS", () => {
    const x = xrun("--cpus", "2", "--stats", fixture("hello"));
    expect(x.status).toBe(0);
    expect(x.stdout).toBe("hello, world (1 args, none)\n");
    expect(x.stderr).toMatch(/cost profile "default"/);
    expect(x.stderr).toMatch(/^ +0 +\d+ +\d+ +\d+$/m);
    expect(x.stderr).toMatch(/^ +1 +0 +0 +0$/m);
    expect(x.stderr).toMatch(/MIPS/);
  });

  test("guest arguments pass through, including ones that look like options", () => {
    const x = xrun(fixture("hello"), "--debug", "x");
    expect(x.stdout).toBe("hello, world (3 args, --debug)\n");
  });

  test("--stats-json and determinism by seed", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmc-cli-st-"));
    const runs = [1, 1, 2].map((seed, i) => {
      const f = join(dir, `s${i}.json`);
      const x = xrun("--cpus", "4", "--seed", String(seed), "--stats-json", f, fixture("threads"));
      expect(x.status).toBe(0);
      return { out: x.stdout, st: JSON.parse(readFileSync(f, "utf8")) };
    });
    expect(runs[1]!.out).toBe(runs[0]!.out);
    expect(runs[1]!.st.cpus).toEqual(runs[0]!.st.cpus);
    expect(runs[1]!.st.eventHash).toBe(runs[0]!.st.eventHash);
    expect(runs[2]!.out).toBe(runs[0]!.out);
    expect(runs[2]!.st.eventHash).not.toBe(runs[0]!.st.eventHash);
  });

  test("--max-insns stops with a message and status 124", () => {
    const x = xrun("--max-insns", "5000", fixture("intwork"));
    expect(x.status).toBe(124);
    expect(x.stderr).toMatch(/stopped after 5000 instructions/);
  });

  test("a dynamically linked program gets a clear message", () => {
    const x = xrun("/bin/true");
    expect(x.status).toBe(126);
    expect(x.stderr).toMatch(/dynamically linked.*only static programs are supported/);
    expect(x.stderr).not.toMatch(/ at /);
  });

  test("usage errors are one line, no stack", () => {
    for (const args of [
      ["--cpus", "0", "x"],
      ["--cpus", "65", "x"],
      [],
      ["--nope", "x"],
      ["/no/such/prog"],
      ["--fs-rw", "x"],
    ]) {
      const x = xrun(...args);
      expect(x.status, args.join(" ")).not.toBe(0);
      expect(x.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(x.stderr).not.toMatch(/\n\s+at /);
    }
  });

  test("--precise runs the same program with the same output and reports hazards by class", () => {
    const plain = xrun("--cpus", "2", fixture("jit"));
    const r = xrun(
      "--precise",
      "--strict",
      "--fetch-block",
      "8",
      "--prefetch",
      "1",
      "--stats",
      "--cpus",
      "2",
      fixture("jit"),
    );
    expect(status(r)).toBe(status(plain));
    expect(r.stdout).toBe(plain.stdout);
    for (const cls of [
      "torn",
      "unsynchronized",
      "mid-instruction",
      "branch-into-patch",
      "freed-text",
      "unhandled-int3",
    ])
      expect(r.stderr).toMatch(new RegExp(`\\b${cls}\\s+0\\b`));
    expect(xrun("--strict", fixture("hello")).stderr).toMatch(/need --precise/);
    expect(xrun("--precise", "--fetch-block", "12", fixture("hello")).stderr).toMatch(/power of two/);
    expect(xrun("--precise", "--prefetch", "99", fixture("hello")).stderr).toMatch(/--prefetch must be/);
  });

  test("help", () => {
    const x = spawnSync("node", [xmc, "run", "--help"], { encoding: "utf8" });
    expect(x.stdout).toMatch(/Usage: xmc run/);
    expect(x.stdout).toMatch(/Examples:/);
    const h = spawnSync("node", [xmc, "--help"], { encoding: "utf8" });
    expect(h.stdout).toMatch(/run +run a static/);
  });
});

describe("xmc run --time-limit", () => {
  test.skipIf(!requireTools("as", "ld"))(
    "a guest that spins forever stops at the host time limit (exit 124)",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "xmc-spin-"));
      writeFileSync(join(dir, "spin.s"), ".globl _start\n_start: jmp _start\n");
      spawnSync("as", ["-o", join(dir, "spin.o"), join(dir, "spin.s")]);
      spawnSync("ld", ["-static", "-o", join(dir, "spin"), join(dir, "spin.o")]);
      const r = xrun("--time-limit", "1", join(dir, "spin"));
      expect(status(r)).toBe(124);
      expect(r.stderr).toMatch(
        /^xmc: stopped after \d+ instructions and 1\.0 s of host time \(the time limit\)\n$/,
      );
      const bad = xrun("--time-limit", "-1", join(dir, "spin"));
      expect(status(bad)).toBe(2);
      expect(bad.stderr).toBe('xmc run: --time-limit must be an integer from 0 to 10000000, not "-1"\n');
    },
  );
});
