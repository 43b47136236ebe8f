/**
 * Protocol checking: run a protocol against a scenario (N CPUs executing through the sites
 * while the patching CPU patches them, back and forth) under many schedules, and report the
 * hazards the machine found (XMC-MODEL.md "Hazards") with replayable counterexamples, and
 * whether the program's own results stayed what they are without patching.
 *
 * The machine is behind the scenario (text-patch imports no simulator): a scenario boots a
 * fresh machine per run and runs it with a {@link ScheduleChooser} that picks the next actor
 * at every step. The choosers are here: seeded adversarial random schedules, bounded
 * exhaustive schedules (every schedule with at most k preemptions, as in CHESS's iterative
 * context bounding), and scripted ones that replay a recorded run.
 * @module
 */
import { PatchError } from "./errors.ts";
import { type PatchOptions, TextPatcher } from "./patcher.ts";
import type { PatchSteps, TextPort } from "./port.ts";
import type { PatchStats, ProtocolName } from "./protocols.ts";
import type { PatchSite } from "./validate.ts";

/** An actor the machine can step: a CPU, the patching CPU (`agent`), or a CPU's prefetch. */
export interface ActorRef {
  readonly kind: string;
  readonly id?: number;
}

/** Picks the next actor among the runnable ones (returns an index into `runnable`). */
export interface ScheduleChooser {
  choose(runnable: readonly ActorRef[]): number;
}

/** A hazard as a backend reports it (cpu-sim's `Hazard` has this shape). */
export interface HazardReport {
  /** Hazard class (`torn`, `unsynchronized`, `mid-instruction`, `branch-into-patch`, `freed-text`, `unhandled-int3`). */
  readonly cls: string;
  readonly cpu: number;
  readonly rip: number;
  readonly step: number;
  readonly detail: string;
}

/** What one run of a scenario produced. */
export interface ScenarioRun {
  /** False when the run hit the step bound or deadlocked. */
  readonly completed: boolean;
  readonly hazards: readonly HazardReport[];
  /** The program's results as one line (e.g. per CPU: a register and how it ended). */
  readonly outcome: string;
  /** The choices made (replay them with a {@link ScriptedSchedule}). */
  readonly choices: readonly number[];
}

/** One freshly booted machine of a scenario. */
export interface ScenarioInstance {
  /** The port through which the protocol patches this machine. */
  readonly port: TextPort;
  /** Run to the end (or `maxSteps`) with `agent` as the patching CPU's program. */
  run(agent: PatchSteps<unknown> | undefined, schedule: ScheduleChooser, maxSteps: number): ScenarioRun;
  /** A readable description of a hazard (with byte provenance), when the backend has one. */
  describe?(h: HazardReport): string;
}

/** A checking scenario: code that CPUs run, and the batches that patch it. */
export interface CheckScenario {
  readonly name: string;
  /** CPUs executing the code. */
  readonly cpus: number;
  /** Batches applied in order by one patching CPU (e.g. forward, then back). */
  readonly batches: readonly (readonly PatchSite[])[];
  /** Boot a fresh machine. */
  boot(): ScenarioInstance;
  /** Step bound per run (default 100,000). */
  readonly maxSteps?: number;
}

/** Options of {@link checkProtocol}. */
export interface CheckOptions {
  /** Seeded adversarial random schedules (default 10,000). */
  random?: number;
  /** First seed (default 1); run i uses seed + i. */
  seed?: number;
  /** Preemption bound of the exhaustive part (default 2). */
  preemptions?: number;
  /** Most runs of the exhaustive part (default 2,000; 0 skips it). */
  exhaustive?: number;
  /** Stop after this many runs with a hazard or a wrong result (default: never). */
  stopAfterFailures?: number;
}

/** A counterexample: the first run that showed a hazard class or a wrong result. */
export interface Counterexample {
  /** The hazard class, or `wrong result`. */
  what: string;
  /** The random seed, when the run was random. */
  seed: number | undefined;
  /** The run's choices: replay with {@link replayProtocol}. */
  choices: number[];
  hazard: HazardReport | undefined;
  outcome: string;
  /** Readable description (the backend's, with byte provenance, when it has one). */
  description: string;
}

/** What {@link checkProtocol} found. */
export interface CheckReport {
  protocol: string;
  scenario: string;
  cpus: number;
  runs: number;
  exhaustiveRuns: number;
  /** True when every schedule within the preemption bound was run. */
  exhaustiveComplete: boolean;
  randomRuns: number;
  /** Runs cut at the step bound (their hazards count; their outcomes are not judged). */
  incomplete: number;
  /** Hazards per class (every occurrence). */
  hazards: Record<string, number>;
  /** Runs with at least one hazard of the class. */
  runsWithHazard: Record<string, number>;
  /** The outcome without patching, and completed runs whose outcome differed from it. */
  expected: string;
  wrongResults: number;
  /** Runs in which validation refused a batch (a protocol that left unexpected bytes). */
  refused: number;
  /** INT3 traps at the sites during the patches, summed over the runs, and runs that had any. */
  int3Hits: number;
  runsWithInt3Hits: number;
  counterexamples: Counterexample[];
}

/** A protocol to check: a name, or options with a `protocol` (unsafe ones are run as asked). */
export type ProtocolSpec = ProtocolName | PatchOptions;

function specOptions(p: ProtocolSpec): PatchOptions {
  const o: PatchOptions = typeof p === "string" ? { protocol: p } : { ...p };
  o.unsafe = true; // the checker runs what it is asked to judge
  return o;
}

/** A short name for a protocol spec (`int3-batch`, `int3-batch -sync2`, `int3-batch -refcount`). */
export function protocolLabel(p: ProtocolSpec): string {
  if (typeof p === "string") return p;
  let s = p.protocol ?? "int3-batch";
  if (p.omitSync) s += ` -sync${p.omitSync}`;
  if (p.refcount === false) s += " -refcount";
  if (p.width) s += ` width=${p.width}`;
  return s;
}

// ---- schedules -------------------------------------------------------------------------------

/** xorshift32. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.s = s;
    return s;
  }
  /** Uniform in [0, 1). */
  unit(): number {
    return this.next() / 4294967296;
  }
}

/** A small integer per actor: 0 the agent, 1 + id a CPU, 129 + id a prefetch, 257 anything else. */
function slotOf(a: ActorRef): number {
  const id = a.id ?? 0;
  if (a.kind === "cpu") return 1 + (id & 127);
  if (a.kind === "prefetch") return 129 + (id & 127);
  return a.kind === "agent" ? 0 : 257;
}

/**
 * Adversarial random schedules: each run draws a weight per actor (spread over two orders of
 * magnitude, so some runs starve the patcher, some a CPU, some prefetch eagerly and some
 * never), picks actors in proportion at every step, and now and then lets one actor run a
 * burst of steps. Preemption at every instruction and every legal fetch timing are reachable.
 */
export class RandomSchedule implements ScheduleChooser {
  private readonly rng: Rng;
  private readonly weights = new Float64Array(258).fill(-1);
  private burstLeft = 0;
  private burstSlot = -1;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  private weight(slot: number): number {
    let w = this.weights[slot]!;
    if (w < 0) {
      w = 2 ** (this.rng.unit() * 7);
      this.weights[slot] = w;
    }
    return w;
  }
  choose(runnable: readonly ActorRef[]): number {
    if (this.burstLeft > 0) {
      this.burstLeft--;
      for (let i = 0; i < runnable.length; i++) if (slotOf(runnable[i]!) === this.burstSlot) return i;
    }
    let total = 0;
    for (const a of runnable) total += this.weight(slotOf(a));
    let x = this.rng.unit() * total;
    let i = 0;
    for (; i < runnable.length - 1; i++) {
      x -= this.weight(slotOf(runnable[i]!));
      if (x < 0) break;
    }
    if (this.rng.next() % 16 === 0) {
      this.burstLeft = 1 + (this.rng.next() % 32);
      this.burstSlot = slotOf(runnable[i]!);
    }
    return i;
  }
}

/** Replays recorded choices; past their end, always the first actor. */
export class ScriptedSchedule implements ScheduleChooser {
  private i = 0;
  constructor(private readonly choices: readonly number[]) {}
  choose(runnable: readonly ActorRef[]): number {
    const c = this.choices[this.i++] ?? 0;
    return c < runnable.length ? c : 0;
  }
}

/**
 * Keeps the current actor running (prefetches are never the default) and deviates at the
 * listed decision points: one schedule of a preemption-bounded exploration.
 */
export class PreemptionSchedule implements ScheduleChooser {
  /** Number of runnable actors at each decision. */
  readonly widths: number[] = [];
  /** The default choice at each decision. */
  readonly defaults: number[] = [];
  private i = 0;
  private current = -1;
  private readonly devs: Map<number, number>;
  constructor(devs: readonly (readonly [number, number])[]) {
    this.devs = new Map(devs);
  }
  choose(runnable: readonly ActorRef[]): number {
    let def = -1;
    for (let k = 0; k < runnable.length; k++) if (slotOf(runnable[k]!) === this.current) def = k;
    if (def < 0 || runnable[def]!.kind === "prefetch") {
      def = 0;
      for (let k = 0; k < runnable.length; k++)
        if (runnable[k]!.kind !== "prefetch") {
          def = k;
          break;
        }
    }
    this.widths.push(runnable.length);
    this.defaults.push(def);
    const d = this.devs.get(this.i++);
    const c = d !== undefined && d < runnable.length ? d : def;
    if (runnable[c]!.kind !== "prefetch") this.current = slotOf(runnable[c]!);
    return c;
  }
}

/**
 * Run every schedule with at most `bound` preemptions (fewest first), up to `maxRuns` runs.
 * `run` boots a fresh machine and runs it with the given schedule.
 */
export function explorePreemptions(
  run: (s: PreemptionSchedule) => void,
  bound: number,
  maxRuns: number,
): { runs: number; complete: boolean } {
  let runs = 0;
  // Schedules of the next level beyond what the budget can still run are not kept: a long
  // schedule (8 CPUs through 64 sites) has tens of thousands of choice points, and keeping every
  // child of every run exhausted the heap (the order of the runs is the same either way).
  let dropped = false;
  let level: (readonly [number, number])[][] = [[]];
  for (let k = 0; k <= bound && level.length > 0; k++) {
    const next: (readonly [number, number])[][] = [];
    for (const devs of level) {
      if (runs >= maxRuns) return { runs, complete: false };
      const s = new PreemptionSchedule(devs);
      run(s);
      runs++;
      if (k === bound) continue;
      const from = devs.length > 0 ? devs[devs.length - 1]![0] + 1 : 0;
      for (let d = from; d < s.widths.length; d++)
        for (let alt = 0; alt < s.widths[d]!; alt++)
          if (alt !== s.defaults[d]) {
            if (next.length >= maxRuns - runs) dropped = true;
            else next.push([...devs, [d, alt] as const]);
          }
    }
    level = next;
  }
  return { runs, complete: !dropped };
}

// ---- the checker -----------------------------------------------------------------------------

function agentFor(
  port: TextPort,
  batches: CheckScenario["batches"],
  o: PatchOptions,
  refused: { error: PatchError | undefined },
  stats: PatchStats[],
): PatchSteps<void> {
  return (function* (): PatchSteps<void> {
    const patcher = new TextPatcher(port);
    try {
      for (const b of batches) {
        let steps: PatchSteps<PatchStats>;
        try {
          steps = patcher.patch(b, o);
        } catch (e) {
          if (e instanceof PatchError) {
            refused.error = e;
            return;
          }
          throw e;
        }
        const st = yield* steps;
        if (st && typeof st === "object") stats.push(st as PatchStats);
      }
    } finally {
      patcher.dispose();
    }
  })();
}

/** One run of a protocol on a scenario. */
export interface ProtocolRun extends ScenarioRun {
  /** The refusal, when validation refused a batch (after an earlier batch left unexpected bytes). */
  refused: PatchError | undefined;
  /** The machine it ran on. */
  instance: ScenarioInstance;
  /** Statistics of each batch that finished. */
  stats: PatchStats[];
}

/** Run `protocol` on `scenario` once with `schedule`. */
export function runProtocol(
  protocol: ProtocolSpec,
  scenario: CheckScenario,
  schedule: ScheduleChooser,
): ProtocolRun {
  const inst = scenario.boot();
  const refused = { error: undefined as PatchError | undefined };
  const stats: PatchStats[] = [];
  const r = inst.run(
    agentFor(inst.port, scenario.batches, specOptions(protocol), refused, stats),
    schedule,
    scenario.maxSteps ?? 100_000,
  );
  return { ...r, refused: refused.error, instance: inst, stats };
}

/** Replay a recorded run (e.g. a counterexample's choices). */
export function replayProtocol(
  protocol: ProtocolSpec,
  scenario: CheckScenario,
  choices: readonly number[],
): ProtocolRun {
  return runProtocol(protocol, scenario, new ScriptedSchedule(choices));
}

/** The scenario's outcome without any patching (one run, default schedule). */
export function unpatchedOutcome(scenario: CheckScenario): string {
  const inst = scenario.boot();
  return inst.run(undefined, new ScriptedSchedule([]), scenario.maxSteps ?? 100_000).outcome;
}

/**
 * Check `protocol` against `scenario`: bounded exhaustive schedules, then seeded random ones.
 * Returns hazard counts per class, wrong results (outcomes that differ from the unpatched
 * run), and one replayable counterexample per hazard class and for the first wrong result.
 */
export function checkProtocol(
  protocol: ProtocolSpec,
  scenario: CheckScenario,
  options: CheckOptions = {},
): CheckReport {
  const expected = unpatchedOutcome(scenario);
  const report: CheckReport = {
    protocol: protocolLabel(protocol),
    scenario: scenario.name,
    cpus: scenario.cpus,
    runs: 0,
    exhaustiveRuns: 0,
    exhaustiveComplete: false,
    randomRuns: 0,
    incomplete: 0,
    hazards: {},
    runsWithHazard: {},
    expected,
    wrongResults: 0,
    refused: 0,
    int3Hits: 0,
    runsWithInt3Hits: 0,
    counterexamples: [],
  };
  const seen = new Set<string>();
  let failures = 0;
  const stopAfter = options.stopAfterFailures ?? Number.POSITIVE_INFINITY;
  const record = (schedule: ScheduleChooser, seed: number | undefined): void => {
    const r = runProtocol(protocol, scenario, schedule);
    report.runs++;
    let hits = 0;
    for (const st of r.stats) hits += st.int3Hits;
    report.int3Hits += hits;
    if (hits > 0) report.runsWithInt3Hits++;
    const classes = new Set<string>();
    for (const h of r.hazards) {
      report.hazards[h.cls] = (report.hazards[h.cls] ?? 0) + 1;
      if (!classes.has(h.cls)) report.runsWithHazard[h.cls] = (report.runsWithHazard[h.cls] ?? 0) + 1;
      classes.add(h.cls);
      if (!seen.has(h.cls)) {
        seen.add(h.cls);
        report.counterexamples.push({
          what: h.cls,
          seed,
          choices: r.choices.slice(),
          hazard: h,
          outcome: r.outcome,
          description:
            r.instance.describe?.(h) ?? `${h.cls} on cpu${h.cpu} at 0x${h.rip.toString(16)}: ${h.detail}`,
        });
      }
    }
    let bad = classes.size > 0;
    if (r.refused) {
      report.refused++;
      bad = true;
    }
    if (!r.completed) report.incomplete++;
    else if (r.outcome !== expected) {
      report.wrongResults++;
      bad = true;
      if (!seen.has("wrong result")) {
        seen.add("wrong result");
        report.counterexamples.push({
          what: "wrong result",
          seed,
          choices: r.choices.slice(),
          hazard: undefined,
          outcome: r.outcome,
          description: `expected ${expected}, got ${r.outcome}`,
        });
      }
    }
    if (bad) failures++;
  };
  const maxEx = options.exhaustive ?? 2000;
  if (maxEx > 0) {
    const ex = explorePreemptions(
      (s) => {
        if (failures < stopAfter) record(s, undefined);
      },
      options.preemptions ?? 2,
      maxEx,
    );
    report.exhaustiveRuns = ex.runs;
    report.exhaustiveComplete = ex.complete;
  }
  const n = options.random ?? 10_000;
  const base = options.seed ?? 1;
  for (let i = 0; i < n && failures < stopAfter; i++) {
    record(new RandomSchedule(base + i), base + i);
    report.randomRuns++;
  }
  return report;
}
