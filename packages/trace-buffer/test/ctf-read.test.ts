/**
 * `readCtf` / `parseCtf`: export then read gives the events that were written (every field
 * type with edge values, several CPUs, nesting, losses, overwrite mode), the event count
 * agrees with babeltrace2's, and malformed traces are refused with a `BAD_TRACE` naming the
 * file and byte offset — never a RangeError or a hang.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, describe, expect, test } from "vitest";
import {
  type CtfTrace,
  type CtfValue,
  mergeEvents,
  parseCtf,
  readCtf,
  TraceBufferError,
  TraceBuffers,
  writeCtf,
} from "../src/index.ts";
import { babeltrace } from "./helpers/babeltrace.ts";
import { Rng } from "./helpers/random.ts";
import { randomValues, SCHEMA, type Written, writeWithSetters } from "./helpers/scenario.ts";

const root = mkdtempSync(join(tmpdir(), "xmc-tb-ctfread-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** Write `n` random events over `cpus` rings (some nested); returns the trace and what was written. */
function scenario(
  seed: number,
  cpus: number,
  n: number,
  mode: "discard" | "overwrite" = "discard",
  small = false,
) {
  const rng = new Rng(seed);
  const buffers = TraceBuffers.create({
    schema: SCHEMA,
    cpus,
    mode,
    subBufferSize: small ? 1024 : 1 << 16,
    subBufferCount: 8,
    clock: { unit: "cycles", frequency: 2_000_000_000 },
  });
  const writers = Array.from({ length: cpus }, (_, c) => buffers.writer(c));
  const written: Written[] = [];
  const ts = new Array<number>(cpus).fill(0);
  const names = SCHEMA.classes.map((c) => c.name);
  for (let i = 0; i < n; i++) {
    const cpu = rng.int(cpus);
    ts[cpu]! += 1 + rng.int(1000);
    const name = names[rng.int(names.length)]!;
    const values = randomValues(rng, SCHEMA, name);
    if (writeWithSetters(writers[cpu]!, name, ts[cpu]!, values))
      written.push({ cpu, ts: ts[cpu]!, name, values });
  }
  for (const w of writers) w.flush();
  return { trace: buffers.snapshot(), written };
}

function exported(trace: ReturnType<typeof scenario>["trace"]): string {
  const dir = join(root, `t${dirs++}`);
  writeCtf(trace, dir, { env: { run: "test", cpus: "3" } });
  return dir;
}

/** The reader's value in the writer's terms (numbers stay numbers, bigints bigints, bytes bytes). */
function same(a: CtfValue | undefined, b: unknown): boolean {
  if (a instanceof Uint8Array)
    return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b) || a === b;
  return a === b;
}

describe("readCtf round trip", () => {
  test("3 CPUs, 3,000 random events of every class: same events, times, CPUs, classes, values", () => {
    const { trace } = scenario(7, 3, 3000);
    const dir = exported(trace);
    const r: CtfTrace = readCtf(dir);
    const expected = [...mergeEvents(trace)].filter((x) => x.kind === "event");
    expect(r.events.length).toBe(expected.length);
    expect(expected.length).toBe(3000);
    // Same multiset per CPU in the same order (the merge order of ties may differ across CPUs).
    for (let cpu = 0; cpu < 3; cpu++) {
      const got = r.events.filter((e) => e.cpu === cpu);
      const want = expected.filter((e) => e.cpu === cpu);
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        const w = want[i]!;
        expect(g.timestamp).toBe(w.timestamp);
        expect(g.eventClass.name).toBe(w.eventClass.name);
        expect(g.eventClass.fields).toEqual(w.eventClass.fields.map((f) => f.name));
        w.eventClass.fields.forEach((f, k) => {
          expect(
            same(g.fields[f.name], w.values[k]),
            `${w.eventClass.name}.${f.name} at ${w.timestamp}`,
          ).toBe(true);
        });
      });
    }
    for (let i = 1; i < r.events.length; i++)
      expect(r.events[i]!.timestamp).toBeGreaterThanOrEqual(r.events[i - 1]!.timestamp);
    expect(r.clock).toEqual({ name: "cycles", frequency: 2_000_000_000, description: expect.any(String) });
    expect(r.env).toMatchObject({ run: "test", cpus: "3", domain: "xmc", clock_unit: "cycles" });
    expect(r.classes.map((c) => c.name)).toEqual(SCHEMA.classes.map((c) => c.name));
    expect(r.streams.map((s) => s.cpu)).toEqual([0, 1, 2]);
    expect(r.streams.reduce((s, x) => s + x.packets.reduce((t, p) => t + p.events, 0), 0)).toBe(
      r.events.length,
    );
  });

  test("losses: overwrite mode keeps the newest packets; events_discarded per stream is what the trace lost", () => {
    const { trace } = scenario(11, 2, 4000, "overwrite", true);
    const r = readCtf(exported(trace));
    const expected = [...mergeEvents(trace)];
    const events = expected.filter((x) => x.kind === "event");
    expect(r.events.length).toBe(events.length);
    for (let cpu = 0; cpu < 2; cpu++) {
      const lost = trace.lostCount(cpu);
      expect(lost).toBeGreaterThan(0);
      expect(r.streams.find((s) => s.cpu === cpu)!.eventsDiscarded).toBe(lost);
    }
  });

  test.skipIf(!requireTools("babeltrace2"))("the event count agrees with babeltrace2's", () => {
    const { trace } = scenario(3, 4, 2500);
    const dir = exported(trace);
    const bt = babeltrace(dir);
    expect(bt.status).toBe(0);
    const r = readCtf(dir);
    expect(r.events.length).toBe(bt.events.length);
    for (let cpu = 0; cpu < 4; cpu++)
      expect(r.events.filter((e) => e.cpu === cpu).length).toBe(
        bt.events.filter((e) => e.cpu === cpu).length,
      );
    // Same order and names as the reference reader, event by event, on each CPU.
    for (let cpu = 0; cpu < 4; cpu++) {
      const a = r.events.filter((e) => e.cpu === cpu);
      const b = bt.events.filter((e) => e.cpu === cpu);
      a.forEach((e, i) => {
        expect(e.eventClass.name).toBe(b[i]!.name);
        expect(BigInt(e.timestamp)).toBe(b[i]!.cycles);
      });
    }
  });

  test("an empty trace (no stream with packets) reads as no events", () => {
    const buffers = TraceBuffers.create({ schema: SCHEMA, cpus: 2 });
    const r = readCtf(exported(buffers.snapshot()));
    expect(r.events).toEqual([]);
    expect(r.classes.length).toBe(SCHEMA.classes.length);
  });
});

describe("malformed traces are refused with BAD_TRACE", () => {
  const { trace } = scenario(5, 1, 200);
  const dir = exported(trace);
  const files = (): Record<string, Uint8Array> => {
    const out: Record<string, Uint8Array> = {};
    for (const n of readdirSync(dir)) out[n] = new Uint8Array(readFileSync(join(dir, n)));
    return out;
  };
  const refuse = (f: Record<string, Uint8Array>, msg: RegExp) => {
    let err: unknown;
    try {
      parseCtf(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceBufferError);
    expect((err as TraceBufferError).code).toBe("BAD_TRACE");
    expect((err as Error).message).toMatch(msg);
  };

  test("the unmodified files read", () => {
    expect(parseCtf(files()).events.length).toBe(trace.eventCount);
  });
  test("no directory, no metadata", () => {
    expect(() => readCtf(join(root, "missing"))).toThrow(/cannot read the directory \(ENOENT\)/);
    writeFileSync(join(root, "x"), "");
    expect(() => readCtf(root)).toThrow(/no metadata file/);
    refuse({}, /no metadata file/);
  });
  test("metadata: wrong signature, syntax error with its line, unknown type, big-endian", () => {
    const f = files();
    const text = new TextDecoder().decode(f.metadata);
    refuse(
      { ...f, metadata: new TextEncoder().encode(text.replace("/* CTF 1.8 */", "")) },
      /no "\/\* CTF 1\.8" signature/,
    );
    refuse(
      { ...f, metadata: new TextEncoder().encode(text.replace("major = 1;", "major = ;")) },
      /line \d+: expected a value/,
    );
    refuse(
      { ...f, metadata: new TextEncoder().encode(text.replace("uint32_t stream_id", "mystery_t stream_id")) },
      /unknown type "mystery_t"/,
    );
    refuse(
      { ...f, metadata: new TextEncoder().encode(text.replace("byte_order = le;", "byte_order = be;")) },
      /byte_order be is not supported/,
    );
  });
  test("truncated stream, bad magic, oversized packet_size, undeclared event id, runaway sequence", () => {
    const f = files();
    const s = f.stream_0!;
    refuse(
      { ...f, stream_0: s.subarray(0, 100) },
      /stream_0: byte \d+: packet_size \d+ bits does not fit the file/,
    );
    refuse({ ...f, stream_0: s.subarray(0, 30) }, /stream_0: byte \d+: packet.context.\w+ runs past the end/);
    const magic = s.slice();
    magic[0] = 0;
    refuse({ ...f, stream_0: magic }, /stream_0: byte 0: packet magic 0xc1fc1f00 is not 0xc1fc1fc1/);
    const big = s.slice();
    new DataView(big.buffer).setUint32(48, 0x7fffffff, true); // packet_size
    refuse({ ...f, stream_0: big }, /packet_size \d+ bits does not fit the file/);
    const id = s.slice();
    new DataView(id.buffer).setUint32(80, 999, true); // first event's id
    refuse({ ...f, stream_0: id }, /stream_0: byte \d+: event id 999 is not declared/);
    const uuid = s.slice();
    uuid[5] = uuid[5]! ^ 0xff;
    refuse({ ...f, stream_0: uuid }, /packet uuid differs from the metadata's/);
  });
  test("random corruption never escapes as anything but BAD_TRACE", () => {
    const f = files();
    const rng = new Rng(99);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const s = f.stream_0!.slice();
      for (let k = 0; k < 1 + rng.int(4); k++) s[rng.int(s.length)] = rng.int(256);
      try {
        parseCtf({ ...f, stream_0: s.subarray(0, rng.chance(0.3) ? rng.int(s.length) : s.length) });
      } catch (e) {
        expect(e).toBeInstanceOf(TraceBufferError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(50);
  });
});
