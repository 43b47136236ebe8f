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
import { writeFileSync } from "node:fs";
import { mergeEvents } from "../merge.ts";
import type { Trace } from "../trace.ts";
import { jsonValue } from "./values.ts";

/** Options for the Chrome JSON export. */
export interface ChromeOptions {
  /** Process name shown in the UI; default "xmc trace". */
  readonly processName?: string;
  /** Process id used for all events; default 1. */
  readonly pid?: number;
  /** Track name of a CPU; default `CPU <n>`. */
  readonly cpuName?: (cpu: number) => string;
}

/** Name of the instant events that mark lost events. */
export const DISCARDED_EVENT_NAME = "discarded events";

/**
 * The trace as Chrome trace-event JSON text (one event per line inside `traceEvents`).
 * Timestamps become microseconds: ticks × 10^6 / clock frequency.
 */
export function chromeTraceJson(trace: Trace, options: ChromeOptions = {}): string {
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
  return `{"displayTimeUnit":"ns","otherData":${other},"traceEvents":[\n${lines.join(",\n")}\n]}\n`;
}

/**
 * Write the Chrome trace-event JSON of `trace` to `file`.
 * @returns bytes written.
 * @throws Node's fs errors as is.
 */
export function writeChromeJson(trace: Trace, file: string, options: ChromeOptions = {}): number {
  const text = chromeTraceJson(trace, options);
  writeFileSync(file, text);
  return Buffer.byteLength(text);
}
