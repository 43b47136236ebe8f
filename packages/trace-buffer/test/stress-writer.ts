/**
 * A writer thread of the stress test (started through stress-worker.mjs): writes `count` events (plus nested ones) into its ring
 * as fast as it can, with seeded payload sizes, nested writes, discarded writes and records
 * too big for a sub-buffer, then reports how many it attempted per stream.
 */
import { workerData } from "node:worker_threads";
import { TraceBuffers } from "../src/index.ts";
import { Rng } from "./helpers/random.ts";
import {
  checksum,
  MAX_PAYLOAD,
  payloadByte,
  RESULT_SLOTS,
  type StressWorkerData,
} from "./helpers/stress-protocol.ts";

const data = workerData as StressWorkerData;
const buffers = TraceBuffers.attach(data.shared);
const w = buffers.writer(data.cpu);
const REC = buffers.schema.id("rec");
const rng = new Rng(data.seed);
const big = buffers.maxRecordSize; // a payload this long never fits
const scratch = new Uint8Array(big + 16);
const views = Array.from({ length: big + 16 }, (_, n) => scratch.subarray(0, n));
const streamN = 2 * data.cpu;
const streamI = 2 * data.cpu + 1;
let seqN = 0;
let seqI = 0;
let ts = 0;
/** Reservations meant to be discarded that the buffer dropped (full): counted lost by it. */
let droppedDiscards = 0;

/** Fill the payload of (stream, seq) and return its checksum. */
function fill(stream: number, seq: number, len: number): number {
  for (let i = 0; i < len; i++) scratch[i] = payloadByte(stream, seq, i);
  return checksum(stream, seq, scratch, len);
}

function nested(): void {
  const len = rng.int(MAX_PAYLOAD);
  const sum = fill(streamI, seqI, len);
  if (w.reserve(REC, ++ts, len)) w.u16(streamI).u32(seqI).u32(sum).bytes(views[len]!).commit();
  seqI++;
}

const nap = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < data.count; i++) {
  // Bursts and pauses, so that the reader sometimes keeps up and sometimes falls behind.
  if ((i & 1023) === 1023 && rng.chance(0.5)) Atomics.wait(nap, 0, 0, 1);
  const r = rng.next() & 1023;
  if (r < 2) {
    // Bigger than a sub-buffer: refused and counted as lost (too big).
    w.reserve(REC, ++ts, big);
    seqN++;
    continue;
  }
  if (r < 6) {
    // Reserved, then discarded by the caller: not an event, not a loss.
    if (w.reserve(REC, ++ts, 3)) {
      w.u16(streamN);
      if (r < 4) nested();
      w.discard();
    } else {
      droppedDiscards++;
    }
    continue;
  }
  const len = r < 40 ? rng.int(MAX_PAYLOAD) : (r & 15) + 4;
  // Fill the payload before reserving: the nested write below reuses the scratch buffer, so
  // the outer record copies its bytes only after the nested one is done.
  const sum = fill(streamN, seqN, len);
  if (w.reserve(REC, ++ts, len)) {
    w.u16(streamN).u32(seqN).u32(sum);
    if (r < 30) {
      // An interrupt-like nested write between the outer reserve and commit.
      nested();
      fill(streamN, seqN, len);
    }
    w.bytes(views[len]!).commit();
  }
  seqN++;
}
w.close();
const results = new Float64Array(data.results);
results[data.cpu * RESULT_SLOTS] = seqN;
results[data.cpu * RESULT_SLOTS + 1] = seqI;
results[data.cpu * RESULT_SLOTS + 3] = droppedDiscards;
const flags = new Int32Array(data.results);
Atomics.store(flags, (data.cpu * RESULT_SLOTS + 2) * 2, 1);
Atomics.notify(flags, (data.cpu * RESULT_SLOTS + 2) * 2);
