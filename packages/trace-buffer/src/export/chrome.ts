/**
 * Export a trace in the Chrome trace-event JSON format, which Perfetto (ui.perfetto.dev) and
 * chrome://tracing open. Facts from the "Trace Event Format" document (Google, 2016): the
 * object form `{ "traceEvents": [...], "displayTimeUnit": "ns" }`; `ts` in microseconds;
 * phases `B`/`E` (duration begin/end, nested per thread), `i` with scope `s: "t"` (instant on
 * a thread), `C` (counter, one series per `args` key) and `M` (metadata: `process_name`,
 * `thread_name`, `thread_sort_index`).
 *
 * Each CPU is a thread (track) of one process. Event classes show according to their `kind`;
 * lost events show as instant events named "discarded events" with the count and reason.
 */
import { mergeEvents } from "../merge.ts";
import type { Trace } from "../trace.ts";
import { writeFailed } from "./ctf.ts";
import { defaultWrite, OutputFailed, OutputFile, type WriteFunction } from "./output.ts";
import { jsonValue } from "./values.ts";

/** Options for the Chrome JSON export. */
export interface ChromeOptions {
  /** Process name shown in the UI; default "xmc trace". */
  readonly processName?: string;
  /** Process id used for all events; default 1. */
  readonly pid?: number;
  /** Track name of a CPU; default `CPU <n>`. */
  readonly cpuName?: (cpu: number) => string;
  /**
   * {@link writeChromeJson}: the function that writes the file (default `fs.writeSync`): a
   * point to inject failures (a full disk) in tests, or to count or throttle output.
   */
  readonly write?: WriteFunction;
}

/** Name of the instant events that mark lost events. */
export const DISCARDED_EVENT_NAME = "discarded events";

/**
 * The trace as Chrome trace-event JSON text (one event per line inside `traceEvents`).
 * Timestamps become microseconds: ticks × 10^6 / clock frequency.
 */
export function chromeTraceJson(trace: Trace, options: ChromeOptions = {}): string {
  const { head, lines, tail } = chromeParts(trace, options);
  return `${head}${lines.join(",\n")}${tail}`;
}

/** The JSON text in parts: `head`, one line per entry (the first `meta` are metadata), `tail`. */
function chromeParts(
  trace: Trace,
  options: ChromeOptions,
): { head: string; lines: string[]; meta: number; tail: string } {
  const pid = options.pid ?? 1;
  const perUs = trace.clock.frequency / 1e6;
  const us = (ticks: number): number => ticks / perUs;
  const lines: string[] = [];
  const add = (e: object): void => {
    lines.push(JSON.stringify(e));
  };
  add({ name: "process_name", ph: "M", pid, args: { name: options.processName ?? "xmc trace" } });
  for (let cpu = 0; cpu < trace.cpus; cpu++) {
    add({
      name: "thread_name",
      ph: "M",
      pid,
      tid: cpu,
      args: { name: options.cpuName?.(cpu) ?? `CPU ${cpu}` },
    });
    add({ name: "thread_sort_index", ph: "M", pid, tid: cpu, args: { sort_index: cpu } });
  }
  const meta = lines.length;
  for (const item of mergeEvents(trace)) {
    const ts = us(item.timestamp);
    const tid = item.cpu;
    if (item.kind === "lost") {
      add({
        name: DISCARDED_EVENT_NAME,
        cat: "xmc.lost",
        ph: "i",
        s: "t",
        ts,
        pid,
        tid,
        args: { count: item.count, reason: item.reason },
      });
      continue;
    }
    const c = item.eventClass;
    const args: Record<string, number | string> = {};
    c.fields.forEach((f, i) => {
      args[f.name] = jsonValue(item.values[i]!);
    });
    switch (c.kind) {
      case "begin":
        add({ name: c.span, cat: "xmc", ph: "B", ts, pid, tid, args: { event: c.name, ...args } });
        break;
      case "end":
        add({ name: c.span, cat: "xmc", ph: "E", ts, pid, tid, args: { event: c.name, ...args } });
        break;
      case "counter":
        add({
          name: trace.cpus === 1 ? c.span : `${c.span} [CPU ${tid}]`,
          cat: "xmc",
          ph: "C",
          ts,
          pid,
          tid,
          args,
        });
        break;
      default:
        add({ name: c.name, cat: "xmc", ph: "i", s: "t", ts, pid, tid, args });
    }
  }
  const other = JSON.stringify({
    clock: trace.clock.name,
    unit: trace.clock.unit,
    frequency: trace.clock.frequency,
    mode: trace.mode,
  });
  return {
    head: `{"displayTimeUnit":"ns","otherData":${other},"traceEvents":[\n`,
    lines,
    meta,
    tail: "\n]}\n",
  };
}

/**
 * Write the Chrome trace-event JSON of `trace` to `file`.
 * @returns bytes written.
 * @throws TraceBufferError `WRITE_FAILED` when a write fails (e.g. a full disk): the file is
 *   cut back to its last complete entry and closed, so it still parses as JSON, and the
 *   error's `writeFailure` counts the events written and lost. Node's errors from opening the
 *   file as is.
 */
export function writeChromeJson(trace: Trace, file: string, options: ChromeOptions = {}): number {
  const { head, lines, meta, tail } = chromeParts(trace, options);
  const enc = new TextEncoder();
  const out = new OutputFile(file, options.write ?? defaultWrite);
  const headBytes = enc.encode(head);
  const tailBytes = enc.encode(tail);
  // File offset after each complete entry (lines[i]).
  const ends: number[] = [];
  let pending: string[] = [];
  let pendingEnd = headBytes.length;
  try {
    out.put(headBytes);
    const flush = () => {
      if (pending.length > 0) out.put(enc.encode(pending.join("")));
      pending = [];
    };
    let buffered = 0;
    lines.forEach((line, i) => {
      const piece = i === 0 ? line : `,\n${line}`;
      pending.push(piece);
      pendingEnd += Buffer.byteLength(piece);
      ends.push(pendingEnd);
      buffered += piece.length;
      if (buffered > 1 << 20) {
        flush();
        buffered = 0;
      }
    });
    flush();
    out.put(tailBytes);
    out.close();
    return out.onDisk;
  } catch (e) {
    if (!(e instanceof OutputFailed)) {
      out.close();
      throw e;
    }
    // Keep the entries wholly on disk and close the JSON after them; if even the closing
    // does not fit, give up one more entry (its bytes make room) and try again.
    let k = 0;
    while (k < ends.length && ends[k]! <= e.onDisk) k++;
    let kept = -1;
    for (; k >= 0 && kept < 0; k--) {
      try {
        if (e.onDisk < headBytes.length) {
          out.truncate(0);
          out.put(headBytes);
        } else out.truncate(k === 0 ? headBytes.length : ends[k - 1]!);
        out.put(tailBytes);
        kept = k;
      } catch (again) {
        if (!(again instanceof OutputFailed)) throw again;
      }
    }
    if (kept < 0) out.truncate(0);
    const bytes = out.onDisk;
    out.close();
    const events = lines.length - meta;
    const written = Math.max(0, kept - meta);
    throw writeFailed(file, e.cause, { events: written, packets: 0, bytes }, { events, packets: 0 });
  }
}
