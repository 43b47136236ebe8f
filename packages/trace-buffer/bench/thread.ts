/**
 * A benchmark worker thread: waits for the start signal, runs its workload (trace-buffer
 * writer or naive baseline) for the given number of events, and reports its time.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type SharedTraceBuffers, TraceBuffers } from "../src/index.ts";
import { naiveEvents, writeEvents } from "./workloads.ts";

interface ThreadData {
  readonly kind: "buffer" | "naive";
  readonly shared: SharedTraceBuffers;
  readonly cpu: number;
  readonly events: number;
  readonly start: SharedArrayBuffer;
}

const data = workerData as ThreadData;
const w = data.kind === "buffer" ? TraceBuffers.attach(data.shared).writer(data.cpu) : undefined;
// Warm up so that both workloads run optimized code when timed.
if (w !== undefined) writeEvents(w, 200_000, 0);
else naiveEvents(200_000, 0);
const start = new Int32Array(data.start);
Atomics.add(start, 1, 1);
Atomics.notify(start, 1);
Atomics.wait(start, 0, 0);
const t = performance.now();
if (w !== undefined) writeEvents(w, data.events, 1e6);
else naiveEvents(data.events, 1e6);
parentPort!.postMessage(performance.now() - t);
w?.close();
