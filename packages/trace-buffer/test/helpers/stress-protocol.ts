/**
 * What the stress test's writer workers and its reader agree on: the schema, the payload each
 * (writer, sequence number) pair must carry, its checksum, and where workers report counts.
 */
import { defineSchema, type TraceSchema } from "../../src/index.ts";

/** One class: which stream wrote it, its sequence number in that stream, a checksum, bytes. */
export const STRESS_SCHEMA: TraceSchema = defineSchema({
  rec: { fields: { stream: "u16", seq: "u32", sum: "u32", payload: "bytes" } },
});

/** Longest payload written normally. */
export const MAX_PAYLOAD = 40;

/** Byte `i` of the payload of event `seq` of `stream`. */
export function payloadByte(stream: number, seq: number, i: number): number {
  return (Math.imul(seq, 31) + Math.imul(i, 7) + stream * 13) & 0xff;
}

/** FNV-1a over stream, seq and the payload bytes. */
export function checksum(stream: number, seq: number, payload: Uint8Array, len: number): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ (stream & 0xff), 0x01000193);
  h = Math.imul(h ^ (stream >>> 8), 0x01000193);
  for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((seq >>> (8 * k)) & 0xff), 0x01000193);
  for (let i = 0; i < len; i++) h = Math.imul(h ^ payload[i]!, 0x01000193);
  return h >>> 0;
}

/** Options a writer worker gets as `workerData`. */
export interface StressWorkerData {
  readonly shared: import("../../src/index.ts").SharedTraceBuffers;
  /** Ring to write (one writer per ring); streams 2·cpu (normal) and 2·cpu+1 (nested). */
  readonly cpu: number;
  readonly seed: number;
  /** Writes to attempt in the normal stream. */
  readonly count: number;
  /**
   * Shared Float64Array: per cpu, [attempted normal, attempted nested, done flag (an Int32 in
   * the slot's low half), reservations meant to be discarded that were dropped].
   */
  readonly results: SharedArrayBuffer;
}

/** Float64 slots per CPU in the results array. */
export const RESULT_SLOTS = 4;
