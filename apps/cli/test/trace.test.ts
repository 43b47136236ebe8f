/**
 * `xmc trace` (the built app) on the shop fixture (examples/shop, 4 threads; its own counters
 * printed at exit): acceptance 2 of the app issue (babeltrace2 reads the CTF with the same
 * event count as the text and the JSON output), and acceptance 3 (every spec form, action and
 * option; bad specs are one clear line naming the problem).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";

const xmc = join(import.meta.dirname, "../dist/xmc.js");
const SHOP = join(import.meta.dirname, "../examples/shop");
const trace = (...args: string[]) =>
  spawnSync("node", [xmc, "trace", ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
const tmp = () => mkdtempSync(join(tmpdir(), "xmc-trace-"));

/** The program's counters from its stdout ("name n sum..." lines). */
function counters(out: string): Record<string, number[]> {
  const r: Record<string, number[]> = {};
  for (const m of out.matchAll(
    /^(request_start|request_done|request_error|usdt_item|usdt_audit|price)((?: \d+)+)$/gm,
  ))
    r[m[1]!] = m[2]!.trim().split(" ").map(Number);
  return r;
}

interface Summary {
  probes: {
    name: string;
    counts: number[];
    total: number;
    hist?: { lo: number; hi: number; count: number }[];
  }[];
  events: number;
  patchEvents: number;
  lost: number[];
  patch: {
    runs: number;
    enabled: number;
    disabled: number;
    syncs: number;
    ipis: number;
    protocol: string;
    armedAt: number[];
    disarmedAt: number[];
    parkedStallCycles: number;
  };
  files: Record<string, string>;
  exit: { code: number };
}
const summaryOf = (stdout: string): Summary => JSON.parse(stdout.trim().split("\n").at(-1)!) as Summary;

const EVENT_LINE = /^\d+ cpu\d+ [\w:]+:/;

describe("xmc trace output agrees: text, JSON lines, CTF (babeltrace2), Chrome JSON", () => {
  test.skipIf(!requireTools("babeltrace2"))("same events counted four ways", () => {
    const specs = ["-e", "marker:shop:request_*", "-e", "usdt:shop:usdt_item", "-e", "func:price"];
    const d1 = tmp();
    const text = trace("--cpus", "4", ...specs, "-o", d1, SHOP, "300");
    expect(text.status).toBe(0);
    const textEvents = text.stdout.split("\n").filter((l) => EVENT_LINE.test(l)).length;
    const d2 = tmp();
    const json = trace("--cpus", "4", ...specs, "--format", "json", "--json", "-o", d2, SHOP, "300");
    expect(json.status).toBe(0);
    const jsonEvents = json.stdout.split("\n").filter((l) => l.startsWith('{"time"')).length;
    const s = summaryOf(json.stdout);
    const bt = spawnSync("babeltrace2", [join(d1, "ctf")], { encoding: "utf8", maxBuffer: 1 << 28 });
    expect(bt.status).toBe(0);
    const btLines = bt.stdout.trim().split("\n");
    const btEvents = btLines.filter((l) => !l.includes(" xmc_patch:")).length;
    const chrome = JSON.parse(readFileSync(join(d1, "trace.json"), "utf8")) as {
      traceEvents: { name: string; ph: string }[];
    };
    const chromeEvents = chrome.traceEvents.filter(
      (e) => e.ph === "i" && !e.name.startsWith("xmc_patch:"),
    ).length;
    // The program's own counters: 4 x 300 requests.
    const c = counters(text.stdout);
    const expected =
      c.request_start![0]! + c.request_done![0]! + c.request_error![0]! + c.usdt_item![0]! + c.price![0]!;
    expect(textEvents).toBe(expected);
    expect(jsonEvents).toBe(expected);
    expect(btEvents).toBe(expected);
    expect(chromeEvents).toBe(expected);
    expect(s.events).toBe(expected);
    expect(btLines.length - btEvents).toBe(s.patchEvents);
    expect(s.lost).toEqual([0, 0, 0, 0]);
    // The same arguments in text and CTF: request_start's ids sum to the program's own sum.
    const ids = json.stdout
      .split("\n")
      .filter((l) => l.includes('"probe":"shop:request_start"'))
      .map((l) => (JSON.parse(l) as { args: number[] }).args[1]!);
    expect(ids.reduce((a, b) => a + b, 0)).toBe(c.request_start![1]);
    const btIds = btLines
      .filter((l) => l.includes("shop:request_start:"))
      .map((l) => Number(/arg1 = (\d+)/.exec(l)![1]));
    expect(btIds.reduce((a, b) => a + b, 0)).toBe(c.request_start![1]);
    expect(existsSync(join(d1, "report.html"))).toBe(true);
    // xmc report rebuilds the same report from the directory: one lane per CPU (the patching
    // agent's stream is not a lane), one mark per probe event.
    const first = readFileSync(join(d1, "report.html"), "utf8");
    const rep = spawnSync("node", [xmc, "report", d1], { encoding: "utf8" });
    expect(rep.status).toBe(0);
    const again = readFileSync(join(d1, "report.html"), "utf8");
    for (const html of [first, again]) {
      expect(html.match(/<g class="lane" data-cpu="\d+"/g)).toHaveLength(4);
      expect(html.match(/data-event=/g)).toHaveLength(expected);
    }
  });
});

describe("spec forms, actions and options", () => {
  test("marker:, usdt: and func: specs count what the program counts; count and hist actions", () => {
    const r = trace(
      "--cpus",
      "4",
      "--json",
      "-e",
      "marker:shop:request_done { hist(arg1) }",
      "-e",
      "marker:shop:request_err?r { count }",
      "-e",
      "usdt:shop:usdt_* { count }",
      "-e",
      "func:pri* { count }",
      SHOP,
      "200",
    );
    expect(r.status).toBe(0);
    // count and hist print no event lines
    expect(r.stdout.split("\n").filter((l) => EVENT_LINE.test(l))).toEqual([]);
    const c = counters(r.stdout);
    const s = summaryOf(r.stdout);
    const total = (n: string) => s.probes.find((p) => p.name === n)!.total;
    expect(total("shop:request_done")).toBe(c.request_done![0]);
    expect(total("shop:request_error")).toBe(c.request_error![0]);
    expect(total("shop:usdt_item")).toBe(c.usdt_item![0]);
    // Arming usdt_audit's semaphore makes the program fire it: it counts what the probe saw.
    expect(total("shop:usdt_audit")).toBe(c.usdt_audit![0]);
    expect(c.usdt_audit![0]).toBe(800);
    expect(total("func:price")).toBe(c.price![0]);
    const hist = s.probes.find((p) => p.name === "shop:request_done")!.hist!;
    expect(hist.reduce((a, b) => a + b.count, 0)).toBe(c.request_done![0]);
    for (const b of hist) expect(b.hi).toBe(b.lo === 0 ? 1 : 2 * b.lo);
    expect(s.probes.every((p) => p.counts.length === 4)).toBe(true);
  });

  test("kprobe:, kretprobe: and djprobe: specs count what the program counts", () => {
    const r = trace(
      "--cpus",
      "4",
      "--json",
      "-e",
      "kprobe:price { count }",
      "-e",
      "kretprobe:price { hist(arg0) }",
      "-e",
      "djprobe:price+5 { count }",
      "-e",
      "djprobe:worker { count }",
      SHOP,
      "200",
    );
    expect(r.status).toBe(0);
    const c = counters(r.stdout);
    const s = summaryOf(r.stdout);
    const total = (n: string) => s.probes.find((p) => p.name === n)!.total;
    expect(total("kprobe:price")).toBe(c.price![0]);
    expect(total("kretprobe:price")).toBe(c.price![0]);
    expect(total("djprobe:price:0x5")).toBe(c.price![0]);
    // worker runs once per thread: main's own call and three pthreads.
    expect(total("djprobe:worker")).toBe(4);
    // price returns (id * 7919 + tid * 13) % 1000: below 1000.
    const hist = s.probes.find((p) => p.name === "kretprobe:price")!.hist!;
    expect(hist.reduce((a, b) => a + b.count, 0)).toBe(c.price![0]);
    expect(Math.max(...hist.map((b) => b.hi))).toBeLessThanOrEqual(1024);
    // The program's output is unchanged by the probes.
    expect(r.stdout.split("\n").filter((l) => /^[a-z_]+ \d/.test(l))).toEqual(
      trace("-e", "marker:shop:request_start { count }", SHOP, "200")
        .stdout.split("\n")
        .filter((l) => /^[a-z_]+ \d/.test(l)),
    );
  });

  test("--arm-at/--disarm-at: events only between the two times; both protocols", () => {
    for (const protocol of ["int3", "stop-machine"]) {
      const r = trace(
        "--cpus",
        "4",
        "--format",
        "json",
        "--json",
        "--protocol",
        protocol,
        "--arm-at",
        "60000",
        "--disarm-at",
        "120000",
        "-e",
        "marker:shop:request_start",
        SHOP,
        "2000",
      );
      expect(r.status).toBe(0);
      const s = summaryOf(r.stdout);
      expect(s.patch.protocol).toBe(protocol === "int3" ? "int3-batch" : "stop-machine");
      expect(s.patch.runs).toBe(2);
      const [armed] = s.patch.armedAt;
      const [disarmed] = s.patch.disarmedAt;
      expect(armed!).toBeGreaterThanOrEqual(60000);
      expect(disarmed!).toBeGreaterThanOrEqual(120000);
      const times = r.stdout
        .split("\n")
        .filter((l) => l.startsWith('{"time"'))
        .map((l) => (JSON.parse(l) as { time: number }).time);
      expect(times.length).toBeGreaterThan(0);
      expect(times.length).toBeLessThan(8000);
      expect(Math.min(...times)).toBeGreaterThanOrEqual(60000);
      expect(Math.max(...times)).toBeLessThanOrEqual(disarmed! + 5000);
      if (protocol === "stop-machine") expect(s.patch.parkedStallCycles).toBeGreaterThan(0);
      else expect(s.patch.syncs).toBe(6);
    }
  });

  test("--format ctf and --format chrome write only their file; --seed and --cpus are the run's", () => {
    const d = tmp();
    const r = trace(
      "--cpus",
      "2",
      "--seed",
      "7",
      "--format",
      "ctf",
      "-o",
      d,
      "-e",
      "marker:shop:request_start",
      SHOP,
      "50",
    );
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n").filter((l) => EVENT_LINE.test(l))).toEqual([]);
    expect(existsSync(join(d, "ctf", "metadata"))).toBe(true);
    expect(existsSync(join(d, "trace.json"))).toBe(false);
    expect(r.stdout).toMatch(/on 2 CPUs/);
    const d2 = tmp();
    const c = trace("--format", "chrome", "-o", d2, "-e", "marker:shop:request_start", SHOP, "50");
    expect(c.status).toBe(0);
    expect(existsSync(join(d2, "trace.json"))).toBe(true);
    expect(existsSync(join(d2, "ctf"))).toBe(false);
  });

  test("--precise --strict: the run is checked, zero hazards with the INT3 protocol", () => {
    const r = trace(
      "--precise",
      "--strict",
      "--cpus",
      "4",
      "--json",
      "--arm-at",
      "5000",
      "--disarm-at",
      "40000",
      "-e",
      "marker:shop:*",
      SHOP,
      "300",
    );
    expect(r.status).toBe(0);
    const s = summaryOf(r.stdout) as Summary & { hazards: Record<string, number> };
    expect(Object.values(s.hazards).every((n) => n === 0)).toBe(true);
    expect(s.patch.runs).toBe(2);
  });

  test.skipIf(!requireTools("babeltrace2"))(
    "a run stopped mid-trace (instruction limit) still leaves a complete, readable trace",
    () => {
      const d = tmp();
      const r = trace(
        "--cpus",
        "4",
        "--max-insns",
        "300000",
        "--json",
        "-e",
        "marker:shop:request_*",
        "-o",
        d,
        SHOP,
        "2000",
      );
      expect(r.status).toBe(124);
      const s = summaryOf(r.stdout) as Summary & { exit: { instructionLimit: boolean } };
      expect(s.exit.instructionLimit).toBe(true);
      expect(s.events).toBeGreaterThan(0);
      const bt = spawnSync("babeltrace2", [join(d, "ctf")], { encoding: "utf8", maxBuffer: 1 << 28 });
      expect(bt.status).toBe(0);
      expect(
        bt.stdout
          .trim()
          .split("\n")
          .filter((l) => !l.includes(" xmc_patch:")),
      ).toHaveLength(s.events);
    },
  );

  test("bad specs and options are one clear line", () => {
    const bad = (args: string[], msg: string) => {
      const r = trace(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`${msg}\n`);
    };
    bad(
      ["-e", "marker:shop:nope", SHOP],
      'xmc trace: -e marker:shop:nope: no marker site matches "shop:nope" (see xmc markers PROGRAM)',
    );
    bad(
      ["-e", "usdt:shop:request_start", SHOP],
      "xmc trace: -e usdt:shop:request_start: shop:request_start is a nop5 site, not a usdt (use marker:)",
    );
    bad(
      ["-e", "tracepoint:x", SHOP],
      'xmc trace: bad spec "tracepoint:x": unknown kind "tracepoint" (use marker, usdt, func, kprobe, kretprobe, djprobe)',
    );
    bad(
      ["-e", "marker:shop", SHOP],
      'xmc trace: bad spec "marker:shop": marker needs PROVIDER:NAME (globs * and ? allowed)',
    );
    bad(
      ["-e", "marker:shop:request_start { sum }", SHOP],
      'xmc trace: bad spec "marker:shop:request_start { sum }": the action must be { print }, { count } or { hist(argN) }',
    );
    bad(
      ["-e", "marker:shop:request_start { hist(arg5) }", SHOP],
      "xmc trace: -e marker:shop:request_start { hist(arg5) }: shop:request_start has 2 argument(s); hist(arg5) is out of range",
    );
    bad(
      ["-e", "kprobe:price+x", SHOP],
      'xmc trace: bad spec "kprobe:price+x": kprobe needs SYMBOL or SYMBOL+OFFSET',
    );
    bad(["-e", "kprobe:nosuch", SHOP], "xmc trace: -e kprobe:nosuch: no-symbol: no function symbol nosuch");
    bad(
      ["-e", "kprobe:price+6", SHOP],
      "xmc trace: -e kprobe:price+6: boundary: 0x4012a6: not an instruction boundary of price (decoded from its symbol)",
    );
    bad(
      ["-e", "djprobe:worker+8", SHOP],
      "xmc trace: -e djprobe:worker+8: the optimizer refuses it: not-relocatable: 0x401308: the instruction at 0x401308 is a branch (it would have to be emulated) (kprobe:worker+0x8 works there)",
    );
    bad([SHOP], "xmc trace: give at least one -e SPEC (see xmc trace --help)");
    bad(
      ["-e", "marker:shop:*", "--format", "xml", SHOP],
      'xmc trace: --format must be text, json, ctf or chrome, not "xml"',
    );
    bad(
      ["-e", "marker:shop:*", "--format", "ctf", SHOP],
      "xmc trace: --format ctf writes a file: give -o DIR",
    );
    bad(
      ["-e", "marker:shop:*", "--protocol", "naive", SHOP],
      'xmc trace: --protocol must be int3 or stop-machine, not "naive"',
    );
    bad(
      ["-e", "marker:shop:*", "--arm-at", "10", "--disarm-at", "5", SHOP],
      "xmc trace: --disarm-at 5 is before --arm-at 10",
    );
    bad(["-e", "marker:shop:*", "-x", SHOP], "xmc trace: unknown option -x (see xmc trace --help)");
  });
});
