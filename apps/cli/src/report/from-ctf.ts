/**
 * Build a report model from a CTF trace directory (as `writeCtf` writes it, e.g. `xmc trace
 * -o DIR` in DIR/ctf): events of every stream, CPUs from the streams (or the `cpus` env entry,
 * which also counts CPUs that wrote nothing), lost events per CPU, the trace's env and clock
 * as settings (`title` is the page title), and histograms from the env entry `histograms`, a
 * JSON text `[{ "name": ..., "buckets": [{ "lo": 0, "hi": 8, "count": 3 }, ...] }]` — in the
 * metadata, so that the directory stays a plain CTF trace that babeltrace2 reads.
 */
import { type CtfValue, readCtf } from "@xmc/trace-buffer";
import { UsageError } from "../errors.ts";
import type { Histogram, ReportModel, ReportValue } from "./model.ts";

/** The env entry (CTF metadata) that holds the histograms as JSON text. */
export const HISTOGRAMS_ENV = "histograms";

/** Env entries that are not settings. */
const NOT_SETTINGS = new Set([HISTOGRAMS_ENV, "title"]);

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** A CTF value as a report value (bigints as decimal text, bytes as hex, arrays as JSON). */
export function reportValue(v: CtfValue): ReportValue {
  if (typeof v === "number" || typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return hex(v);
  return JSON.stringify(v, (_k, x) =>
    typeof x === "bigint" ? x.toString() : x instanceof Uint8Array ? hex(x) : x,
  );
}

/** Parse the `histograms` env entry of the trace in `dir`. */
export function parseHistograms(text: string, dir: string): Histogram[] {
  const where = `${dir}: env.${HISTOGRAMS_ENV}`;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`xmc report: ${where}: not valid JSON (${(e as Error).message})`, 1);
  }
  const bad = (what: string): never => {
    throw new UsageError(`xmc report: ${where}: ${what}`, 1);
  };
  if (!Array.isArray(data)) bad("expected an array of {name, buckets}");
  return (data as unknown[]).map((h, i) => {
    const o = h as { name?: unknown; buckets?: unknown };
    if (typeof o?.name !== "string") bad(`histogram ${i} has no name`);
    if (!Array.isArray(o.buckets)) bad(`histogram ${String(o.name)} has no buckets array`);
    const buckets = (o.buckets as unknown[]).map((b, k) => {
      const x = b as { lo?: unknown; hi?: unknown; count?: unknown };
      if (typeof x?.lo !== "number" || typeof x.hi !== "number" || typeof x.count !== "number")
        bad(`histogram ${String(o.name)} bucket ${k} needs numbers lo, hi and count`);
      return { lo: x.lo as number, hi: x.hi as number, count: x.count as number };
    });
    return { name: o.name as string, buckets };
  });
}

/**
 * Read the trace in `dir` and build its report model.
 * @throws TraceBufferError `BAD_TRACE` for a malformed trace; UsageError for malformed histograms.
 */
export function reportFromCtf(dir: string): ReportModel {
  const t = readCtf(dir);
  // `xmc trace` writes the patching agent's phases and IPIs to one more stream, named by the
  // env entry `patcher_stream`: its events are the agent's (cpu -1), not a CPU lane.
  const patcherEnv = Number(t.env.patcher_stream);
  const patcher = Number.isSafeInteger(patcherEnv) && patcherEnv >= 0 ? patcherEnv : -2;
  const laneCpu = (c: number) => (c === patcher ? -1 : c);
  const maxCpu = Math.max(
    -1,
    ...t.streams.map((s) => laneCpu(s.cpu)),
    ...t.events.map((e) => laneCpu(e.cpu)),
  );
  const envCpus = Number(t.env.cpus);
  const cpus = Math.max(1, maxCpu + 1, Number.isSafeInteger(envCpus) && envCpus <= 1024 ? envCpus : 0);
  const lost = new Array<number>(cpus).fill(0);
  for (const s of t.streams) if (s.cpu !== patcher) lost[s.cpu] = (lost[s.cpu] ?? 0) + s.eventsDiscarded;
  const settings: Record<string, ReportValue> = { trace: dir };
  for (const [k, v] of Object.entries(t.env)) if (!NOT_SETTINGS.has(k)) settings[k] = v;
  settings.clock = `${t.clock.name}, ${t.clock.frequency.toLocaleString("en-US")} Hz`;
  const hist = t.env[HISTOGRAMS_ENV];
  const unit = t.env.clock_unit === "ns" ? "ns" : "cycles";
  return {
    title: typeof t.env.title === "string" ? t.env.title : `xmc trace report: ${dir}`,
    cpus,
    timeUnit: unit,
    events: t.events.map((e) => {
      const fields: Record<string, ReportValue> = {};
      for (const [k, v] of Object.entries(e.fields)) fields[k] = reportValue(v);
      return { cpu: laneCpu(e.cpu), time: e.timestamp, name: e.eventClass.name, fields };
    }),
    histograms: typeof hist === "string" ? parseHistograms(hist, dir) : [],
    settings,
    lost,
  };
}
