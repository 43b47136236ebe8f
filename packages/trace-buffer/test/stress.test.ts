/**
 * Acceptance 2: writers in worker threads, a reader draining concurrently in this thread,
 * both modes, seeded payload sizes, nested and discarded writes, records too big. Every event
 * carries its stream id, a per-stream sequence number and a checksum of its payload; the
 * reader checks that each event it gets is intact and new (sequence numbers strictly
 * increase per stream, so nothing is duplicated), and at the end that every attempted event
 * was either read or counted as lost — by the writer's counters and by the losses the reader
 * saw between packets. Over 10 million events in total (XMC_STRESS_EVENTS changes it).
 */
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { type BufferMode, EventCursor, type Packet, TraceBuffers, totalLost } from "../src/index.ts";
import {
  checksum,
  payloadByte,
  RESULT_SLOTS,
  STRESS_SCHEMA,
  type StressWorkerData,
} from "./helpers/stress-protocol.ts";

const TOTAL = Number(process.env.XMC_STRESS_EVENTS ?? 10_400_000);
const WRITERS = 2;

interface StreamCheck {
  lastSeq: number;
  read: number;
}

interface Writer {
  readonly exited: Promise<void>;
  failure: Error | undefined;
}

function startWriter(data: StressWorkerData): Writer {
  const w: Writer = { exited: Promise.resolve(), failure: undefined };
  const worker = new Worker(new URL("./stress-worker.mjs", import.meta.url), { workerData: data });
  (w as { exited: Promise<void> }).exited = new Promise((resolve, reject) => {
    worker.on("error", (e) => {
      w.failure = e;
      reject(e);
    });
    worker.on("exit", (code) => {
      if (code === 0) resolve();
      else {
        w.failure ??= new Error(`writer worker exited with ${code}`);
        reject(w.failure);
      }
    });
  });
  return w;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Check every event of a packet; returns how many it had. Throws on a corrupt or repeated one. */
function checkPacket(cursor: EventCursor, packet: Packet, streams: StreamCheck[]): number {
  cursor.reset(packet);
  const bytes = packet.bytes;
  let n = 0;
  while (cursor.next()) {
    const stream = cursor.number(0);
    const seq = cursor.number(1);
    const sum = cursor.number(2);
    // The payload in place: a u32 length, then the bytes.
    const at = cursor.fieldOffset(3);
    const len = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
    const payload = bytes.subarray(at + 4, at + 4 + len);
    const s = streams[stream];
    if (s === undefined || stream >> 1 !== packet.cpu)
      throw new Error(`event of unknown stream ${stream} on CPU ${packet.cpu}`);
    for (let i = 0; i < len; i++) {
      if (payload[i] !== payloadByte(stream, seq, i))
        throw new Error(`corrupt payload: stream ${stream} seq ${seq} byte ${i}`);
    }
    if (checksum(stream, seq, payload, len) !== sum)
      throw new Error(`bad checksum: stream ${stream} seq ${seq}`);
    if (seq <= s.lastSeq)
      throw new Error(`stream ${stream}: seq ${seq} after ${s.lastSeq} (duplicate or out of order)`);
    s.lastSeq = seq;
    s.read++;
    n++;
  }
  return n;
}

async function run(mode: BufferMode, events: number, seed: number): Promise<void> {
  const buffers = TraceBuffers.create({
    schema: STRESS_SCHEMA,
    cpus: WRITERS,
    subBufferSize: 8192,
    subBufferCount: 8,
    mode,
    clock: { unit: "cycles" },
  });
  const results = new SharedArrayBuffer(8 * RESULT_SLOTS * WRITERS);
  const flags = new Int32Array(results);
  const counts = new Float64Array(results);
  const done = (cpu: number): boolean => Atomics.load(flags, (cpu * RESULT_SLOTS + 2) * 2) === 1;
  const reader = buffers.reader();
  const cursor = new EventCursor(STRESS_SCHEMA);
  const streams: StreamCheck[] = Array.from({ length: 2 * WRITERS }, () => ({ lastSeq: -1, read: 0 }));
  const seenLost = new Array<number>(WRITERS).fill(0);
  let snapshots = 0;

  const writers = Array.from({ length: WRITERS }, (_, cpu) =>
    startWriter({
      shared: buffers.shared,
      cpu,
      seed: seed + cpu,
      count: Math.ceil(events / WRITERS),
      results,
    }),
  );
  const drain = (): number => {
    let got = 0;
    for (let cpu = 0; cpu < WRITERS; cpu++) {
      for (let p = reader.getNextPacket(cpu); p !== null; p = reader.getNextPacket(cpu)) {
        seenLost[cpu]! += totalLost(p.losses);
        got += checkPacket(cursor, p, streams);
        reader.putPacket(p);
      }
    }
    return got;
  };
  // Drain while the writers run. Writers report through shared memory; the loop sleeps in
  // Atomics.wait when there is nothing to read, and yields to the event loop now and then so
  // that a failing worker is noticed.
  let rounds = 0;
  let nextSnapshot = 0;
  const deadline = Date.now() + 240_000;
  while (![...Array(WRITERS).keys()].every(done)) {
    if (drain() === 0) reader.wait(2);
    if (++rounds % 16 === 0) {
      await tick();
      const failed = writers.find((w) => w.failure !== undefined);
      if (failed !== undefined) throw failed.failure;
      if (Date.now() > deadline) throw new Error("stress run did not finish in 4 minutes");
    }
    if (mode === "overwrite" && Date.now() >= nextSnapshot) {
      nextSnapshot = Date.now() + 20;
      // A snapshot taken while writers overwrite packets must hold only intact events.
      const snap = buffers.snapshot();
      const own: StreamCheck[] = streams.map(() => ({ lastSeq: -1, read: 0 }));
      snap.streams.forEach((ps) => {
        for (const p of ps) checkPacket(cursor, p, own);
      });
      snapshots++;
    }
  }
  await Promise.all(writers.map((w) => w.exited));
  drain();
  const trace = reader.drain(undefined, true);
  expect(trace.eventCount).toBe(0);

  let attemptedAll = 0;
  let readAll = 0;
  for (let cpu = 0; cpu < WRITERS; cpu++) {
    // Reservations the writer meant to discard but the buffer dropped count as lost too.
    const attempted =
      counts[cpu * RESULT_SLOTS]! + counts[cpu * RESULT_SLOTS + 1]! + counts[cpu * RESULT_SLOTS + 3]!;
    const read = streams[2 * cpu]!.read + streams[2 * cpu + 1]!.read;
    const s = buffers.stats(cpu);
    const lost = s.lostFull + s.lostOverwritten + s.lostTooBig;
    const trailing = trace.trailing[cpu]!;
    // Every attempted event was read once or counted lost once.
    expect(read + lost, `CPU ${cpu}: read ${read} + lost ${lost} vs attempted ${attempted}`).toBe(attempted);
    expect(s.recordsWritten, `CPU ${cpu}: records written`).toBe(attempted - s.lostFull - s.lostTooBig);
    // The reader saw the same losses, where they happened.
    expect(seenLost[cpu]! + trailing.full + trailing.tooBig, `CPU ${cpu}: losses seen by the reader`).toBe(
      lost,
    );
    expect(s.lostTooBig).toBeGreaterThan(0);
    if (mode === "discard") expect(s.lostOverwritten).toBe(0);
    else expect(s.lostFull).toBe(0);
    attemptedAll += attempted;
    readAll += read;
  }
  expect(readAll).toBeGreaterThan(0);
  if (mode === "overwrite") expect(snapshots).toBeGreaterThan(0);
  // Record what the run covered, for the test log.
  console.log(
    `stress ${mode}: ${attemptedAll} events attempted, ${readAll} read intact, ${attemptedAll - readAll} counted lost, ${snapshots} snapshots`,
  );
  expect(attemptedAll).toBeGreaterThanOrEqual(events);
}

describe("stress: writers in worker threads, a concurrent reader", () => {
  it(`discard mode, ${TOTAL / 2} events`, async () => {
    await run("discard", TOTAL / 2, 0x1234);
  });
  it(`overwrite mode, ${TOTAL / 2} events`, async () => {
    await run("overwrite", TOTAL / 2, 0x5678);
  });
});
