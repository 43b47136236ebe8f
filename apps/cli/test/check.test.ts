/**
 * `xmc check` (the built app): acceptance 4 of issue 9 — `--protocol all` gives the expected
 * verdicts (INT3 protocol and stop-machine clean, every unsafe protocol caught with the hazard
 * XMC-MODEL.md predicts), counterexamples replay to the same hazard, litmus files run, and
 * bad usage is one clear line.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";

const xmc = join(import.meta.dirname, "../dist/xmc.js");
const LITMUS = join(import.meta.dirname, "../../../packages/cpu-sim/litmus");
const xcheck = (...args: string[]) =>
  spawnSync("node", [xmc, "check", ...args], { encoding: "utf8", maxBuffer: 1 << 26 });

interface Row {
  protocol: string;
  scenario: string;
  schedules: number;
  outcomes: number;
  runsWithHazard: Record<string, number>;
  wrongResults: number;
  refused: number;
  verdict: string;
  ok: boolean;
  counterexamples: { what: string; replay: string; command: string }[];
}

/** Runs `command` (an `xmc check ...` line as printed) with the built app. */
function runPrinted(command: string, ...extra: string[]) {
  const words = command.split(" ");
  expect(words.slice(0, 2)).toEqual(["xmc", "check"]);
  return xcheck(...words.slice(2), ...extra);
}

describe("xmc check --protocol all", () => {
  const SCHEDULES = 1000;
  let rows: Row[] = [];
  test(`verdicts at ${SCHEDULES} schedules per row: safe protocols clean, unsafe ones caught`, () => {
    const r = xcheck("--protocol", "all", "--schedules", String(SCHEDULES), "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as {
      rows: Row[];
      ok: boolean;
      schedules: number;
      schedulesPerSecond: number;
    };
    rows = s.rows;
    console.log(
      `xmc check --protocol all: ${s.schedules} schedules, ${Math.round(s.schedulesPerSecond)} schedules/s`,
    );
    expect(s.ok).toBe(true);
    const row = (p: string, sc: string) => rows.find((x) => x.protocol === p && x.scenario === sc)!;
    for (const x of rows) expect(x.schedules).toBe(SCHEDULES);
    // Safe: every scenario, no hazard, results unchanged.
    for (const p of ["int3-batch", "stop-machine"]) {
      const mine = rows.filter((x) => x.protocol === p);
      expect(mine.map((x) => x.scenario).sort()).toEqual([
        "jcc32",
        "jmp2",
        "nop2-jmp8",
        "nop5-call32",
        "nop5-jmp32",
      ]);
      for (const x of mine) {
        expect(x.runsWithHazard).toEqual({});
        expect(x.wrongResults).toBe(0);
        expect(x.refused).toBe(0);
        expect(x.outcomes).toBe(1);
        expect(x.verdict).toBe("clean");
      }
    }
    // Early poke refuses while other CPUs run, and is safe when it does patch.
    expect(row("early", "nop5-jmp32").runsWithHazard).toEqual({});
    expect(row("early", "nop5-jmp32").refused).toBeGreaterThan(0);
    // Unsafe: the predicted hazard is found.
    const caught: [string, string, string][] = [
      ["naive", "nop5-jmp32", "torn"],
      ["jmp2", "jmp2", "torn"],
      ["jmp2-sync", "jmp2", "unsynchronized"],
      ["int3-no-sync1", "nop5-jmp32", "torn"],
      ["int3-no-sync1", "jcc32", "torn"],
      ["int3-no-sync2", "nop5-jmp32", "unsynchronized"],
      ["int3-no-sync3", "nop5-jmp32", "unhandled-int3"],
      ["int3-no-refcount", "nop5-call32", "unhandled-int3"],
    ];
    for (const [p, sc, cls] of caught) {
      const x = row(p, sc);
      expect(x.runsWithHazard[cls] ?? 0, `${p} on ${sc}`).toBeGreaterThan(0);
      expect(x.counterexamples.some((c) => c.what === cls)).toBe(true);
    }
    // A sync between tail and head keeps jmp2 from tearing.
    expect(row("jmp2-sync", "jmp2").runsWithHazard.torn).toBeUndefined();
    expect(row("naive", "nop5-jmp32").outcomes).toBeGreaterThan(1);
  }, 90_000);

  test("every printed counterexample command replays to its hazard", () => {
    expect(rows.length).toBeGreaterThan(0);
    let replayed = 0;
    for (const x of rows)
      for (const cx of x.counterexamples) {
        if (cx.what === "wrong result") continue;
        const r = runPrinted(cx.command, "--json");
        expect(r.status, r.stderr).toBe(0);
        const j = JSON.parse(r.stdout) as { hazards: { cls: string }[] };
        expect(
          j.hazards.map((h) => h.cls),
          cx.command,
        ).toContain(cx.what);
        replayed++;
      }
    expect(replayed).toBeGreaterThan(20);
  }, 60_000);
});

describe("xmc check, one protocol", () => {
  test("table output: columns, counterexample lines with replay commands, summary line", () => {
    const r = xcheck("--protocol", "naive", "--scenario", "nop5-jmp32", "--schedules", "300");
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^protocol\s+scenario\s+cpus\s+schedules\s+outcomes\s+runs with hazard\s+wrong\s+verdict$/,
    );
    expect(lines[1]).toMatch(/^naive\s+nop5-jmp32\s+2\s+300\s+\d+\s+.*torn \d+.*caught: torn$/);
    expect(r.stdout).toMatch(
      /\n {4}xmc check --protocol naive --scenario nop5-jmp32 --cpus 2 --replay \S+\n/,
    );
    expect(r.stdout).toMatch(
      /\n300 schedules in [\d.]+ s \([\d,]+ schedules\/s\); every verdict as expected\n$/,
    );
  });

  test("4 CPUs: the INT3 protocol stays clean and really races (INT3 hits)", () => {
    const r = xcheck(
      "--protocol",
      "int3-batch",
      "--scenario",
      "nop5-call32",
      "--cpus",
      "4",
      "--schedules",
      "400",
      "--json",
    );
    expect(r.status).toBe(0);
    const row = (JSON.parse(r.stdout) as { rows: (Row & { int3Hits: number; cpus: number })[] }).rows[0]!;
    expect(row.cpus).toBe(4);
    expect(row.runsWithHazard).toEqual({});
    expect(row.int3Hits).toBeGreaterThan(0);
  });

  test("replay describes the bytes of the hazard; the same schedule twice gives the same run", () => {
    const a = xcheck("--protocol", "naive", "--scenario", "nop5-jmp32", "--replay", "ac7");
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/^naive on nop5-jmp32, 2 CPUs: \d+ steps, completed\n/);
    expect(a.stdout).toMatch(/torn on cpu0 at 0x1000e .*\n {2}0x1000e: 0f from write #0 by image/);
    expect(xcheck("--protocol", "naive", "--scenario", "nop5-jmp32", "--replay", "ac7").stdout).toBe(
      a.stdout,
    );
  });

  test("usage errors are one line with status 2", () => {
    for (const [args, msg] of [
      [["--protocol", "bogus"], /^xmc check: unknown protocol "bogus" \(one of: all, int3-batch, /],
      [["--scenario", "nop7"], /^xmc check: unknown scenario "nop7"/],
      [["--cpus", "0"], /^xmc check: --cpus must be an integer from 1 to 8, not "0"$/],
      [["--schedules", "x"], /^xmc check: --schedules must be an integer/],
      [["--replay", "seed:1"], /^xmc check: --replay needs one --protocol/],
      [["--protocol", "naive", "--replay", "seed:1"], /^xmc check: --replay needs --scenario$/],
      [["--protocol", "jmp2", "--replay", "A!"], /^xmc check: --replay "A!" is not seed:N or a schedule/],
      [["--frobnicate"], /^xmc check: unknown option --frobnicate/],
      [["stray"], /^xmc check: unexpected argument "stray"/],
    ] as [string[], RegExp][]) {
      const r = xcheck(...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.trimEnd().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(msg);
      expect(r.stdout).toBe("");
    }
  });

  test("help lists every protocol and examples", () => {
    const r = spawnSync("node", [xmc, "help", "check"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    for (const p of [
      "int3-batch",
      "stop-machine",
      "early",
      "naive",
      "jmp2-sync",
      "int3-no-sync3",
      "int3-no-refcount",
    ])
      expect(r.stdout).toContain(`  ${p} `);
    expect(r.stdout).toContain("Examples:");
    expect(xcheck("--help").stdout).toBe(r.stdout);
  });
});

describe.skipIf(!requireTools("as", "ld"))("xmc check --litmus", () => {
  test("L4 (naive write) finds torn with a replayable counterexample; L6 (INT3 protocol) is clean", () => {
    const r = xcheck(
      "--schedules",
      "400",
      "--json",
      "--litmus",
      join(LITMUS, "L04-naive-write.json"),
      join(LITMUS, "L06-int3-protocol.json"),
    );
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { litmus: (Row & { id: string })[]; ok: boolean };
    expect(j.ok).toBe(true);
    expect(j.litmus.map((x) => x.id)).toEqual(["L4", "L6"]);
    expect(j.litmus[0]!.runsWithHazard.torn).toBeGreaterThan(0);
    expect(j.litmus[1]!.runsWithHazard).toEqual({});
    const cx = j.litmus[0]!.counterexamples.find((c) => c.what === "torn")!;
    const again = runPrinted(cx.command, "--json");
    expect(again.status).toBe(0);
    expect(
      (JSON.parse(again.stdout) as { hazards: string[] }).hazards.some((h) => h.startsWith("torn")),
    ).toBe(true);
  });

  test("a missing or malformed file is one line, status 1", () => {
    const r = xcheck("--litmus", "/nonexistent/x.json");
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("xmc check: cannot read /nonexistent/x.json: ENOENT\n");
    const late = xcheck(
      "--litmus",
      join(LITMUS, "L04-naive-write.json"),
      join(LITMUS, "L05-int3-only.json"),
      "--json",
    );
    expect(late.status).toBe(2);
    expect(late.stderr).toMatch(/^xmc check: put --json before --litmus FILE/);
  });
});
