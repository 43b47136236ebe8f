/** The readable text dump: a header, one line per event or loss, merged in time order. */
import { describe, expect, it } from "vitest";
import { formatText, TraceBuffers } from "../src/index.ts";
import { SCHEMA } from "./helpers/scenario.ts";

describe("text dump", () => {
  it("prints a header, then each event and loss on one line", () => {
    const b = TraceBuffers.create({
      schema: SCHEMA,
      cpus: 2,
      subBufferSize: 256,
      subBufferCount: 2,
      clock: { unit: "cycles" },
    });
    const w0 = b.writer(0);
    const w1 = b.writer(1);
    w0.emit("sched:switch", 10, ['a "b"\nc', "é", 1]);
    w1.emit("marker", 12, []);
    w1.emit("all", 15, [
      1,
      2,
      3,
      2n ** 64n - 1n,
      -1,
      -2,
      -3,
      -(2n ** 63n),
      0.5,
      "s",
      new Uint8Array([1, 171]),
    ]);
    w0.emit("sched:switch", 20, ["x".repeat(300), "", 2]); // too big
    w0.close();
    w1.close();
    const text = formatText(b.reader().drain(undefined, true));
    expect(text.split("\n")).toEqual([
      "# xmc trace: 2 CPUs, clock cycles (cycles, 1000000000 Hz), mode discard, 3 events, 1 lost",
      '[              10] cpu 0 sched:switch: prev="a \\"b\\"\\nc" next="é" cpu=1',
      "[              12] cpu 1 marker:",
      '[              15] cpu 1 all: u8=1 u16=2 u32=3 u64=18446744073709551615 s8=-1 s16=-2 s32=-3 s64=-9223372036854775808 f=0.5 text="s" data=0x01ab',
      "[              20] cpu 0 *** 1 event lost (too-big) ***",
      "",
    ]);
  });
});
