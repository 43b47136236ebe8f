/**
 * The Chrome trace-event JSON export (the format Perfetto and chrome://tracing open): it
 * parses as JSON, has one named track per CPU and a named process, shows instants, balanced
 * duration slices, counters and discarded events, converts timestamps to microseconds, and
 * keeps strings with quotes, newlines and non-ASCII (acceptance 3, JSON part).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chromeTraceJson, DISCARDED_EVENT_NAME, TraceBuffers, writeChromeJson } from "../src/index.ts";
import { NASTY_STRINGS, SCHEMA } from "./helpers/scenario.ts";

interface ChromeEvent {
  name: string;
  ph: string;
  ts?: number;
  pid: number;
  tid?: number;
  s?: string;
  args?: Record<string, unknown>;
}

function build() {
  const b = TraceBuffers.create({
    schema: SCHEMA,
    cpus: 2,
    subBufferSize: 512,
    subBufferCount: 2,
    clock: { unit: "cycles", frequency: 2_000_000_000 },
  });
  const w0 = b.writer(0);
  const w1 = b.writer(1);
  let t = 1000;
  NASTY_STRINGS.forEach((s, i) => {
    w0.emit("sched:switch", (t += 10), [s, `next ${i}`, i]);
  });
  w1.emit("irq_entry", (t += 10), [33, 0xffffffffffffffffn]);
  w1.emit("irq_entry", (t += 10), [34, 1]); // nested slice
  w1.emit("queue", (t += 10), [5, 0.25]);
  w1.emit("irq_exit", (t += 10), [34]);
  w1.emit("irq_exit", (t += 10), [33]);
  w1.emit("all", (t += 10), [1, 2, 3, 4, -1, -2, -3, -4, 1.5, "x", new Uint8Array([0xde, 0xad])]);
  // Overfill CPU 1 with no reader: the dropped events show as "discarded events".
  let dropped = 0;
  for (let i = 0; i < 40; i++) if (!w1.emit("sample", (t += 10), [i, i, i])) dropped++;
  w0.close();
  w1.close();
  const trace = b.reader().drain(undefined, true);
  return { trace, dropped, end: t };
}

describe("Chrome trace-event JSON", () => {
  const { trace, dropped } = build();
  const text = chromeTraceJson(trace, { processName: 'xmc "test" ✓' });
  const json = JSON.parse(text) as { traceEvents: ChromeEvent[]; displayTimeUnit: string };
  const events = json.traceEvents;

  it("parses and names the process and one track per CPU", () => {
    expect(json.displayTimeUnit).toBe("ns");
    expect(events.find((e) => e.ph === "M" && e.name === "process_name")?.args).toEqual({
      name: 'xmc "test" ✓',
    });
    const threads = events.filter((e) => e.ph === "M" && e.name === "thread_name");
    expect(threads.map((e) => [e.tid, e.args?.["name"]])).toEqual([
      [0, "CPU 0"],
      [1, "CPU 1"],
    ]);
    for (const e of events) expect(e.pid).toBe(1);
    for (const e of events.filter((x) => x.ph !== "M")) expect([0, 1]).toContain(e.tid);
  });

  it("keeps strings with quotes, backslashes, newlines and non-ASCII exactly", () => {
    const switches = events.filter((e) => e.name === "sched:switch");
    expect(switches.map((e) => e.args?.["prev"])).toEqual(NASTY_STRINGS);
    expect(switches.every((e) => e.ph === "i" && e.s === "t" && e.tid === 0)).toBe(true);
  });

  it("converts timestamps to microseconds with the clock frequency, in order per track", () => {
    const first = events.find((e) => e.name === "sched:switch")!;
    expect(first.ts).toBe(1010 / 2000); // 1010 cycles at 2 GHz = 0.505 µs
    for (const tid of [0, 1]) {
      const ts = events.filter((e) => e.tid === tid && e.ph !== "M").map((e) => e.ts!);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
  });

  it("shows begin/end classes as balanced, nested duration slices and counters as counters", () => {
    const slices = events.filter((e) => e.ph === "B" || e.ph === "E");
    expect(slices.map((e) => `${e.ph}:${e.name}:${e.args?.["vector"]}`)).toEqual([
      "B:irq:33",
      "B:irq:34",
      "E:irq:34",
      "E:irq:33",
    ]);
    expect(slices[0]!.args?.["ip"]).toBe("18446744073709551615");
    const counter = events.find((e) => e.ph === "C")!;
    expect(counter.name).toBe("queue [CPU 1]");
    expect(counter.args).toEqual({ depth: 5, load: 0.25 });
    const all = events.find((e) => e.name === "all")!;
    expect(all.args?.["data"]).toBe("dead");
    expect(all.args?.["s64"]).toBe(-4);
  });

  it("shows lost events as instant 'discarded events' with their count and reason", () => {
    const lost = events.filter((e) => e.name === DISCARDED_EVENT_NAME);
    expect(dropped).toBeGreaterThan(0);
    expect(lost.every((e) => e.ph === "i" && e.tid === 1)).toBe(true);
    expect(lost.reduce((n, e) => n + (e.args?.["count"] as number), 0)).toBe(dropped);
    expect(lost.every((e) => e.args?.["reason"] === "full")).toBe(true);
  });

  it("writes the same text to a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmc-tb-json-"));
    try {
      const file = join(dir, "trace.json");
      const n = writeChromeJson(trace, file, { processName: 'xmc "test" ✓' });
      const back = readFileSync(file, "utf8");
      expect(back).toBe(text);
      expect(Buffer.byteLength(back)).toBe(n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
