/**
 * Reading: the consuming reader (get/put, ownership, resuming), overwrite-mode claims, the
 * non-consuming snapshot with the partly filled packet, the timestamp-ordered merge, and
 * where losses show up.
 */
import { describe, expect, it } from "vitest";
import { defineSchema, EventCursor, TraceBufferError, TraceBuffers } from "../src/index.ts";
import { items } from "./helpers/read.ts";

const schema = defineSchema({ ev: { fields: { v: "u64" } }, tag: { fields: { s: "string" } } });
const EV = schema.id("ev");
// An `ev` record is 24 bytes; a 256-byte packet holds (256 - 80) / 24 = 7.
const make = (mode: "discard" | "overwrite", cpus = 1, subBufferCount = 4) =>
  TraceBuffers.create({ schema, cpus, subBufferSize: 256, subBufferCount, mode, clock: { unit: "cycles" } });

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof TraceBufferError) return e.code;
    throw e;
  }
  throw new Error("did not throw");
}

describe("consuming reader", () => {
  it("hands out closed packets in order, one at a time per CPU, and frees them on put", () => {
    const b = make("discard");
    const w = b.writer(0);
    const r = b.reader();
    for (let i = 0; i < 15; i++) w.emit(EV, i, [i]);
    const p0 = r.getNextPacket(0)!;
    expect(p0.seq).toBe(0);
    expect(p0.live).toBe(true);
    expect(codeOf(() => r.getNextPacket(0))).toBe("OWNERSHIP");
    const cur = new EventCursor(schema);
    cur.reset(p0);
    const seen: number[] = [];
    while (cur.next()) seen.push(cur.number(0));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    r.putPacket(p0);
    expect(codeOf(() => r.putPacket(p0))).toBe("OWNERSHIP");
    expect(r.getNextPacket(0)!.seq).toBe(1);
    expect(codeOf(() => b.reader())).toBe("OWNERSHIP");
    expect(codeOf(() => r.getNextPacket(1))).toBe("BAD_CONFIG");
  });

  it("a new reader resumes where the last one stopped, without reporting consumed events as lost", () => {
    const b = make("discard");
    const w = b.writer(0);
    for (let i = 0; i < 8; i++) w.emit(EV, i, [i]);
    const r1 = b.reader();
    expect(r1.drain().eventCount).toBe(7);
    r1.close();
    w.close();
    const trace = b.reader().drain(undefined, true);
    expect(items(trace)).toEqual(["ev@7[0]:7"]);
    expect(trace.lostCount()).toBe(0);
  });

  it("in overwrite mode skips packets overwritten before it got to them and reports their events", () => {
    const b = make("overwrite", 1, 2);
    const w = b.writer(0);
    const r = b.reader();
    for (let i = 0; i < 7; i++) w.emit(EV, i, [i]); // packet 0
    const first = r.drain();
    expect(first.eventCount).toBe(0); // packet 0 is still open
    for (let i = 7; i < 30; i++) w.emit(EV, i, [i]); // packets 1..4; 0..2 get overwritten
    w.flush();
    const trace = r.drain(first);
    const packets = trace.streams[0]!;
    expect(packets.map((p) => p.seq)).toEqual([3, 4]);
    expect(packets[0]!.losses).toMatchObject({ overwrittenBefore: 21, packetsBefore: 3 });
    expect(w.stats().lostOverwritten).toBe(21);
    expect(items(trace)[0]).toBe("lost(overwritten)x21@21[0]");
    expect(trace.eventCount + trace.lostCount()).toBe(30);
  });

  it("wait() sleeps until a packet is published or the timeout passes", () => {
    const b = make("discard");
    const w = b.writer(0);
    const r = b.reader();
    const t0 = Date.now();
    expect(r.wait(30)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20);
    w.emit(EV, 1, [1]);
    w.flush();
    expect(r.wait(1000)).toBe(true);
  });
});

describe("snapshot", () => {
  it("copies closed packets and the committed part of the open one without consuming anything", () => {
    const b = make("discard");
    const w = b.writer(0);
    for (let i = 0; i < 9; i++) w.emit(EV, i, [i]);
    w.reserve(EV, 50); // reserved, not committed: not in the snapshot
    w.u64(50);
    const snap = b.snapshot();
    expect(snap.streams[0]!.map((p) => [p.seq, p.events, p.partial])).toEqual([
      [0, 7, false],
      [1, 2, true],
    ]);
    expect(items(snap).length).toBe(9);
    w.commit();
    w.flush();
    // The consuming reader still gets everything.
    expect(b.reader().drain().eventCount).toBe(10);
  });

  it("of a flight recorder keeps the newest events and counts the overwritten ones before them", () => {
    const b = make("overwrite", 1, 4);
    const w = b.writer(0);
    for (let i = 0; i < 100; i++) w.emit(EV, 1000 + i, [i]);
    const snap = b.snapshot();
    const list = items(snap);
    expect(list.at(-1)).toBe("ev@1099[0]:99");
    expect(snap.eventCount + snap.lostCount()).toBe(100);
    expect(snap.lostCount()).toBe(w.stats().lostOverwritten);
    expect(list[0]).toMatch(/^lost\(overwritten\)x\d+@/);
  });
});

describe("merge", () => {
  it("yields the events of all CPUs in timestamp order, ties in CPU order", () => {
    const b = make("discard", 3, 4);
    const ws = [0, 1, 2].map((c) => b.writer(c));
    ws[2]!.emit(EV, 5, [25]);
    ws[0]!.emit(EV, 5, [5]);
    ws[1]!.emit(EV, 3, [13]);
    ws[1]!.emit(EV, 9, [19]);
    ws[0]!.emit(EV, 7, [7]);
    ws[2]!.emit("tag", 8, ["x"]);
    for (const w of ws) w.close();
    expect(items(b.reader().drain(undefined, true))).toEqual([
      "ev@3[1]:13",
      "ev@5[0]:5",
      "ev@5[2]:25",
      "ev@7[0]:7",
      "tag@8[2]:x",
      "ev@9[1]:19",
    ]);
  });

  it("shows losses where they happened: before the packet after a gap, within a packet, after the last one", () => {
    const b = TraceBuffers.create({
      schema,
      cpus: 1,
      subBufferSize: 256,
      subBufferCount: 2,
      clock: { unit: "cycles" },
    });
    const w = b.writer(0);
    const r = b.reader();
    for (let i = 0; i < 16; i++) w.emit(EV, i, [i]); // 14 fit, 2 dropped (full)
    const trace = r.drain();
    w.emit("tag", 20, ["y".repeat(300)]); // too big, while no packet is open
    w.emit(EV, 21, [21]);
    w.emit("tag", 22, ["z".repeat(300)]); // too big, inside the open packet
    w.emit(EV, 23, [23]);
    w.flush();
    w.emit(EV, 24, [24]);
    r.drain(trace);
    for (let i = 25; i < 45; i++) w.emit(EV, i, [i]); // fills both packets, then drops
    w.close();
    r.drain(trace, true);
    const list = items(trace);
    expect(list.slice(13, 19)).toEqual([
      "ev@13[0]:13",
      "lost(full)x2@21[0]",
      "lost(too-big)x1@21[0]",
      "ev@21[0]:21",
      "ev@23[0]:23",
      "lost(too-big)x1@23[0]",
    ]);
    expect(list.at(-1)).toMatch(/^lost\(full\)x\d+@44\[0\]$/);
    expect(trace.eventCount + trace.lostCount()).toBe(41);
  });
});
