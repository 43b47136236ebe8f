/**
 * Benchmarks of @xmc/trace-buffer, each beside a naive baseline measured in the same run:
 * appending an object per event to an array and serializing it with JSON.stringify.
 *
 * 1. One writer, a 3×u64 event: events/s.
 * 2. Two writers on two threads (one ring each): events/s over both.
 * 3. CTF export of a collected trace: MB/s written (and events/s), against writing the same
 *    events as JSON with JSON.stringify.
 *
 * Run: `pnpm bench` in this package. Prints the machine, the median of several runs and the
 * ratios. Not a test: nothing here fails.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { TraceBuffers, writeCtf } from "../src/index.ts";
import { BENCH_SCHEMA, naiveEvents, writeEvents } from "./workloads.ts";

const RUNS = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rows: string[][] = [];

function report(what: string, unit: string, ours: number, naive: number): void {
  rows.push([what, `${fmt(ours)} ${unit}`, `${fmt(naive)} ${unit}`, `${(ours / naive).toFixed(1)}×`]);
}

/** 1. One writer in this thread. */
function oneWriter(): void {
  const buffers = TraceBuffers.create({
    schema: BENCH_SCHEMA,
    cpus: 1,
    subBufferSize: 1 << 16,
    subBufferCount: 16,
    mode: "overwrite",
    clock: { unit: "cycles" },
  });
  const w = buffers.writer(0);
  const n = 10_000_000;
  const nNaive = 2_000_000;
  let t0 = writeEvents(w, 1_000_000, 0);
  naiveEvents(nNaive, 0);
  const ours: number[] = [];
  const naive: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let s = performance.now();
    t0 = writeEvents(w, n, t0);
    ours.push(n / ((performance.now() - s) / 1000));
    s = performance.now();
    naiveEvents(nNaive, t0);
    naive.push(nNaive / ((performance.now() - s) / 1000));
  }
  report("1 writer, 3×u64 event", "M events/s", median(ours) / 1e6, median(naive) / 1e6);
}

/** Run `threads` workers of one kind together; returns events/s over all of them. */
async function threaded(kind: "buffer" | "naive", threads: number, events: number): Promise<number> {
  const buffers = TraceBuffers.create({
    schema: BENCH_SCHEMA,
    cpus: threads,
    subBufferSize: 1 << 16,
    subBufferCount: 16,
    mode: "overwrite",
    clock: { unit: "cycles" },
  });
  const start = new SharedArrayBuffer(8);
  const flags = new Int32Array(start);
  const times: Promise<number>[] = [];
  for (let cpu = 0; cpu < threads; cpu++) {
    const worker = new Worker(new URL("./thread.mjs", import.meta.url), {
      workerData: { kind, shared: buffers.shared, cpu, events, start },
    });
    times.push(
      new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      }),
    );
  }
  // Wait until every worker is warmed up, then start them together.
  while (Atomics.load(flags, 1) < threads) await new Promise((r) => setTimeout(r, 5));
  const s = performance.now();
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  await Promise.all(times);
  return (threads * events) / ((performance.now() - s) / 1000);
}

async function twoWriters(): Promise<void> {
  const ours: number[] = [];
  const naive: number[] = [];
  for (let r = 0; r < 3; r++) {
    ours.push(await threaded("buffer", 2, 10_000_000));
    naive.push(await threaded("naive", 2, 2_000_000));
  }
  report("2 writers on 2 threads", "M events/s", median(ours) / 1e6, median(naive) / 1e6);
}

/** 3. CTF export of 2 M events, against JSON.stringify of the same events to a file. */
function ctfExport(): void {
  const n = 2_000_000;
  const buffers = TraceBuffers.create({
    schema: BENCH_SCHEMA,
    cpus: 2,
    subBufferSize: 1 << 16,
    subBufferCount: 1024,
    mode: "discard",
    clock: { unit: "cycles" },
  });
  for (let cpu = 0; cpu < 2; cpu++) {
    const w = buffers.writer(cpu);
    writeEvents(w, n / 2, 0);
    w.close();
  }
  const trace = buffers.reader().drain(undefined, true);
  const objects = Array.from({ length: n }, (_, i) => ({ id: 0, ts: i, a: i, b: i + 1, c: 0, cpu: i & 1 }));
  const dir = mkdtempSync(join(tmpdir(), "xmc-tb-bench-"));
  try {
    const ours: number[] = [];
    const naive: number[] = [];
    let ctfBytes = 0;
    let jsonBytes = 0;
    for (let r = 0; r < RUNS; r++) {
      let s = performance.now();
      ctfBytes = writeCtf(trace, join(dir, "ctf")).bytes;
      ours.push(performance.now() - s);
      s = performance.now();
      writeFileSync(join(dir, "naive.json"), JSON.stringify(objects));
      naive.push(performance.now() - s);
      jsonBytes = statSync(join(dir, "naive.json")).size;
    }
    const mbs = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
    report("CTF export (2 M events)", "MB/s", mbs(ctfBytes, median(ours)), mbs(jsonBytes, median(naive)));
    report(
      "CTF export, same events",
      "M events/s",
      n / 1e6 / (median(ours) / 1000),
      n / 1e6 / (median(naive) / 1000),
    );
    rows.push([
      "  (output size)",
      `${(ctfBytes / 1e6).toFixed(1)} MB CTF`,
      `${(jsonBytes / 1e6).toFixed(1)} MB JSON`,
      "",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(
  `@xmc/trace-buffer benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores (${cpu})`,
);
console.log(
  `median of ${RUNS} runs (3 for threads); naive = objects appended to an array + JSON.stringify\n`,
);
oneWriter();
await twoWriters();
ctfExport();
const widths = [0, 1, 2, 3].map((i) =>
  Math.max(...[["", "trace-buffer", "naive", "ratio"], ...rows].map((r) => r[i]!.length)),
);
const line = (r: string[]): string =>
  r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
console.log(line(["", "trace-buffer", "naive", "ratio"]));
for (const r of rows) console.log(line(r));
