/**
 * The write path: reserve/commit/discard, nesting, packet switches, modes, counters, time,
 * flush/close, and (acceptance 3) the errors at the API edge.
 */
import { describe, expect, it } from "vitest";
import { defineSchema, MAX_NESTING, TraceBufferError, TraceBuffers, utf8Length } from "../src/index.ts";
import { items } from "./helpers/read.ts";

const schema = defineSchema({
  s3: { fields: { a: "u64", b: "u64", c: "u64" } },
  small: { fields: { v: "u32" } },
  text: { fields: { n: "u8", s: "string", tail: "u16" } },
  blob: { fields: { data: "bytes" } },
  ints: {
    fields: {
      u8: "u8",
      u16: "u16",
      u32: "u32",
      u64: "u64",
      s8: "s8",
      s16: "s16",
      s32: "s32",
      s64: "s64",
      f: "f64",
    },
  },
});
const S3 = schema.id("s3");
const SMALL = schema.id("small");

// A 3×u64 record is 16 + 24 = 40 bytes; a 256-byte packet holds (256 - 80) / 40 = 4.
const tiny = (mode: "discard" | "overwrite" = "discard", subBufferCount = 2) =>
  TraceBuffers.create({
    schema,
    cpus: 1,
    subBufferSize: 256,
    subBufferCount,
    mode,
    clock: { unit: "cycles" },
  });

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof TraceBufferError) return e.code;
    throw e;
  }
  throw new Error("did not throw");
}

describe("reserve / commit", () => {
  it("writes records that a reader gets back in order, with their values", () => {
    const b = tiny();
    const w = b.writer(0);
    for (let i = 0; i < 3; i++) {
      expect(w.reserve(S3, 10 + i)).toBe(true);
      w.u64(i)
        .u64(2 ** 53 - 1)
        .u64(i * 1000);
      w.commit();
    }
    w.flush();
    expect(items(b.reader().drain())).toEqual([
      "s3@10[0]:0,9007199254740991,0",
      "s3@11[0]:1,9007199254740991,1000",
      "s3@12[0]:2,9007199254740991,2000",
    ]);
    expect(w.stats().recordsWritten).toBe(3);
  });

  it("in discard mode drops and counts writes once every sub-buffer is full, and resumes after the reader frees one", () => {
    const b = tiny("discard", 2);
    const w = b.writer(0);
    const r = b.reader();
    const accepted: boolean[] = [];
    for (let i = 0; i < 12; i++) accepted.push(w.emit(S3, i, [i, 0, 0]));
    // Two packets of four records, then nothing fits.
    expect(accepted).toEqual([...Array(8).fill(true), ...Array(4).fill(false)]);
    expect(w.stats()).toMatchObject({
      recordsWritten: 8,
      lostFull: 4,
      lostOverwritten: 0,
      lostTooBig: 0,
      packets: 2,
    });
    const p = r.getNextPacket(0)!;
    expect(p.events).toBe(4);
    r.putPacket(p);
    expect(w.emit(S3, 20, [20, 0, 0])).toBe(true);
    w.flush();
    const trace = r.drain();
    const [second, third] = trace.streams[0]!;
    expect(second!.events).toBe(4);
    expect(third!.losses.fullBefore).toBe(4);
    expect(items(trace).slice(-2)).toEqual(["lost(full)x4@20[0]", "s3@20[0]:20,0,0"]);
  });

  it("in overwrite mode overwrites the oldest packet and counts its events", () => {
    const b = tiny("overwrite", 2);
    const w = b.writer(0);
    for (let i = 0; i < 13; i++) expect(w.emit(S3, i, [i, 0, 0])).toBe(true);
    // Packets 0..3 held records 0-3, 4-7, 8-11, 12: packets 0 and 1 were overwritten.
    expect(w.stats()).toMatchObject({
      recordsWritten: 13,
      lostOverwritten: 8,
      packetsOverwritten: 2,
      lostFull: 0,
    });
    const snap = b.snapshot();
    expect(items(snap)).toEqual([
      "lost(overwritten)x8@8[0]",
      "s3@8[0]:8,0,0",
      "s3@9[0]:9,0,0",
      "s3@10[0]:10,0,0",
      "s3@11[0]:11,0,0",
      "s3@12[0]:12,0,0",
    ]);
    expect(snap.streams[0]!.map((p) => p.seq)).toEqual([2, 3]);
    expect(snap.streams[0]![1]!.partial).toBe(true);
  });

  it("refuses and counts a record bigger than a sub-buffer; the largest that fits is accepted", () => {
    const b = tiny();
    const w = b.writer(0);
    const max = b.maxRecordSize; // 176: header 16 + length 4 + 156 bytes
    expect(w.emit("blob", 1, [new Uint8Array(max - 20)])).toBe(true);
    expect(w.emit("blob", 2, [new Uint8Array(max - 19)])).toBe(false);
    expect(w.reserve(schema.id("blob"), 3, 1 << 20)).toBe(false);
    expect(w.stats()).toMatchObject({ recordsWritten: 1, lostTooBig: 2, lostFull: 0 });
    w.close();
    const trace = b.reader().drain(undefined, true);
    expect(trace.lostCount()).toBe(2);
    expect(items(trace).at(-1)).toBe("lost(too-big)x2@3[0]");
  });

  it("round-trips extreme values of every numeric type, numbers and bigints", () => {
    const b = tiny("discard", 4);
    const w = b.writer(0);
    w.emit("ints", 1, [
      255,
      65535,
      4294967295,
      0xffffffffffffffffn,
      -128,
      -32768,
      -2147483648,
      -0x8000000000000000n,
      -0.5,
    ]);
    w.emit("ints", 2, [
      0,
      0,
      0,
      2 ** 53 - 1,
      127,
      32767,
      2147483647,
      -(2 ** 53 - 1),
      Number.POSITIVE_INFINITY,
    ]);
    w.emit("ints", 3, [1, 2, 3, 0x7fffffffffffffffn, -1, -2, -3, 0x7fffffffffffffffn, 1e-300]);
    w.flush();
    expect(items(b.reader().drain())).toEqual([
      "ints@1[0]:255,65535,4294967295,18446744073709551615,-128,-32768,-2147483648,-9223372036854775808,-0.5",
      "ints@2[0]:0,0,0,9007199254740991,127,32767,2147483647,-9007199254740991,Infinity",
      "ints@3[0]:1,2,3,9223372036854775807,-1,-2,-3,9223372036854775807,1e-300",
    ]);
  });

  it("encodes strings as UTF-8 (a lone surrogate as U+FFFD) and byte arrays with their length", () => {
    const b = tiny("discard", 4);
    const w = b.writer(0);
    for (const s of ["", "a", "é", "✓", "😀", "x\ud800y", 'q"\\\n']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
      w.emit("text", 1, [7, s, 9]);
    }
    w.emit("blob", 2, [new Uint8Array([0, 1, 255])]);
    w.flush();
    expect(items(b.reader().drain())).toEqual([
      "text@1[0]:7,,9",
      "text@1[0]:7,a,9",
      "text@1[0]:7,é,9",
      "text@1[0]:7,✓,9",
      "text@1[0]:7,😀,9",
      "text@1[0]:7,x\ufffdy,9",
      'text@1[0]:7,q"\\\n,9',
      "blob@2[0]:0,1,255",
    ]);
  });
});

describe("nesting (an interrupt-like writer on the same CPU)", () => {
  it("lands after the outer record, and only the outermost commit makes both visible", () => {
    const b = tiny("discard", 4);
    const w = b.writer(0);
    w.emit(SMALL, 1, [0]);
    expect(w.reserve(S3, 5)).toBe(true);
    w.u64(1);
    expect(w.nesting).toBe(1);
    expect(w.reserve(SMALL, 6)).toBe(true);
    expect(w.nesting).toBe(2);
    w.u32(42).commit();
    // The nested record is committed, but the commit point has not moved.
    expect(items(b.snapshot())).toEqual(["small@1[0]:0"]);
    w.u64(2).u64(3).commit();
    expect(w.nesting).toBe(0);
    expect(items(b.snapshot())).toEqual(["small@1[0]:0", "s3@5[0]:1,2,3", "small@6[0]:42"]);
  });

  it("publishes a packet finished by a nested write only when the outermost write commits", () => {
    const b = tiny("discard", 4);
    const w = b.writer(0);
    const r = b.reader();
    for (let i = 0; i < 3; i++) w.emit(S3, i, [i, 0, 0]);
    expect(w.reserve(S3, 10)).toBe(true); // the 4th record fills packet 0
    w.u64(10);
    expect(w.reserve(S3, 11)).toBe(true); // does not fit: packet 1
    w.u64(11).u64(0).u64(0).commit();
    expect(r.getNextPacket(0)).toBeNull();
    w.u64(0).u64(0).commit();
    const p0 = r.getNextPacket(0)!;
    expect(p0.events).toBe(4);
    r.putPacket(p0);
    w.flush();
    expect(items(r.drain())).toEqual(["s3@11[0]:11,0,0"]);
  });

  it("rolls back a discarded last record, and leaves padding when nested records follow it", () => {
    const b = tiny("discard", 4);
    const w = b.writer(0);
    w.emit(SMALL, 1, [1]);
    expect(w.reserve(S3, 2)).toBe(true);
    w.u64(5);
    w.discard(); // nothing after it: rolled back
    expect(w.reserve(S3, 3)).toBe(true);
    w.emit(SMALL, 4, [4]); // nested
    w.discard(); // the nested record follows: padding
    w.emit(SMALL, 5, [5]);
    w.flush();
    const trace = b.reader().drain();
    expect(items(trace)).toEqual(["small@1[0]:1", "small@4[0]:4", "small@5[0]:5"]);
    const p = trace.streams[0]![0]!;
    expect(p.header.records).toBe(4);
    expect(p.header.padding).toBe(1);
    expect(p.events).toBe(3);
    expect(w.stats().recordsWritten).toBe(3);
  });

  it(`refuses more than ${MAX_NESTING} nested writes`, () => {
    const w = TraceBuffers.create({ schema, cpus: 1, subBufferSize: 4096 }).writer(0);
    for (let i = 0; i < MAX_NESTING; i++) expect(w.reserve(SMALL, i)).toBe(true);
    expect(codeOf(() => w.reserve(SMALL, 99))).toBe("NESTING");
  });
});

describe("time", () => {
  it("raises a timestamp that goes backwards to the previous one and counts it", () => {
    const b = tiny();
    const w = b.writer(0);
    w.emit(SMALL, 100, [1]);
    w.emit(SMALL, 90, [2]);
    w.emit(SMALL, 120n as unknown as number, [3]);
    w.flush();
    expect(items(b.reader().drain())).toEqual(["small@100[0]:1", "small@100[0]:2", "small@120[0]:3"]);
    expect(w.stats().timestampsRaised).toBe(1);
  });

  it("keeps full 64-bit packet begin/end times", () => {
    const b = tiny();
    const w = b.writer(0);
    const t = 2 ** 40 + 5;
    w.emit(SMALL, t, [1]);
    w.emit(SMALL, t + 7, [2]);
    w.flush(t + 100);
    const p = b.reader().drain().streams[0]![0]!;
    expect(p.header.timestampBegin).toBe(t);
    expect(p.header.timestampEnd).toBe(t + 100);
  });
});

describe("flush, close, attach", () => {
  it("flush closes a partly filled packet; a reader's flush request is honored at the next commit", () => {
    const b = tiny("discard", 4);
    const w = b.writer(0);
    const r = b.reader();
    w.emit(SMALL, 1, [1]);
    expect(r.getNextPacket(0)).toBeNull();
    expect(w.flush()).toBe(true);
    expect(w.flush()).toBe(false);
    const p = r.getNextPacket(0)!;
    expect(p.events).toBe(1);
    r.putPacket(p);
    w.emit(SMALL, 2, [2]);
    r.requestFlush(0);
    expect(r.getNextPacket(0)).toBeNull();
    w.emit(SMALL, 3, [3]);
    expect(r.getNextPacket(0)!.events).toBe(2);
  });

  it("a closed ring gets a new writer (also through attach) that continues sequence, time and counters", () => {
    const b = tiny("discard", 4);
    const w = b.writer(0);
    expect(codeOf(() => b.writer(0))).toBe("OWNERSHIP");
    w.emit(SMALL, 50, [1]);
    expect(w.reserve(schema.id("blob"), 51, 1 << 20)).toBe(false);
    w.close();
    expect(codeOf(() => w.emit(SMALL, 60, [2]))).toBe("OWNERSHIP");
    const again = TraceBuffers.attach(b.shared).writer(0);
    again.emit(SMALL, 40, [2]); // earlier than the last time: raised
    again.close();
    const trace = b.reader().drain(undefined, true);
    expect(trace.streams[0]!.map((p) => p.seq)).toEqual([0, 1]);
    expect(items(trace)).toEqual(["small@50[0]:1", "lost(too-big)x1@51[0]", "small@51[0]:2"]);
    expect(b.stats(0)).toMatchObject({ recordsWritten: 2, lostTooBig: 1, timestampsRaised: 1, packets: 2 });
  });
});

describe("errors at the API edge (acceptance 3)", () => {
  const fresh = () => TraceBuffers.create({ schema, cpus: 1, subBufferSize: 1024 }).writer(0);

  it("an unknown event class is a clear error", () => {
    const w = fresh();
    for (const id of [99, -1, 1.5, 5]) {
      expect(() => w.reserve(id, 1)).toThrow(
        /unknown event class id .*declares ids 0\.\.4 \(s3, small, text, blob, ints\)/,
      );
    }
    expect(() => w.emit("nope", 1, [])).toThrow(TraceBufferError);
    expect(codeOf(() => w.emit("nope", 1, []))).toBe("UNKNOWN_EVENT_CLASS");
    expect(() => schema.id("nope")).toThrow(/unknown event class "nope"; the schema declares: s3, small/);
  });

  it("a field of the wrong type is a clear error, and the record is discarded", () => {
    const w = fresh();
    w.reserve(S3, 1);
    expect(() => w.u32(1)).toThrow(
      'u32() called for event class "s3" field 0 ("a", u64); write it with u64()',
    );
    expect(w.nesting).toBe(0);
    expect(codeOf(() => w.emit(S3, 2, ["1", 2, 3] as never))).toBe("FIELD_TYPE");
    expect(() => w.emit(S3, 2, [1, 2, "3"] as never)).toThrow(
      /field 2 \("c", u64\) must be an integer from 0 to 2\^53-1.*got string "3"/,
    );
    expect(codeOf(() => w.emit("blob", 2, ["abc"] as never))).toBe("FIELD_TYPE");
    expect(codeOf(() => w.emit("text", 2, [1, 2, 3] as never))).toBe("FIELD_TYPE");
    // Nothing half-written is left behind: the next write works and is the only record.
    expect(w.emit(SMALL, 3, [7])).toBe(true);
    expect(w.stats().recordsWritten).toBe(1);
  });

  it("a value out of range is a clear error", () => {
    const w = fresh();
    const cases: [string, unknown[]][] = [
      ["u8", [256, 0, 0, 0, 0, 0, 0, 0, 0]],
      ["u16", [0, 65536, 0, 0, 0, 0, 0, 0, 0]],
      ["u32", [0, 0, -1, 0, 0, 0, 0, 0, 0]],
      ["u64", [0, 0, 0, 2 ** 53, 0, 0, 0, 0, 0]],
      ["u64 bigint", [0, 0, 0, 1n << 64n, 0, 0, 0, 0, 0]],
      ["s8", [0, 0, 0, 0, 128, 0, 0, 0, 0]],
      ["s16", [0, 0, 0, 0, 0, -32769, 0, 0, 0]],
      ["s32", [0, 0, 0, 0, 0, 0, 2 ** 31, 0, 0]],
      ["s64", [0, 0, 0, 0, 0, 0, 0, 1n << 63n, 0]],
      ["fraction", [0.5, 0, 0, 0, 0, 0, 0, 0, 0]],
    ];
    for (const [what, values] of cases)
      expect(
        codeOf(() => w.emit("ints", 1, values as never)),
        what,
      ).toBe("FIELD_VALUE");
    expect(() => w.emit("text", 1, [1, "a\0b", 2])).toThrow(/without NUL characters/);
    for (const t of [-1, 1.5, Number.NaN, "5"])
      expect(codeOf(() => w.reserve(SMALL, t as number))).toBe("FIELD_VALUE");
    expect(w.stats().recordsWritten).toBe(0);
  });

  it("field counts and variable sizes must match the declaration", () => {
    const w = fresh();
    expect(() => w.emit(S3, 1, [1, 2])).toThrow(/"s3" has 3 fields \(a, b, c\), but 2 values were given/);
    w.reserve(S3, 1);
    w.u64(1);
    expect(() => w.commit()).toThrow(
      'commit() of event class "s3" with fields not written: b (u64), c (u64); the record was discarded',
    );
    w.reserve(SMALL, 1);
    w.u32(1);
    expect(codeOf(() => w.u32(2))).toBe("FIELD_COUNT");
    expect(codeOf(() => w.reserve(SMALL, 1, 4))).toBe("VAR_SIZE");
    w.reserve(schema.id("text"), 1, 2);
    w.u8(1);
    expect(() => w.string("abc")).toThrow(/3 bytes do not fit in the varBytes given to reserve/);
    w.reserve(schema.id("text"), 1, 5);
    w.u8(1).string("abc").u16(2);
    expect(() => w.commit()).toThrow(/2 of the reserved varBytes were not written/);
    expect(w.nesting).toBe(0);
  });

  it("setters, commit and discard need a reservation; flush is refused inside a write", () => {
    const w = fresh();
    expect(codeOf(() => w.u64(1))).toBe("NO_RESERVATION");
    expect(codeOf(() => w.commit())).toBe("NO_RESERVATION");
    expect(codeOf(() => w.discard())).toBe("NO_RESERVATION");
    w.reserve(SMALL, 1);
    expect(codeOf(() => w.flush())).toBe("NESTING");
    w.u32(1).commit();
    expect(codeOf(() => w.u32(1))).toBe("NO_RESERVATION");
  });

  it("bad configurations are refused with the limit", () => {
    expect(() => TraceBuffers.create({ schema, cpus: 0 })).toThrow(/cpus must be an integer from 1 to 4096/);
    expect(() => TraceBuffers.create({ schema, cpus: 1, subBufferSize: 300 })).toThrow(
      /power of two from 256/,
    );
    expect(() => TraceBuffers.create({ schema, cpus: 1, subBufferCount: 3 })).toThrow(
      /subBufferCount must be a power of two/,
    );
    expect(() => TraceBuffers.create({ schema, cpus: 1, mode: "ring" as never })).toThrow(
      /"discard" or "overwrite"/,
    );
    expect(() => TraceBuffers.create({ schema, cpus: 1, clock: { unit: "ns", frequency: 1000 } })).toThrow(
      /1e9 Hz/,
    );
    expect(
      codeOf(() => TraceBuffers.create({ schema, cpus: 64, subBufferSize: 1 << 26, subBufferCount: 64 })),
    ).toBe("BAD_CONFIG");
    expect(
      codeOf(() =>
        TraceBuffers.attach({ sab: new SharedArrayBuffer(4096), schema: {}, clock: { unit: "ns" } }),
      ),
    ).toBe("BAD_CONFIG");
  });
});
