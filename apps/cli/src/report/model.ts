/**
 * The report's data: what `renderReport` draws. `xmc trace` and `xmc demo` build it from their
 * run; `reportFromCtf` builds it from a CTF trace directory.
 */

/** A field value as the report shows it. */
export type ReportValue = string | number | boolean;

/** One trace event. */
export interface ReportEvent {
  cpu: number;
  /** Modeled time (cycles, or the trace clock's ticks). */
  time: number;
  /** Event name, e.g. `marker:app:tick` or `xmc_patch:int3`. */
  name: string;
  fields: Readonly<Record<string, ReportValue>>;
}

/**
 * A phase of a patch (drawn as a band over every lane): from its event to the next phase
 * event of the patching CPU. `phase` is `int3`, `sync`, `tail`, `head`, `done`, ...
 */
export interface PatchPhase {
  phase: string;
  start: number;
  end: number;
  /** Sites in the batch. */
  sites: number;
  /** The patching CPU (or -1 for the patching agent outside the CPUs). */
  cpu: number;
}

/** An IPI sent to `target` at `time` (drawn as a mark on the target's lane). */
export interface Ipi {
  time: number;
  target: number;
  from: number;
}

/** A histogram: buckets `[lo, hi)` with counts. */
export interface Histogram {
  name: string;
  buckets: readonly { lo: number; hi: number; count: number }[];
}

/** Everything a report shows. Optional parts are derived from `events` when absent. */
export interface ReportModel {
  title?: string;
  /** Number of CPUs: one lane each. */
  cpus: number;
  /** Unit of `time` (default `cycles`). */
  timeUnit?: string;
  events: readonly ReportEvent[];
  /** Default: from the `xmc_patch:<phase>` events (every one but `xmc_patch:ipi`). */
  patchPhases?: readonly PatchPhase[];
  /** Default: from the `xmc_patch:ipi` events (field `target`, else `cpu`). */
  ipis?: readonly Ipi[];
  histograms?: readonly Histogram[];
  /** The run's settings, shown as a key/value table. */
  settings?: Readonly<Record<string, ReportValue>>;
  /** Event name → count per CPU (index = CPU). Default: counted from `events` (not the xmc_patch ones). */
  counts?: Readonly<Record<string, readonly number[]>>;
  /** Events lost per CPU (ring buffer overflow), when known. */
  lost?: readonly number[];
}

/** Events of this prefix are the patching protocol's: phases and IPIs, not event marks. */
export const PATCH_PREFIX = "xmc_patch:";

/** Is `e` a patch phase event (`xmc_patch:*` but not `xmc_patch:ipi`)? */
export function isPhaseEvent(e: ReportEvent): boolean {
  return e.name.startsWith(PATCH_PREFIX) && e.name !== `${PATCH_PREFIX}ipi`;
}

/** Patch phases from the `xmc_patch:*` events: each lasts until the next one on its CPU. */
export function phasesFromEvents(events: readonly ReportEvent[]): PatchPhase[] {
  const byCpu = new Map<number, ReportEvent[]>();
  for (const e of events) if (isPhaseEvent(e)) byCpu.set(e.cpu, [...(byCpu.get(e.cpu) ?? []), e]);
  const out: PatchPhase[] = [];
  for (const [cpu, list] of byCpu) {
    list.sort((a, b) => a.time - b.time);
    list.forEach((e, i) => {
      const next = list[i + 1];
      const phase = typeof e.fields.phase === "string" ? e.fields.phase : e.name.slice(PATCH_PREFIX.length);
      const sites = typeof e.fields.sites === "number" ? e.fields.sites : 0;
      // `done` (or the last event) ends its batch: a point, not a band to the next batch.
      const end = next && phase !== "done" ? next.time : e.time;
      out.push({ phase, start: e.time, end, sites, cpu });
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** IPIs from the `xmc_patch:ipi` events. */
export function ipisFromEvents(events: readonly ReportEvent[]): Ipi[] {
  const out: Ipi[] = [];
  for (const e of events) {
    if (e.name !== `${PATCH_PREFIX}ipi`) continue;
    const t = e.fields.target ?? e.fields.cpu;
    if (typeof t === "number") out.push({ time: e.time, target: t, from: e.cpu });
  }
  return out;
}

/** Count events per name per CPU (the `xmc_patch:*` ones left out). */
export function countEvents(events: readonly ReportEvent[], cpus: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of events) {
    if (e.name.startsWith(PATCH_PREFIX)) continue;
    const row = (out[e.name] ??= new Array<number>(cpus).fill(0));
    if (e.cpu >= 0 && e.cpu < cpus) row[e.cpu]!++;
  }
  return out;
}
