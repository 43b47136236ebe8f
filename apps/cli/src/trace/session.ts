/**
 * A traced run: a program on the machine, markers (and probes) connected per the specs, armed
 * at a modeled time through the chosen protocol and optionally disarmed later, every hit
 * written to its CPU's ring buffer (one ring per CPU, modeled cycles; the patching agent writes
 * its protocol phases and IPIs to one more ring), actions applied (print, count, log2
 * histograms), and at the end the trace exported (CTF, Chrome JSON) with a report.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { countByClass, machinePort, NOMINAL_HZ } from "@xmc/cpu-sim";
import { parseElf } from "@xmc/elf";
import {
  type ArmResult,
  discoverSites,
  globToRegExp,
  MarkerError,
  type MarkerEvent,
  type MarkerSite,
  Markers,
  type ProbeValue,
  parseFormat,
  renderFormat,
  siteName,
} from "@xmc/markers";
import { type Probe as DynProbe, type ProbeContext, ProbeError, Probes } from "@xmc/probes";
import {
  defineSchema,
  type FieldType,
  type Trace,
  TraceBuffers,
  writeChromeJson,
  writeCtf,
} from "@xmc/trace-buffer";
import { UsageError } from "../errors.ts";
import { HISTOGRAMS_ENV, renderReport, reportFromCtf } from "../report/index.ts";
import type { PreparedRun } from "../run.ts";
import type { Action, TraceSpec } from "./spec.ts";

/** How events are shown while the program runs. */
export type StreamFormat = "text" | "json" | "none";

/** Options of a traced run. */
export interface TraceOptions {
  specs: readonly TraceSpec[];
  /** Modeled time at which the probes are armed (cycles, default 0). */
  armAt: number;
  /** Modeled time at which they are disarmed (default: never). */
  disarmAt?: number;
  protocol: "int3-batch" | "stop-machine";
  /** Where `print` actions go. */
  stream: StreamFormat;
  write: (line: string) => void;
  /** Directory for ctf/, trace.json and report.html (what `formats` asks for). */
  outDir?: string;
  formats?: { ctf: boolean; chrome: boolean; report: boolean };
  /** Title of the report and CTF env. */
  title?: string;
}

/** One probe of the run: a spec resolved to a name, a format and sites (or a dynamic probe). */
export interface TraceProbe {
  /** Event name: `provider:name` (markers, USDT, functions), or `kprobe:SYMBOL+OFF` etc. */
  readonly name: string;
  readonly spec: TraceSpec;
  readonly format: string;
  readonly sites: readonly MarkerSite[];
  /** Hits per CPU. */
  readonly counts: number[];
  /** hist(argN): log2 bucket → count. */
  readonly hist?: Map<number, number>;
  /** kprobe/kretprobe/djprobe: the registered probe (set when the run starts). */
  dyn?: DynProbe;
}

/** The fields of a dynamic probe's events: the first three System V arguments, or the return value. */
const DYN_FORMAT: Record<string, string> = {
  kprobe: "%lx %lx %lx",
  djprobe: "%lx %lx %lx",
  kretprobe: "%lx",
};

/** Patching statistics summed over every arming and disarming run. */
export interface PatchSummary {
  protocol: string;
  runs: number;
  enabled: number;
  disabled: number;
  batches: number;
  stores: number;
  syncs: number;
  ipis: number;
  int3Hits: number;
  syncStallCycles: number;
  parkedStallCycles: number;
  /** Patching agent's modeled cycles, first step to last, summed over markers' batches. */
  patchCycles: number;
  /** Arming / disarming completion times (agent time). */
  armedAt: number[];
  disarmedAt: number[];
}

/** What a traced run gives. */
export interface TraceResult {
  exit: {
    code: number;
    signal: number;
    instructionLimit: boolean;
    timeLimit: boolean;
    deadlock: boolean;
    report?: string;
  };
  cpus: number;
  instructions: number;
  /** The run's span: the largest CPU time. */
  cycles: number;
  probes: TraceProbe[];
  /** Probe events written (the patching agent's phase and IPI events not included). */
  events: number;
  /** The patching agent's events (phases, IPIs). */
  patchEvents: number;
  lost: number[];
  patch: PatchSummary;
  hazards?: Record<string, number>;
  trace: Trace;
  files: { ctf?: string; chrome?: string; report?: string };
}

const KIND_OF_SPEC: Record<string, readonly string[]> = {
  marker: ["nop5", "jmp2", "call"],
  usdt: ["usdt"],
  func: ["fentry", "patchable"],
};

function fieldType(c: string): FieldType {
  switch (c) {
    case "d":
      return "s32";
    case "u":
      return "u32";
    case "ld":
      return "s64";
    case "s":
    case "c":
      return "string";
    default:
      return "u64";
  }
}

/** log2 bucket of a value: 0 for 0, k for [2^(k-1), 2^k), negative values in bucket -k. */
export function log2Bucket(v: ProbeValue): number {
  let n = typeof v === "bigint" ? v : typeof v === "number" ? BigInt(Math.trunc(v)) : BigInt(v.length);
  const neg = n < 0n;
  if (neg) n = -n;
  let k = 0;
  while (n > 0n) {
    n >>= 1n;
    k++;
  }
  return neg ? -k : k;
}

/** The bucket's [lo, hi) range. */
export function bucketRange(k: number): { lo: number; hi: number } {
  if (k === 0) return { lo: 0, hi: 1 };
  const lo = 2 ** (Math.abs(k) - 1);
  const hi = 2 ** Math.abs(k);
  return k > 0 ? { lo, hi } : { lo: -hi + 1, hi: -lo + 1 };
}

function jsonValue(v: ProbeValue): string | number {
  if (typeof v === "bigint")
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  return v;
}

/** A probe of the run, its hist(argN) checked against its format's arity. */
function newProbe(
  spec: TraceSpec,
  name: string,
  format: string,
  sites: MarkerSite[],
  what: string,
): TraceProbe {
  const arity = parseFormat(format).length;
  if (spec.action.type === "hist" && spec.action.arg >= arity)
    throw new UsageError(
      `xmc trace: -e ${spec.text}: ${name} has ${arity} ${what}; hist(arg${spec.action.arg}) is out of range`,
    );
  return {
    name,
    spec,
    format,
    sites,
    counts: [],
    ...(spec.action.type === "hist" ? { hist: new Map<number, number>() } : {}),
  };
}

/** Resolve the specs against the program's sites: one probe per distinct marker name. */
export function resolveSpecs(specs: readonly TraceSpec[], sites: readonly MarkerSite[]): TraceProbe[] {
  const probes: TraceProbe[] = [];
  const taken = new Map<string, TraceSpec>();
  for (const spec of specs) {
    const kinds = KIND_OF_SPEC[spec.kind];
    if (!kinds) {
      // An event name (CTF's characters): `kprobe:price`, `kprobe:price:0x5`.
      const name = `${spec.kind}:${spec.target}${spec.offset === 0 ? "" : `:0x${spec.offset.toString(16)}`}`;
      const prev = taken.get(name);
      if (prev) throw new UsageError(`xmc trace: ${name} is given twice (-e ${prev.text}, -e ${spec.text})`);
      taken.set(name, spec);
      probes.push(newProbe(spec, name, DYN_FORMAT[spec.kind]!, [], "value(s)"));
      continue;
    }
    const pattern = spec.kind === "func" ? `func:${spec.target}` : spec.target;
    let re: RegExp;
    try {
      re = globToRegExp(pattern);
    } catch (e) {
      throw new UsageError(`xmc trace: -e ${spec.text}: ${(e as Error).message}`);
    }
    const matched = sites.filter((s) => re.test(siteName(s)));
    const right = matched.filter((s) => kinds.includes(s.kind));
    if (right.length === 0) {
      const other = matched[0];
      throw new UsageError(
        other
          ? `xmc trace: -e ${spec.text}: ${siteName(other)} is a ${other.kind} site, not a ${spec.kind} (use ${other.kind === "usdt" ? "usdt" : other.kind === "fentry" || other.kind === "patchable" ? "func" : "marker"}:)`
          : `xmc trace: -e ${spec.text}: no ${spec.kind} site matches "${spec.target}" (see xmc markers PROGRAM)`,
      );
    }
    const byName = new Map<string, MarkerSite[]>();
    for (const s of right) byName.set(siteName(s), [...(byName.get(siteName(s)) ?? []), s]);
    for (const [name, list] of byName) {
      const prev = taken.get(name);
      if (prev)
        throw new UsageError(`xmc trace: ${name} is matched by both -e ${prev.text} and -e ${spec.text}`);
      taken.set(name, spec);
      const problem = list.find((s) => s.problem);
      if (problem) throw new UsageError(`xmc trace: -e ${spec.text}: ${name}: ${problem.problem}`);
      probes.push(newProbe(spec, name, list[0]!.format, list, "argument(s)"));
    }
  }
  return probes;
}

/** Run the prepared program with the specs attached. */
export function runTrace(run: PreparedRun, opts: TraceOptions): TraceResult {
  const { machine, proc } = run;
  const elf = parseElf(run.bytes);
  let sites: MarkerSite[];
  try {
    sites = discoverSites(elf);
  } catch (e) {
    if (e instanceof MarkerError) throw new UsageError(`xmc trace: ${run.program}: ${e.message}`, 1);
    throw e;
  }
  const probes = resolveSpecs(opts.specs, sites);
  const ncpu = machine.cpus.length;
  for (const p of probes) p.counts.push(...new Array<number>(ncpu).fill(0));

  // One event class per probe (arguments typed by its format), and the patcher's.
  const spec: Record<string, { fields: Record<string, FieldType> }> = {};
  for (const p of probes) {
    const fields: Record<string, FieldType> = {};
    parseFormat(p.format).forEach((c, i) => {
      fields[`arg${i}`] = fieldType(c);
    });
    spec[p.name] = { fields };
  }
  for (const ph of ["stub", "int3", "sync", "tail", "head", "rendezvous", "write", "release", "done"])
    spec[`xmc_patch:${ph}`] = { fields: { phase: "string", sites: "u32" } };
  spec["xmc_patch:ipi"] = { fields: { target: "u32" } };
  const schema = defineSchema(spec);
  const PATCHER = ncpu; // the patching agent's ring
  const buffers = TraceBuffers.create({
    schema,
    cpus: ncpu + 1,
    subBufferSize: 1 << 16,
    subBufferCount: 32,
    mode: "discard",
    clock: { unit: "cycles", frequency: NOMINAL_HZ, name: "modeled_cycles" },
  });
  const writers = Array.from({ length: ncpu + 1 }, (_, i) => buffers.writer(i));

  // The port, watched: the protocol's phases and IPIs become events on the patcher's ring.
  const port = machinePort(machine);
  let phaseSyncs = 0;
  let lastPhase = "";
  let batchSites = 0;
  const patchEvent = (phase: string) => {
    writers[PATCHER]!.emit(`xmc_patch:${phase}`, Math.round(port.cycles()), [phase, batchSites]);
    lastPhase = phase;
  };
  // Every store, sync and rendezvous of every patching run (markers and probes) is counted here.
  const patch: PatchSummary = {
    protocol: opts.protocol,
    runs: 0,
    enabled: 0,
    disabled: 0,
    batches: 0,
    stores: 0,
    syncs: 0,
    ipis: 0,
    int3Hits: 0,
    syncStallCycles: 0,
    parkedStallCycles: 0,
    patchCycles: 0,
    armedAt: [],
    disarmedAt: [],
  };
  const watched = {
    ...port,
    write(addr: number, bytes: Uint8Array): void {
      const phase =
        bytes.length > 8
          ? "stub"
          : lastPhase === "rendezvous" || lastPhase === "write"
            ? "write"
            : (["int3", "tail", "head"][phaseSyncs] ?? "head");
      if (phase !== lastPhase) patchEvent(phase);
      if (bytes.length <= 8) patch.stores++;
      port.write(addr, bytes);
    },
    syncAll() {
      const h = port.syncAll();
      phaseSyncs++;
      patch.syncs++;
      patch.ipis += h.targets;
      patch.syncStallCycles += h.stallCycles();
      patchEvent("sync");
      for (let t = 0; t < h.targets; t++)
        writers[PATCHER]!.emit("xmc_patch:ipi", Math.round(port.cycles()), [t]);
      return h;
    },
    stopMachine() {
      const h = port.stopMachine();
      patchEvent("rendezvous");
      patch.ipis += ncpu;
      for (let t = 0; t < ncpu; t++) writers[PATCHER]!.emit("xmc_patch:ipi", Math.round(port.cycles()), [t]);
      return {
        parked: () => h.parked(),
        release() {
          patchEvent("release");
          h.release();
          patch.parkedStallCycles += h.stallCycles();
        },
        stallCycles: () => h.stallCycles(),
      };
    },
  };

  const symbols = new Map<string, number>();
  for (const s of elf.symbols()) if (s.name !== "" && s.value !== 0n) symbols.set(s.name, Number(s.value));
  const markers = new Markers(watched, sites, {
    symbols,
    protocol: opts.protocol,
    onProbeError: (e, conn, ev) =>
      process.stderr.write(
        `xmc trace: probe ${conn.pattern} failed at ${ev.marker}: ${(e as Error).message}\n`,
      ),
  });

  /** One hit of probe `p`: its ring, its counts, its action. */
  const record = (p: TraceProbe, cpu: number, time: number, args: readonly ProbeValue[]) => {
    p.counts[cpu] = (p.counts[cpu] ?? 0) + 1;
    writers[cpu]!.emit(p.name, Math.round(time), args as ProbeValue[]);
    const action: Action = p.spec.action;
    if (action.type === "hist") {
      const b = log2Bucket(args[action.arg]!);
      p.hist!.set(b, (p.hist!.get(b) ?? 0) + 1);
    } else if (action.type === "print") {
      if (opts.stream === "text")
        opts.write(
          `${Math.round(time)} cpu${cpu} ${p.name}${p.format === "" ? "" : `: ${renderFormat(p.format, args)}`}\n`,
        );
      else if (opts.stream === "json")
        opts.write(
          `${JSON.stringify({ time: Math.round(time), cpu, probe: p.name, args: args.map(jsonValue) })}\n`,
        );
    }
  };
  for (const p of probes)
    if (p.sites.length > 0)
      markers.connect(p.name, p.format, (e: MarkerEvent) => record(p, e.cpu, e.time, e.args));

  // kprobes, kretprobes, djprobes: registered now (every refusal before the run), enabled at
  // the arming time by the probes' own steps.
  const dynamic = probes.filter((p) => p.sites.length === 0);
  const registry = dynamic.length > 0 ? new Probes(watched, { elf }) : undefined;
  const dynSteps: Generator<undefined | { wait: () => boolean; why: string }, unknown, void>[] = [];
  for (const p of dynamic) {
    const spec = p.spec;
    const args3 = (ctx: ProbeContext) => [ctx.arg(0), ctx.arg(1), ctx.arg(2)];
    let reg: ReturnType<Probes["register"]>;
    try {
      reg =
        spec.kind === "kretprobe"
          ? registry!.register({
              kind: "kretprobe",
              symbol: spec.target,
              name: p.name,
              ret: (ctx) => record(p, ctx.cpu, ctx.cycles, [ctx.retval]),
            })
          : registry!.register({
              kind: spec.kind as "kprobe" | "djprobe",
              symbol: spec.target,
              offset: spec.offset,
              name: p.name,
              pre: (ctx) => record(p, ctx.cpu, ctx.cycles, args3(ctx)),
            });
    } catch (e) {
      if (e instanceof ProbeError) throw new UsageError(`xmc trace: -e ${spec.text}: ${e.message}`);
      throw e;
    }
    const refusal = reg.probe.refusal;
    if (spec.kind === "djprobe" && refusal)
      throw new UsageError(
        `xmc trace: -e ${spec.text}: the optimizer refuses it: ${refusal.message} (kprobe:${spec.target}+0x${spec.offset.toString(16)} works there)`,
      );
    p.dyn = reg.probe;
    dynSteps.push(reg.steps);
  }

  const account = (r: ArmResult, arming: boolean) => {
    patch.runs++;
    patch.enabled += r.enabled;
    patch.disabled += r.disabled;
    for (const b of r.batches) {
      patch.batches++;
      patch.int3Hits += b.int3Hits;
      patch.patchCycles += b.cycles;
    }
    (arming ? patch.armedAt : patch.disarmedAt).push(Math.round(port.cycles()));
    patchEvent("done");
    phaseSyncs = 0;
  };
  const dynDone = (arming: boolean) => {
    patch.runs++;
    if (arming) patch.enabled += dynamic.length;
    else patch.disabled += dynamic.length;
    (arming ? patch.armedAt : patch.disarmedAt).push(Math.round(port.cycles()));
    patchEvent("done");
    phaseSyncs = 0;
  };
  if (probes.length > 0) {
    const startBatch = () => {
      batchSites = probes.reduce((a, p) => a + p.sites.length, 0);
      phaseSyncs = 0;
      lastPhase = "";
    };
    // Each run is validated now (a disarm counts the arm before it), and runs at its time.
    const schedule = (
      steps: Generator<undefined | { wait: () => boolean; why: string }, ArmResult, void>,
      at: number,
      arming: boolean,
    ) =>
      port.runAgent(
        (function* () {
          startBatch();
          return yield* steps;
        })(),
        at,
        (r) => account(r, arming),
      );
    const markerNames = probes.filter((p) => p.sites.length > 0).map((p) => p.name);
    if (markerNames.length > 0) {
      schedule(markers.arm(markerNames), opts.armAt, true);
      if (opts.disarmAt !== undefined) schedule(markers.disarm(markerNames), opts.disarmAt, false);
    }
    if (registry) {
      port.runAgent(
        (function* () {
          startBatch();
          for (const steps of dynSteps) yield* steps;
        })(),
        opts.armAt,
        () => dynDone(true),
      );
      if (opts.disarmAt !== undefined) {
        const at = opts.disarmAt;
        port.runAgent(
          (function* () {
            startBatch();
            for (const p of dynamic) yield* registry.unregister(p.dyn!);
          })(),
          at,
          () => dynDone(false),
        );
      }
    }
  }

  const status = proc.run();
  const end = Math.round(Math.max(...machine.cpus.map((c) => c.cycles)));
  for (let i = 0; i <= ncpu; i++) writers[i]!.close(end);
  const trace = buffers.snapshot();
  const lost = Array.from({ length: ncpu }, (_, i) => trace.lostCount(i));
  const files: TraceResult["files"] = {};
  const f = opts.formats ?? { ctf: true, chrome: true, report: true };
  if (opts.outDir) {
    mkdirSync(opts.outDir, { recursive: true });
    const hist = probes
      .filter((p) => p.hist)
      .map((p) => ({
        name: `${p.name} hist(arg${(p.spec.action as { arg: number }).arg})`,
        buckets: [...p.hist!.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([k, count]) => ({ ...bucketRange(k), count })),
      }));
    const env: Record<string, string> = {
      title: opts.title ?? `xmc trace ${run.program}`,
      program: run.program,
      cpus: String(ncpu),
      patcher_stream: String(PATCHER),
      protocol: opts.protocol,
      seed: String(run.seed),
      arm_at: String(opts.armAt),
      ...(opts.disarmAt !== undefined ? { disarm_at: String(opts.disarmAt) } : {}),
      specs: opts.specs.map((s) => s.text).join(" "),
      [HISTOGRAMS_ENV]: JSON.stringify(hist),
    };
    if (f.ctf || f.report) {
      files.ctf = join(opts.outDir, "ctf");
      writeCtf(trace, files.ctf, { env });
    }
    if (f.chrome) {
      files.chrome = join(opts.outDir, "trace.json");
      writeChromeJson(trace, files.chrome, {
        processName: `xmc trace ${run.program}`,
        cpuName: (c) => (c === PATCHER ? "patching agent" : `CPU ${c}`),
      });
    }
    if (f.report && files.ctf) {
      files.report = join(opts.outDir, "report.html");
      writeFileSync(files.report, renderReport(reportFromCtf(files.ctf)));
    }
  }
  const instructions = machine.cpus.reduce((a, c) => a + c.instructions, 0);
  return {
    exit: {
      code: status.code,
      signal: status.signal,
      instructionLimit: status.instructionLimit ?? false,
      timeLimit: status.timeLimit ?? false,
      deadlock: status.deadlock ?? false,
      ...(status.report ? { report: status.report } : {}),
    },
    cpus: ncpu,
    instructions,
    cycles: end,
    probes,
    events:
      probes.reduce((a, p) => a + p.counts.reduce((x, y) => x + y, 0), 0) - lost.reduce((a, b) => a + b, 0),
    patchEvents:
      trace.eventCount -
      (probes.reduce((a, p) => a + p.counts.reduce((x, y) => x + y, 0), 0) - lost.reduce((a, b) => a + b, 0)),
    lost,
    patch,
    ...(machine.precise ? { hazards: countByClass(machine.precise.hazards) } : {}),
    trace,
    files,
  };
}
