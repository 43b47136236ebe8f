/**
 * Acceptance 1 of the markers issue on the 4-thread shop fixture (test/fixtures/src/shop.c):
 * armed for the whole run, every probe's hit count and the sums of its decoded arguments equal
 * the program's own counters; armed and disarmed repeatedly while all threads run, in strict
 * precise mode, zero hazards and the same output.
 */
import { describe, expect, test } from "vitest";
import type { MarkerEvent } from "../src/index.ts";
import { session } from "./helpers/run.ts";

/** The program's counters: "name n sum..." lines. */
function counters(out: string): Record<string, bigint[]> {
  const r: Record<string, bigint[]> = {};
  for (const line of out.trim().split("\n")) {
    const [k, ...v] = line.split(" ");
    r[k!] = v.map((x) => BigInt(x));
  }
  return r;
}

/** djb2 as the fixture computes it (unsigned long arithmetic). */
function djb2(s: string): bigint {
  let h = 5381n;
  for (const ch of Buffer.from(s)) h = BigInt.asUintN(64, h * 33n + BigInt(ch));
  return h;
}

describe("shop fixture on 4 CPUs", () => {
  const plain = session("shop").run();

  test("the uninstrumented run prints the expected counters", () => {
    // 4 threads x 500 requests; ids t*100000+i; every 37th id is an error.
    const c = counters(plain.out);
    expect(plain.code).toBe(0);
    expect(c.request_start).toEqual([2000n, 300499000n]);
    expect(c.request_error![0]! + c.request_done![0]!).toBe(2000n);
    expect(c.usdt_audit).toEqual([0n]);
  });

  test("armed for the whole run: hit counts and argument values equal the program's own counters", () => {
    const s = session("shop");
    const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
    const seen: Record<string, MarkerEvent[]> = {};
    const keep = (k: string) => (e: MarkerEvent) => {
      (seen[k] ??= []).push(e);
    };
    s.markers.connect("shop:request_start", "%d %lu", keep("start"));
    s.markers.connect("shop:request_done", "%d %ld %s", keep("done"));
    s.markers.connect("shop:request_error", "%d %lx", keep("err"));
    s.markers.connect("shop:usdt_item", "%d %d", keep("usdt"));
    s.markers.connect("shop:usdt_audit", "%lu", keep("audit"));
    s.markers.connect("func:price", "", keep("price"));
    s.port.runAgent(s.markers.arm("*"), 0);
    const r = s.run();
    expect(r.code).toBe(0);
    const c = counters(r.out);
    // The armed USDT semaphore makes the program fire usdt_audit: that line differs, no other.
    expect(r.out.replace(/usdt_audit \d+/, "")).toBe(plain.out.replace(/usdt_audit \d+/, ""));
    expect(c.usdt_audit).toEqual([2000n]);

    const start = seen.start!;
    expect(BigInt(start.length)).toBe(c.request_start![0]);
    expect(sum(start.map((e) => e.args[1] as bigint))).toBe(c.request_start![1]);
    // Each thread's ids are tid*100000 + i.
    for (const e of start) expect((e.args[1] as bigint) / 100000n).toBe(BigInt(e.args[0] as number));

    const done = seen.done!;
    expect(BigInt(done.length)).toBe(c.request_done![0]);
    expect(sum(done.map((e) => e.args[1] as bigint))).toBe(c.request_done![1]);
    expect(BigInt.asIntN(64, sum(done.map((e) => djb2(e.args[2] as string))))).toBe(c.request_done![2]);
    for (const e of done)
      expect(["apple", "bread", "coffee", "dates", "eggs", "figs", "grapes"]).toContain(e.args[2]);

    const err = seen.err!;
    expect(BigInt(err.length)).toBe(c.request_error![0]);
    expect(sum(err.map((e) => e.args[1] as bigint))).toBe(c.request_error![1]);

    const usdt = seen.usdt!;
    expect(BigInt(usdt.length)).toBe(c.usdt_item![0]);
    expect(sum(usdt.map((e) => BigInt(e.args[1] as number)))).toBe(c.usdt_item![1]);
    expect(BigInt(seen.audit!.length)).toBe(c.usdt_audit![0]);
    expect(BigInt(seen.price!.length)).toBe(c.price![0]);

    // Every CPU and thread took part; times are the CPUs' modeled clocks, increasing per CPU.
    const cpus = new Set(start.map((e) => e.cpu));
    expect(cpus.size).toBe(4);
    for (const cpu of cpus) {
      const t = start.filter((e) => e.cpu === cpu).map((e) => e.time);
      for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    }
    expect(s.markers.totals.probeErrors).toBe(0);
    expect(s.markers.totals.argFaults).toBe(0);
  });

  /** Arm and disarm every marker but usdt_audit (whose semaphore changes what the program does) ten times. */
  function cycling(opts: { protocol?: "int3-batch" | "stop-machine" | "naive"; unsafe?: boolean }) {
    const s = session("shop", {
      precise: { strict: true },
      argv: ["3000"],
      markers: { ...opts, onProbeError: () => {} },
    });
    let hits = 0;
    s.markers.connect("shop:request_start", "%d %lu", () => {
      hits++;
    });
    const which = ["shop:request_*", "shop:usdt_item", "func:price"];
    const runs: { enabled: number; disabled: number; ipis: number }[] = [];
    for (let i = 0; i < 10; i++) {
      const steps = i % 2 === 0 ? s.markers.arm(which) : s.markers.disarm(which);
      s.port.runAgent(steps, 5000 + i * 30000, (v) =>
        runs.push({
          enabled: v.enabled,
          disabled: v.disabled,
          ipis: v.batches.reduce((a, b) => a + b.ipis, 0),
        }),
      );
    }
    const r = s.run();
    return { r, hits, runs, hazards: s.machine.precise!.hazards };
  }
  const plain3000 = session("shop", { argv: ["3000"] }).run();

  test("armed and disarmed ten times under load in strict precise mode (INT3 protocol): zero hazards, same output", () => {
    const { r, hits, runs, hazards } = cycling({});
    expect(hazards).toEqual([]);
    expect(r.out).toBe(plain3000.out);
    expect(runs).toHaveLength(10);
    // Every arming enabled the 5 sites (3 markers, the USDT probe, price's entry) and every
    // disarming disabled them; each run made one batch with three syncs to 4 CPUs.
    for (const [i, run] of runs.entries()) {
      expect(run.enabled + run.disabled).toBe(5);
      expect(i % 2 === 0 ? run.enabled : run.disabled).toBe(5);
      expect(run.ipis).toBe(12);
    }
    expect(hits).toBeGreaterThan(0);
    expect(hits).toBeLessThan(12000);
  });

  test("the same with stop-machine: zero hazards, same output", () => {
    const { r, hazards, runs } = cycling({ protocol: "stop-machine" });
    expect(hazards).toEqual([]);
    expect(r.out).toBe(plain3000.out);
    expect(runs).toHaveLength(10);
  });

  test("control: the naive protocol (plain writes while CPUs run) is caught by the same check", () => {
    const { hazards } = cycling({ protocol: "naive", unsafe: true });
    expect(hazards.length).toBeGreaterThan(0);
  });
});
