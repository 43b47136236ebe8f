/**
 * CI smoke test of `pnpm bench`: runs `--quick` as a user would (tsx, the packages' bundles)
 * into a temporary directory and checks that every table of every experiment has its rows,
 * that BENCHMARKS.md was generated from the results, and that the figures agree with the unit
 * tests' own measurements (packages/markers/test/cost.test.ts: a disabled nop5 marker costs its
 * one NOP, 0.25 modeled cycles per call).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ResultFile } from "../src/result.ts";
import type { Table } from "../src/table.ts";

const APP = join(import.meta.dirname, "..");
const out = mkdtempSync(join(tmpdir(), "xmc-bench-smoke-"));
let run: { status: number | null; stdout: string; stderr: string; seconds: number };
const results = new Map<string, ResultFile>();

beforeAll(() => {
  const t0 = Date.now();
  const r = spawnSync(join(APP, "node_modules/.bin/tsx"), ["src/main.ts", "--quick", "--out", out], {
    cwd: APP,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  run = { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
  for (const name of ["fastpath", "cuts", "switching", "calibration", "host"]) {
    const f = join(out, `${name}.json`);
    if (existsSync(f)) results.set(name, JSON.parse(readFileSync(f, "utf8")) as ResultFile);
  }
}, 120_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

function table(experiment: string, id: string): Table {
  const t = results.get(experiment)?.tables.find((x) => x.id === id);
  if (!t) throw new Error(`no table ${id} in ${experiment}.json`);
  return t;
}
const keys = (t: Table): string[] => t.rows.map((r) => r[0]!);
/** Every row has every column, and cells that must hold a figure do. */
function complete(t: Table, figureColumns: readonly number[]): void {
  for (const r of t.rows) {
    expect(r.length, `${t.id}: ${r[0]}`).toBe(t.columns.length);
    for (const c of figureColumns)
      expect(r[c], `${t.id}: ${r[0]}, column ${t.columns[c]}`).toMatch(/\d|pending|skipped/);
  }
}

const PROBES = ["kprobe, unoptimized", "kprobe, boosted", "kretprobe", "djprobe", "djprobe on a nop5 marker"];

describe("pnpm bench --quick", () => {
  test("runs in under a minute, exits 0 and prints every experiment", () => {
    expect(run.status, run.stderr).toBe(0);
    expect(run.seconds).toBeLessThan(60);
    for (const title of [
      "1. Fast-path",
      "2. Death by a million cuts",
      "3. Switching cost",
      "4. Calibration",
      "5. Host",
    ])
      expect(run.stdout).toContain(`== ${title}`);
    expect([...results.keys()]).toEqual(["fastpath", "cuts", "switching", "calibration", "host"]);
  });

  test("experiment 1: every configuration has its row", () => {
    const t = table("fastpath", "fastpath");
    expect(keys(t)).toEqual([
      "no instrumentation",
      "disabled nop5 marker",
      "disabled jmp2 marker",
      "disabled call marker (flag check)",
      "disabled USDT probe",
      "disabled USDT probe + semaphore",
      "enabled nop5 marker: stub call",
      "enabled jmp2 marker: stub call",
      "enabled call marker: flag set",
      "enabled USDT probe (INT3)",
      ...PROBES,
    ]);
    complete(t, [1, 2]);
    expect(t.unit).toMatch(/modeled cycles.*profile default/);
    // A probe row is measured or says why not.
    for (const r of t.rows.filter((x) => PROBES.includes(x[0]!)))
      expect(r[1] === "pending" ? r[4] : r[1]).toMatch(r[1] === "pending" ? /^pending @xmc\/probes: / : /\d/);
  });

  test("experiment 2: 1 to 64 markers, a column per variant", () => {
    const t = table("cuts", "cuts");
    expect(keys(t)).toEqual(["1", "2", "4", "8", "16", "32", "64"]);
    expect(t.columns.slice(1)).toEqual([
      "nop5 marker",
      "jmp2 marker",
      "call marker (flag check)",
      "USDT probe",
    ]);
    complete(t, [1, 2, 3, 4]);
    for (const r of t.rows) for (const c of r.slice(1)) expect(c).toMatch(/^\d[\d.,]*%$/);
  });

  test("experiment 3: 1, 16 and 256 sites, both protocols, each CPU count", () => {
    for (const s of [1, 16, 256]) {
      const t = table("switching", `switching-${s}`);
      expect(keys(t)).toEqual(["1", "2", "4"]);
      expect(t.columns).toEqual([
        "CPUs",
        "INT3 latency",
        "INT3 stall (sum)",
        "INT3 IPIs",
        "stop-machine latency",
        "stop-machine stall (sum)",
        "stop-machine IPIs",
      ]);
      complete(t, [1, 2, 3, 4, 5, 6]);
    }
  });

  test("experiment 4: kprobe ratios and the static-keys comparison", () => {
    const k = table("calibration", "calibration-kprobes");
    expect(keys(k).map((x) => x.split(" ")[0])).toEqual(["unoptimized", "boosted", "djprobe"]);
    expect(k.rows.map((r) => r[3])).toEqual(["0.99", "0.43", "0.06"]);
    complete(k, [1, 2, 3, 4]);
    const s = table("calibration", "calibration-static-keys");
    expect(keys(s)).toEqual([
      "disabled site: 5-byte NOP",
      "disabled site: flag load, test, jne",
      "whole call with the NOP",
      "whole call with the flag check",
      "fewer cycles with the NOP",
      "fewer branch misses with the NOP",
    ]);
    expect(s.rows[4]![2]).toBe("2.8%");
  });

  test("experiment 5: every comparison, ratio first, median (min–max), machine named", () => {
    const t = table("host", "host");
    expect(keys(t)).toEqual([
      "x86-decode instructionLength vs iced-x86 decode",
      "x86-decode decode vs iced-x86 decode",
      "x86-decode decode + formatAtt vs iced-x86 Gas formatter",
      "xmc disasm vs objdump -d (whole process)",
      "cpu-sim vs qemu-x86_64, cpubound (4 rounds)",
      "cpu-sim vs qemu-x86_64, mixed (2 rounds)",
      "trace-buffer, 1 writer vs naive",
      "CTF export vs JSON.stringify to a file",
    ]);
    expect(t.columns[1]).toBe("ratio ours/theirs");
    complete(t, [1, 2]);
    const spreadOrSkip = /^[\d.,]+ \([\d.,]+–[\d.,]+\)$|^skipped$|^—$/;
    for (const r of t.rows) for (const c of r.slice(1, 4)) expect(c).toMatch(spreadOrSkip);
    expect(t.unit).toContain(results.get("host")!.host.cpu);
    expect(t.unit).toMatch(/median \(min–max\)/);
  });

  test("every experiment has its SVG chart and BENCHMARKS.md is generated from the results", () => {
    const md = readFileSync(join(out, "BENCHMARKS.md"), "utf8");
    expect(md).toContain("Generated by apps/bench");
    for (const r of results.values()) {
      expect(r.profile).toBe("default");
      for (const c of r.charts) {
        expect(readFileSync(join(out, c.file), "utf8")).toMatch(
          /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
        );
        expect(md).toContain(`](${c.file})`);
      }
      expect(md).toContain(`## ${r.title}`);
      for (const t of r.tables)
        for (const row of t.rows) expect(md).toContain(`| ${row[0]!.replace(/\|/g, "\\|")} |`);
    }
  });
});

describe("consistency with the unit tests' own measurements", () => {
  const cycles = (key: string): number | undefined =>
    (results.get("fastpath")!.data as { rows: { key: string; cycles?: number }[] }).rows.find(
      (r) => r.key === key,
    )?.cycles;

  test("a disabled nop5 marker costs 0.25 cycles per call, as packages/markers/test/cost.test.ts asserts", () => {
    expect(cycles("disabled nop5 marker")).toBeCloseTo(0.25, 9);
    // The other disabled figures of that test: a USDT NOP 0.25, a taken jmp2 1, a flag check 1.25–1.33.
    expect(cycles("disabled USDT probe")).toBeCloseTo(0.25, 9);
    expect(cycles("disabled jmp2 marker")).toBeCloseTo(1, 9);
    expect(cycles("disabled call marker (flag check)")).toBeGreaterThanOrEqual(1.25 - 1e-9);
    expect(cycles("disabled call marker (flag check)")).toBeLessThanOrEqual(1.33 + 1e-9);
  });

  test("experiment 2's nop5 overhead is 0.25 cycles per marker at every count", () => {
    const d = results.get("cuts")!.data as {
      baseCyclesPerCall: number;
      counts: number[];
      overhead: Record<string, number[]>;
    };
    d.counts.forEach((k, i) => {
      expect(((d.overhead.nop5![i]! / 100) * d.baseCyclesPerCall) / k).toBeCloseTo(0.25, 9);
    });
  });

  test("experiment 4 reads experiment 1's figures", () => {
    const c = results.get("calibration")!.data as { nop: number; flag: number };
    expect(c.nop).toBe(cycles("disabled nop5 marker"));
    expect(c.flag).toBe(cycles("disabled call marker (flag check)"));
  });
});
