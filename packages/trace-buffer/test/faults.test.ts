/**
 * Trace integrity under faults (issue 12):
 * - a full disk (a write function injected through the exporters' `write` option that stops
 *   at a capacity: a short write, then ENOSPC) at every interesting point of a CTF and a
 *   Chrome JSON export: `TraceBufferError` `WRITE_FAILED`, and what is on disk is a readable,
 *   shorter trace (babeltrace2 reads it without a warning; `JSON.parse` parses it) holding
 *   exactly the counted events, the first ones in order; written + lost = all;
 * - an I/O error on the n-th write call, for every n;
 * - a writer whose guest died in the middle of an event (reservation open): the host discards
 *   the half-written event and closes the writer; every event committed before is exported and
 *   read back, nothing else.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, describe, expect, test } from "vitest";
import {
  chromeTraceJson,
  mergeEvents,
  type Trace,
  TraceBufferError,
  TraceBuffers,
  type WriteFunction,
  writeChromeJson,
  writeCtf,
} from "../src/index.ts";
import { babeltrace } from "./helpers/babeltrace.ts";
import { SCHEMA } from "./helpers/scenario.ts";

const root = mkdtempSync(join(tmpdir(), "xmc-faults-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (what: string) => join(root, `${what}${n++}`);

/** A disk of `capacity` bytes holding the files under `path` (a directory or one file). */
function fullDisk(capacity: number, path: string): WriteFunction {
  const used = () =>
    statSync(path).isDirectory()
      ? readdirSync(path).reduce((s, name) => s + statSync(join(path, name)).size, 0)
      : statSync(path).size;
  return (fd, bytes, offset, length, position) => {
    const room = capacity - used();
    if (room <= 0)
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    return writeSync(fd, bytes, offset, Math.min(length, room), position);
  };
}

/** Fails with EIO at the `failAt`-th call (0-based), writes normally before. */
function failingCall(failAt: number): WriteFunction {
  let calls = 0;
  return (fd, bytes, offset, length, position) => {
    if (calls++ === failAt) throw Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" });
    return writeSync(fd, bytes, offset, length, position);
  };
}

/** Two CPUs, several packets each; event i carries `i` in its `cpu` field, in time order. */
function build(): { trace: Trace; events: number } {
  const b = TraceBuffers.create({ schema: SCHEMA, cpus: 2, subBufferSize: 1024, subBufferCount: 64 });
  const w = [b.writer(0), b.writer(1)];
  let ts = 100;
  let events = 0;
  for (let i = 0; i < 300; i++) {
    if (w[i % 2]!.emit("sched:switch", (ts += 7), [`prev ${i} "q"`, `next\n${i}`, i])) events++;
  }
  for (const x of w) x.close();
  return { trace: b.reader().drain(undefined, true), events };
}

function failure(fn: () => unknown): TraceBufferError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(TraceBufferError);
    expect((e as TraceBufferError).code).toBe("WRITE_FAILED");
    return e as TraceBufferError;
  }
}

describe.runIf(requireTools("babeltrace2"))("CTF export on a full disk", () => {
  const { trace, events } = build();
  const fullDir = fresh("ctf-full");
  const full = writeCtf(trace, fullDir);
  const all = babeltrace(fullDir);
  expect(all.events.length).toBe(events);
  const streamSizes = full.streams.map((s) => statSync(join(fullDir, s)).size);
  const metaSize = statSync(join(fullDir, "metadata")).size;
  // Capacities: inside the metadata, at its end, inside and at the end of each packet region,
  // between the streams, one byte short of everything.
  const caps = new Set<number>([0, 1, metaSize - 1, metaSize, metaSize + 1, full.bytes - 1]);
  for (let c = metaSize + 40; c < full.bytes; c += 997) caps.add(c);
  caps.add(metaSize + streamSizes[0]!);
  caps.add(metaSize + streamSizes[0]! + 1);

  test.each([...caps].sort((a, b) => a - b))("capacity %i bytes", (capacity) => {
    const dir = fresh("ctf");
    mkdirSync(dir);
    const e = failure(() => writeCtf(trace, dir, { write: fullDisk(capacity, dir) }));
    expect(e, "the export must fail below the full size").toBeDefined();
    const f = e!.writeFailure!;
    expect(f.eventsWritten + f.eventsLost).toBe(events);
    expect(f.packetsWritten + f.packetsLost).toBe(full.packets);
    expect(f.bytesWritten).toBeLessThanOrEqual(capacity);
    expect(e!.message).toMatch(/ENOSPC/);
    expect(e!.message).toContain(`${f.eventsWritten} events written, ${f.eventsLost} lost`);
    const onDisk = readdirSync(dir).reduce((s, name) => s + statSync(join(dir, name)).size, 0);
    expect(onDisk).toBe(f.bytesWritten);
    if (f.bytesWritten === 0) {
      expect(capacity).toBeLessThan(metaSize);
      return;
    }
    const bt = babeltrace(dir);
    expect(bt.warnings).toEqual([]);
    expect(bt.status).toBe(0);
    expect(bt.events.length).toBe(f.eventsWritten);
    // The events kept are the first ones of each stream, in order: stream 0 before stream 1.
    const byCpu = (list: typeof bt.events, cpu: number) =>
      list.filter((x) => x.cpu === cpu).map((x) => x.fields.cpu);
    for (const cpu of [0, 1]) {
      const kept = byCpu(bt.events, cpu);
      expect(kept).toEqual(byCpu(all.events, cpu).slice(0, kept.length));
    }
  });

  test.each([0, 1, 2])("an I/O error on write call %i (metadata, stream 0, stream 1)", (failAt) => {
    const dir = fresh("ctf-eio");
    const e = failure(() => writeCtf(trace, dir, { write: failingCall(failAt) }));
    const f = e!.writeFailure!;
    expect(f.eventsWritten + f.eventsLost).toBe(events);
    expect((f.cause as { code: string }).code).toBe("EIO");
    if (f.bytesWritten > 0) {
      const bt = babeltrace(dir);
      expect(bt.warnings).toEqual([]);
      expect(bt.events.length).toBe(f.eventsWritten);
    }
  });
});

describe("Chrome JSON export on a full disk", () => {
  const { trace, events } = build();
  const fullText = chromeTraceJson(trace);
  const size = Buffer.byteLength(fullText);
  const allEvents = (JSON.parse(fullText) as { traceEvents: { ph: string }[] }).traceEvents.filter(
    (e) => e.ph !== "M",
  );
  expect(allEvents.length).toBe(events);
  const caps = [0, 1, 60, 200, 400, 401, 1000, 4096, 10_000, size - 5, size - 4, size - 1];
  for (let c = 500; c < size; c += 1733) caps.push(c);

  test.each(caps)("capacity %i bytes", (capacity) => {
    const file = fresh("chrome");
    const e = failure(() => writeChromeJson(trace, file, { write: fullDisk(capacity, file) }));
    expect(e).toBeDefined();
    const f = e!.writeFailure!;
    expect(f.eventsWritten + f.eventsLost).toBe(events);
    const text = readFileSync(file, "utf8");
    expect(Buffer.byteLength(text)).toBe(f.bytesWritten);
    expect(f.bytesWritten).toBeLessThanOrEqual(capacity);
    if (f.bytesWritten === 0) return;
    const json = JSON.parse(text) as { traceEvents: { ph: string }[] };
    const kept = json.traceEvents.filter((x) => x.ph !== "M");
    expect(kept.length).toBe(f.eventsWritten);
    expect(kept).toEqual(allEvents.slice(0, kept.length));
  });

  test("an I/O error on the first write: a valid JSON without events, all counted as lost", () => {
    const file = fresh("chrome-eio");
    const e = failure(() => writeChromeJson(trace, file, { write: failingCall(0) }));
    expect(e!.writeFailure).toMatchObject({ eventsWritten: 0, eventsLost: events });
    const json = JSON.parse(readFileSync(file, "utf8")) as { traceEvents: unknown[] };
    expect(json.traceEvents).toEqual([]);
  });

  test("with room, the file is the whole JSON", () => {
    const file = fresh("chrome-ok");
    expect(writeChromeJson(trace, file, { write: fullDisk(size, file) })).toBe(size);
    expect(readFileSync(file, "utf8")).toBe(fullText);
  });
});

describe("a guest that dies in the middle of an event", () => {
  test("the half-written event is discarded, every committed one is exported and read back", () => {
    const b = TraceBuffers.create({ schema: SCHEMA, cpus: 2, subBufferSize: 512, subBufferCount: 8 });
    const w0 = b.writer(0);
    const w1 = b.writer(1);
    let ts = 10;
    const committed: number[] = [];
    for (let i = 0; i < 40; i++) {
      if (w0.emit("sample", (ts += 5), [i, i, i])) committed.push(i);
      w1.emit("sample", (ts += 5), [1000 + i, 0, 0]);
    }
    // CPU 0's guest dies while its probe writes an event: reserved, one field of three written.
    const id = SCHEMA.id("sample");
    expect(w0.reserve(id, (ts += 5))).toBe(true);
    w0.u64(999);
    expect(() => w0.close()).toThrow(TraceBufferError); // NESTING: the host must end the write first
    // The host side (the machine's OS layer) ends the write and closes the dead CPU's writer.
    w0.discard();
    w0.close(ts);
    w1.close(ts);
    const trace = b.reader().drain(undefined, true);
    const cpu0 = [...mergeEvents(trace)].flatMap((it) =>
      it.kind === "event" && it.cpu === 0 ? [Number(it.values[0])] : [],
    );
    expect(cpu0).toEqual(committed);
    expect(trace.lostCount()).toBe(0);
    const json = JSON.parse(chromeTraceJson(trace)) as { traceEvents: { tid: number; ph: string }[] };
    expect(json.traceEvents.filter((e) => e.ph === "i" && e.tid === 0).length).toBe(committed.length);
    if (requireTools("babeltrace2")) {
      const dir = fresh("died");
      writeCtf(trace, dir);
      const bt = babeltrace(dir);
      expect(bt.warnings).toEqual([]);
      expect(bt.events.filter((e) => e.cpu === 0).map((e) => Number(e.fields.a))).toEqual(committed);
      expect(bt.events.filter((e) => e.cpu === 1).length).toBe(40);
    }
  });
});
