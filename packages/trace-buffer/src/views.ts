/**
 * Typed views over a set's `SharedArrayBuffer`, shared by writers, readers and snapshots of
 * one thread, and the checks done when a thread attaches to a buffer it was sent.
 */
import { TraceBufferError } from "./errors.ts";
import {
  MAX_SUB_BUFFER,
  MAX_SUB_BUFFERS,
  MAX_TOTAL_BYTES,
  MIN_SUB_BUFFER,
  R_WSEQ,
  S_CPUS,
  S_MAGIC,
  S_MODE,
  S_SUB_COUNT,
  S_SUB_SIZE,
  S_VERSION,
  SET_MAGIC,
  SET_VERSION,
  SetLayout,
  ST_EMPTY,
  slotState,
} from "./layout.ts";

/**
 * What happens when a writer needs a new sub-buffer and the oldest one has not been consumed:
 * - `discard`: producer/consumer. New events are dropped and counted (`lostFull`) until a
 *   reader consumes a packet.
 * - `overwrite`: flight recorder. The oldest packet is overwritten and its events are counted
 *   (`lostOverwritten`); writing never fails for lack of space.
 */
export type BufferMode = "discard" | "overwrite";

/** All views of one set's memory. */
export class SetViews {
  /** The shared memory. */
  readonly sab: SharedArrayBuffer;
  /** Offsets of the parts. */
  readonly layout: SetLayout;
  /** Discard or overwrite. */
  readonly mode: BufferMode;
  /** Byte view. */
  readonly u8: Uint8Array;
  /** Little-endian accessor for packed data. */
  readonly dv: DataView;
  /** Control words, used with `Atomics`. */
  readonly i32: Int32Array;
  /** Counters and resume state (each slot written by one thread: its writer or its reader). */
  readonly f64: Float64Array;

  /** Views of `sab`, whose header must already be valid. */
  constructor(sab: SharedArrayBuffer, layout: SetLayout, mode: BufferMode) {
    this.sab = sab;
    this.layout = layout;
    this.mode = mode;
    this.u8 = new Uint8Array(sab);
    this.dv = new DataView(sab);
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
  }
}

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * Check a set's shape.
 * @throws TraceBufferError `BAD_CONFIG` with the limit that is not met.
 */
export function checkShape(cpus: number, subBufferSize: number, subBufferCount: number): SetLayout {
  if (!Number.isSafeInteger(cpus) || cpus < 1 || cpus > 4096) {
    throw new TraceBufferError("BAD_CONFIG", `cpus must be an integer from 1 to 4096, not ${cpus}`);
  }
  if (!isPow2(subBufferSize) || subBufferSize < MIN_SUB_BUFFER || subBufferSize > MAX_SUB_BUFFER) {
    throw new TraceBufferError(
      "BAD_CONFIG",
      `subBufferSize must be a power of two from ${MIN_SUB_BUFFER} to ${MAX_SUB_BUFFER} bytes, not ${subBufferSize}`,
    );
  }
  if (!isPow2(subBufferCount) || subBufferCount < 2 || subBufferCount > MAX_SUB_BUFFERS) {
    throw new TraceBufferError(
      "BAD_CONFIG",
      `subBufferCount must be a power of two from 2 to ${MAX_SUB_BUFFERS}, not ${subBufferCount}`,
    );
  }
  const layout = new SetLayout(cpus, subBufferSize, subBufferCount);
  if (layout.totalBytes > MAX_TOTAL_BYTES) {
    throw new TraceBufferError(
      "BAD_CONFIG",
      `${cpus} CPUs × ${subBufferCount} × ${subBufferSize} bytes needs ${layout.totalBytes} bytes; the limit is 2 GiB — use fewer or smaller sub-buffers`,
    );
  }
  return layout;
}

/** Allocate and initialize the memory of a new set. */
export function createSetMemory(layout: SetLayout, mode: BufferMode): SetViews {
  const sab = new SharedArrayBuffer(layout.totalBytes);
  const v = new SetViews(sab, layout, mode);
  v.i32[S_MAGIC] = SET_MAGIC;
  v.i32[S_VERSION] = SET_VERSION;
  v.i32[S_CPUS] = layout.cpus;
  v.i32[S_SUB_SIZE] = layout.subBufferSize;
  v.i32[S_SUB_COUNT] = layout.subBufferCount;
  v.i32[S_MODE] = mode === "overwrite" ? 1 : 0;
  for (let cpu = 0; cpu < layout.cpus; cpu++) {
    v.i32[layout.ringBase(cpu) / 4 + R_WSEQ] = -1;
    for (let k = 0; k < layout.subBufferCount; k++) v.i32[layout.slotWord(cpu, k)] = slotState(0, ST_EMPTY);
  }
  return v;
}

/**
 * Views of a set's memory received from another thread.
 * @throws TraceBufferError `BAD_CONFIG` when `sab` does not hold a set of this layout version.
 */
export function attachSetMemory(sab: SharedArrayBuffer): SetViews {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < 128) {
    throw new TraceBufferError(
      "BAD_CONFIG",
      "expected the SharedArrayBuffer of a trace-buffer set (TraceBuffers.shared.sab)",
    );
  }
  const i32 = new Int32Array(sab, 0, 32);
  if (i32[S_MAGIC] !== SET_MAGIC || i32[S_VERSION] !== SET_VERSION) {
    throw new TraceBufferError(
      "BAD_CONFIG",
      "this SharedArrayBuffer does not hold a trace-buffer set of layout version 1 (wrong buffer, or another package version)",
    );
  }
  const layout = checkShape(i32[S_CPUS]!, i32[S_SUB_SIZE]!, i32[S_SUB_COUNT]!);
  if (layout.totalBytes !== sab.byteLength) {
    throw new TraceBufferError(
      "BAD_CONFIG",
      "the trace-buffer set header does not match the SharedArrayBuffer size",
    );
  }
  return new SetViews(sab, layout, i32[S_MODE] === 1 ? "overwrite" : "discard");
}
