/**
 * The workloads the benchmark times, shared by the main thread and the worker threads: one
 * writer writing a 3×u64 event through the trace buffer, and the naive baseline (objects
 * appended to an array, then JSON.stringify).
 */
import { defineSchema, type TraceSchema, type TraceWriter } from "../src/index.ts";

/** One event class with three u64 fields. */
export const BENCH_SCHEMA: TraceSchema = defineSchema({
  sample: { fields: { a: "u64", b: "u64", c: "u64" } },
});

/** Write `n` events with timestamps from `t0`; returns the next timestamp. */
export function writeEvents(w: TraceWriter, n: number, t0: number): number {
  for (let i = 0; i < n; i++) {
    if (w.reserve(0, t0 + i))
      w.u64(i)
        .u64(i + 1)
        .u64(t0)
        .commit();
  }
  return t0 + n;
}

/** The naive way: an object per event in an array, serialized at the end. Returns the JSON length. */
export function naiveEvents(n: number, t0: number): number {
  const events: { id: number; ts: number; a: number; b: number; c: number }[] = [];
  for (let i = 0; i < n; i++) events.push({ id: 0, ts: t0 + i, a: i, b: i + 1, c: t0 });
  return JSON.stringify(events).length;
}
