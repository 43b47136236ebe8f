/**
 * Acceptance 3 of the markers issue: the format check, globbing, reference counting, many
 * probes per marker, disconnecting a probe while its marker fires on other CPUs, a probe that
 * throws; and the refusals (each names its rule and writes nothing).
 */
import { describe, expect, test } from "vitest";
import {
  formatProblem,
  formatsAgree,
  MarkerError,
  type MarkerEvent,
  parseFormat,
  renderFormat,
} from "../src/index.ts";
import { program, session } from "./helpers/run.ts";

function rule(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MarkerError) return e.rule;
    throw e;
  }
  return "none";
}

describe("formats", () => {
  test("conversions are parsed and checked against the argument specs", () => {
    expect(parseFormat("id=%d n=%lu %s %c %p %lx %% %u %ld")).toEqual([
      "d",
      "lu",
      "s",
      "c",
      "p",
      "lx",
      "u",
      "ld",
    ]);
    expect(rule(() => parseFormat("%f"))).toBe("bad-format");
    expect(rule(() => parseFormat("%"))).toBe("bad-format");
    expect(formatProblem("%d %lu", [{ size: -4 }, { size: 8 }])).toBeUndefined();
    expect(formatProblem("%d", [{ size: 8 }])).toMatch(/%d does not fit argument 1 of 8 byte/);
    expect(formatProblem("%d %d", [{ size: 4 }])).toMatch(/2 conversion\(s\) for 1 argument/);
    expect(formatsAgree("%d %lu", "%d %lu", false)).toBe(true);
    expect(formatsAgree("%d %lx", "%d %lu", false)).toBe(false);
    expect(formatsAgree("%d %lx", "%d %lu", true)).toBe(true);
    expect(formatsAgree("%d %d", "%d %lu", true)).toBe(false);
    expect(renderFormat("t=%d id=%lx %s %p 100%%", [3, 255n, "ok", 4096n])).toBe("t=3 id=ff ok 0x1000 100%");
  });

  test("a probe whose format differs from the marker's is refused, naming both", () => {
    const s = session("shop");
    let err: unknown;
    try {
      s.markers.connect("shop:request_start", "%d %d", () => {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MarkerError);
    expect((err as MarkerError).rule).toBe("format");
    expect((err as Error).message).toBe(
      'probe format "%d %d" does not match marker shop:request_start format "%d %lu"',
    );
  });
});

describe("discovery", () => {
  test("the shop fixture's sites: kinds, formats, functions", () => {
    const { sites } = program("shop");
    const by = (n: string) => sites.filter((s) => `${s.provider}:${s.name}` === n);
    expect(by("shop:request_start").map((s) => [s.kind, s.format, s.length])).toEqual([
      ["nop5", "%d %lu", 5],
    ]);
    expect(by("shop:request_done").map((s) => [s.kind, s.format])).toEqual([["jmp2", "%d %ld %s"]]);
    expect(by("shop:request_error").map((s) => [s.kind, s.format])).toEqual([["call", "%d %lx"]]);
    const call = by("shop:request_error")[0]!;
    expect(call.flag).toBeGreaterThan(0);
    expect(call.argsText).toBe("-4@%edi -8@%rsi");
    const usdt = by("shop:usdt_audit")[0]!;
    expect(usdt.kind).toBe("usdt");
    expect(usdt.semaphore).toBeGreaterThan(0);
    expect(by("func:price").map((s) => [s.kind, s.length, s.function])).toEqual([["patchable", 1, "price"]]);
    for (const s of sites) expect(s.problem).toBeUndefined();
  });

  test("mcount entries (-pg -mfentry -mnop-mcount -mrecord-mcount) are function-entry sites", () => {
    const { sites } = program("entries");
    expect(sites.map((s) => [s.kind, s.name, s.address === s.functionAddress])).toEqual([
      ["fentry", "main", true],
      ["fentry", "square", true],
      ["fentry", "cube", true],
    ]);
  });

  test("function-entry probes count calls exactly", () => {
    const s = session("entries", { cpus: 2 });
    const n: Record<string, number> = {};
    s.markers.connect("func:*", "", (e) => {
      n[e.marker] = (n[e.marker] ?? 0) + 1;
    });
    s.port.runAgent(s.markers.arm("func:*"), 0);
    const r = s.run();
    expect(r.out).toBe(`${[...Array(100).keys()].reduce((a, i) => a + i * i * i - i * i, 0)}\n`);
    // main once; cube 100 times; square 100 (from main) + 100 (from cube).
    expect(n).toEqual({ "func:main": 1, "func:cube": 100, "func:square": 200 });
  });
});

describe("probe management on 4 CPUs", () => {
  const plain = session("shop").run();

  test("globs: provider:name patterns, names alone, ? and *", () => {
    const s = session("shop");
    const names = (p: string) => s.markers.find(p).map((x) => `${x.provider}:${x.name}`);
    expect(names("shop:request_*")).toEqual(
      ["shop:request_start", "shop:request_error", "shop:request_done"].sort(
        (a, b) => s.markers.find(a)[0]!.address - s.markers.find(b)[0]!.address,
      ),
    );
    expect(names("usdt_?tem")).toEqual(["shop:usdt_item"]);
    expect(names("*:price")).toEqual(["func:price"]);
    expect(rule(() => s.markers.find("shop:nothing*"))).toBe("no-match");
    expect(rule(() => s.markers.find("shop:(a|b)"))).toBe("bad-pattern");
    expect(rule(() => s.markers.arm("nope"))).toBe("no-match");
  });

  test("reference counting: armed twice, disarmed once, still on; disarmed again, off; once more is refused", () => {
    const s = session("shop", { argv: ["2000"] });
    const times: number[] = [];
    s.markers.connect("shop:request_start", "%d %lu", (e) => {
      times.push(e.time);
    });
    const phase: number[] = [];
    const record = () => phase.push(times.length);
    s.port.runAgent(s.markers.arm("shop:request_start"), 0, record);
    s.port.runAgent(s.markers.arm("shop:request_*"), 30000, record);
    s.port.runAgent(s.markers.disarm("shop:request_start"), 60000, record);
    s.port.runAgent(s.markers.disarm("shop:request_*"), 90000, record);
    expect(rule(() => s.markers.disarm("shop:request_start"))).toBe("not-armed");
    const r = s.run();
    expect(r.out).toBe(session("shop", { argv: ["2000"] }).run().out);
    expect(phase).toHaveLength(4);
    // Between the third run (count 2 -> 1) and the fourth (1 -> 0) the marker still fires.
    expect(phase[3]!).toBeGreaterThan(phase[2]!);
    expect(phase[2]!).toBeGreaterThan(phase[1]!);
    // After the last disarm it fires no more.
    expect(times.length).toBe(phase[3]);
    expect(s.markers.armed("shop:request_start")).toEqual([0]);
  });

  test("many probes per marker; a probe disconnected by another while the marker fires on all CPUs", () => {
    const s = session("shop");
    const a: MarkerEvent[] = [];
    const b: MarkerEvent[] = [];
    const c: MarkerEvent[] = [];
    let cb: ReturnType<typeof s.markers.connect> | undefined;
    s.markers.connect("shop:request_start", "%d %lu", (e) => {
      a.push(e);
      if (a.length === 700) cb!.disconnect();
    });
    cb = s.markers.connect("shop:request_start", "%d %lu", (e) => b.push(e));
    s.markers.connect("request_st*", "%d %lu", (e) => c.push(e)); // a name-only glob
    expect(a.length + b.length + c.length).toBe(0);
    s.port.runAgent(s.markers.arm("shop:request_start"), 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(a).toHaveLength(2000);
    expect(c).toHaveLength(2000);
    // A is called before B for each hit: B saw the 699 hits before the one that disconnected it.
    expect(b).toHaveLength(699);
    expect(b.map((e) => e.time)).toEqual(a.slice(0, 699).map((e) => e.time));
    expect(new Set(a.slice(0, 700).map((e) => e.cpu)).size).toBeGreaterThan(1);
    expect(cb.connected).toBe(false);
    expect(rule(() => cb!.disconnect())).toBe("disconnected");
  });

  test("a probe that throws is isolated: reported once, counted, the guest and other probes go on", () => {
    const reports: string[] = [];
    const s = session("shop", {
      markers: {
        onProbeError: (e, conn, ev) => reports.push(`${conn.pattern} ${ev.marker} ${(e as Error).message}`),
      },
    });
    let good = 0;
    const bad = s.markers.connect("shop:request_done", "%d %ld %s", () => {
      throw new Error("boom");
    });
    s.markers.connect("shop:request_done", "%d %ld %s", () => {
      good++;
    });
    s.port.runAgent(s.markers.arm("shop:request_done"), 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    const done = Number(/request_done (\d+)/.exec(r.out)![1]);
    expect(good).toBe(done);
    expect(bad.errors).toBe(done);
    expect(bad.calls).toBe(done);
    expect(reports).toEqual(["shop:request_done shop:request_done boom"]);
  });

  test("USDT semaphores count enablings in guest memory", () => {
    const s = session("shop");
    const sem = s.markers.find("shop:usdt_audit")[0]!.semaphore!;
    const read = () => s.port.readMem(sem, 2)[0]! | (s.port.readMem(sem, 2)[1]! << 8);
    expect(read()).toBe(0);
    const seq: number[] = [];
    s.port.runAgent(s.markers.arm("shop:usdt_*"), 0, () => seq.push(read()));
    s.port.runAgent(s.markers.disarm("shop:usdt_*"), 20000, () => seq.push(read()));
    s.run();
    expect(seq).toEqual([1, 0]);
  });

  test("refusals write nothing: a site that does not hold its NOP, an unsafe protocol", () => {
    const s = session("shop");
    const site = s.markers.find("shop:request_start")[0]!;
    s.port.writeMem(site.address, Uint8Array.of(0x90, 0x90, 0x90, 0x90, 0x90));
    const before = s.port.stores;
    let err: unknown;
    try {
      s.markers.arm("shop:request_*");
    } catch (e) {
      err = e;
    }
    expect((err as MarkerError).rule).toBe("site");
    expect((err as Error).message).toMatch(/holds 90 90 90 90 90, not the nop5 site 0f 1f 44 00 00/);
    expect(s.port.stores).toBe(before);
    expect(s.markers.armed("shop:request_*")).toEqual([0, 0, 0]);
    expect(rule(() => session("shop", { markers: { protocol: "naive" } }))).toBe("protocol");
  });
});
