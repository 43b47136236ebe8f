/**
 * `xmc check`: run text-patch's protocol checker on cpu-sim's precise machine (and cpu-sim's
 * litmus files), print a table of verdicts with replayable counterexamples, and replay one.
 */
import { basename, resolve } from "node:path";
import {
  checkLitmus,
  describeHazard,
  type Hazard,
  LitmusError,
  type LitmusReport,
  type LitmusRun,
  type LitmusTest,
  loadLitmus,
  RandomScheduler,
  replayLitmus,
  runLitmus,
} from "@xmc/cpu-sim";
import {
  type CheckReport,
  type CheckScenario,
  checkProtocol,
  RandomSchedule,
  replayProtocol,
  runProtocol,
  SITE_KINDS,
  type SiteKind,
  unpatchedOutcome,
} from "@xmc/text-patch";
import { intOption, parseArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { Progress } from "../progress.ts";
import { type CheckedProtocol, checkScenario, findProtocol, PROTOCOLS } from "./catalog.ts";
import { encodeChoices, parseReplay, type Replay } from "./replay-code.ts";

/** Default schedules per protocol and scenario (half bounded-exhaustive, half random). */
export const DEFAULT_SCHEDULES = 2000;

export const CHECK_HELP: string = `Usage: xmc check [--protocol NAME|all] [--scenario KIND] [--cpus N] [--schedules N] [--seed S] [--json]
       xmc check --protocol NAME --scenario KIND [--cpus N] --replay SCHEDULE
       xmc check [--schedules N] [--json] --litmus FILE...
       xmc check --litmus FILE --replay SCHEDULE

Runs a live-patching protocol (@xmc/text-patch) as the patching CPU of the simulated precise
machine (@xmc/cpu-sim, strict mode, fetch blocks of 16 bytes, 2 queued) while N CPUs loop
through a patch site, patched forward and back, under many schedules: every schedule with at
most 2 preemptions (fewest first, up to half the budget), then seeded adversarial random ones.
It prints, per protocol and scenario: schedules run, distinct outcomes (each CPU's result and
how it ended), runs with each hazard class (torn, unsynchronized, mid-instruction,
unhandled-int3, ...), wrong results, and the verdict; then one counterexample per hazard class
with the command line that replays it.

Protocols (--protocol, default all):
${PROTOCOLS.map((p) => `  ${p.name.padEnd(17)} ${p.safe ? "safe:  " : "unsafe:"} ${p.about}`).join("\n")}

Scenarios (--scenario, default: each protocol's meaningful ones):
  nop5-jmp32   NOP5 <-> JMP32          nop5-call32  NOP5 <-> CALL32
  nop2-jmp8    NOP2 <-> JMP8           jcc32        JE32 <-> JNE32 (one byte changes)
  jmp2         "jmp .+5" marker (EB 03 0F 1F 00) <-> JMP32

Options:
  --protocol NAME|all  the protocol to check (default all)
  --scenario KIND      only this scenario
  --cpus N             CPUs running the code besides the patching CPU, 1-8 (default 2)
  --schedules N        schedules per protocol and scenario (default ${DEFAULT_SCHEDULES})
  --seed S             first random seed (default 1)
  --replay SCHEDULE    run one schedule (seed:N or the letters a counterexample prints) and
                       describe every hazard with the origin of each byte
  --litmus FILE...     run cpu-sim litmus files (JSON, see packages/cpu-sim/litmus; needs as
                       and ld) instead of the protocols; with --schedules, that budget replaces
                       the file's own
  --json               one JSON object instead of the table

Exit status: 0 when every verdict is the expected one (safe protocols clean, each unsafe one
caught with its predicted hazard; litmus expectations met), 1 otherwise, 2 on bad usage.

Examples:
  xmc check
  xmc check --protocol int3-batch --cpus 4 --schedules 20000
  xmc check --protocol naive --scenario nop5-jmp32 --json
  xmc check --protocol naive --scenario nop5-jmp32 --cpus 2 --replay seed:3
  xmc check --litmus packages/cpu-sim/litmus/L04-naive-write.json
`;

const FLAGS = {
  protocol: { value: true },
  scenario: { value: true },
  cpus: { value: true },
  schedules: { value: true },
  seed: { value: true },
  replay: { value: true },
  litmus: { value: true },
  json: { value: false },
  help: { value: false },
  debug: { value: false },
};

/** One row of the table. */
export interface CheckRow {
  protocol: string;
  scenario: string;
  cpus: number;
  safe: boolean;
  schedules: number;
  exhaustive: number;
  exhaustiveComplete: boolean;
  random: number;
  /** Distinct outcomes of the completed runs. */
  outcomes: number;
  /** Runs with at least one hazard of each class. */
  runsWithHazard: Record<string, number>;
  /** Hazards of each class (every occurrence). */
  hazards: Record<string, number>;
  wrongResults: number;
  refused: number;
  incomplete: number;
  /** INT3 traps at the site during the patches (summed over the runs). */
  int3Hits: number;
  verdict: string;
  /** Whether the verdict is the expected one. */
  ok: boolean;
  seconds: number;
  counterexamples: { what: string; replay: string; command: string; description: string }[];
}

/** The `--json` summary of a protocol run. */
export interface CheckSummary {
  cpus: number;
  schedulesPerRow: number;
  seed: number;
  rows: CheckRow[];
  schedules: number;
  seconds: number;
  schedulesPerSecond: number;
  ok: boolean;
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

/** A scenario that also collects the distinct outcomes of its completed runs. */
function collecting(sc: CheckScenario, outcomes: Set<string>): CheckScenario {
  return {
    ...sc,
    boot() {
      const inst = sc.boot();
      return {
        ...inst,
        run(agent, schedule, maxSteps) {
          const r = inst.run(agent, schedule, maxSteps);
          if (r.completed) outcomes.add(r.outcome);
          return r;
        },
      };
    },
  };
}

/** Hazard classes from the worst (always a bug) to the mildest (unpredictable on hardware). */
const SEVERITY = [
  "torn",
  "unhandled-int3",
  "freed-text",
  "mid-instruction",
  "branch-into-patch",
  "wrong results",
  "unsynchronized",
];

function verdictOf(p: CheckedProtocol, kind: SiteKind, r: CheckReport): { verdict: string; ok: boolean } {
  const classes = Object.keys(r.runsWithHazard);
  if (p.safe) {
    const refusalOk = p.mayRefuse === true; // early poke refuses while other CPUs run: that is its safety
    const clean = classes.length === 0 && r.wrongResults === 0 && (refusalOk || r.refused === 0);
    const notes = r.refused > 0 && refusalOk ? ` (refused in ${r.refused} runs)` : "";
    return clean
      ? { verdict: `clean${notes}`, ok: true }
      : {
          verdict: `UNSAFE: ${[...classes, ...(r.wrongResults ? ["wrong results"] : []), ...(r.refused ? ["refused"] : [])].join(", ")}`,
          ok: false,
        };
  }
  const found = [...classes, ...(r.wrongResults ? ["wrong results"] : [])];
  const judged = p.mustFindOn === kind && p.mustFind !== undefined;
  if (judged && (r.runsWithHazard[p.mustFind!] ?? 0) === 0)
    return {
      verdict: `NOT CAUGHT: ${p.mustFind} expected, found ${found.join(", ") || "nothing"}`,
      ok: false,
    };
  if (found.length === 0) return { verdict: "nothing found", ok: true };
  const worst = SEVERITY.find((c) => found.includes(c)) ?? found[0];
  return { verdict: `caught: ${judged ? p.mustFind : worst}`, ok: true };
}

function fmtN(n: number): string {
  return n.toLocaleString("en-US");
}

function hazardCell(r: Record<string, number>): string {
  const e = Object.entries(r);
  return e.length === 0 ? "-" : e.map(([k, v]) => `${k} ${fmtN(v)}`).join(", ");
}

/** A table with a header, columns padded to their widest cell (numbers right-aligned). */
function table(head: string[], rows: string[][], right: boolean[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
      .join("  ")
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}

function firstLine(s: string): string {
  const l = s.split("\n")[0]!;
  return l.length > 160 ? `${l.slice(0, 157)}...` : l;
}

function replayArg(seed: number | undefined, choices: readonly number[]): string {
  if (seed !== undefined) return `seed:${seed}`;
  try {
    return encodeChoices(choices);
  } catch {
    return "-"; // SAFETY: unreachable with at most 8 CPUs (17 actors); '-' replays the default schedule
  }
}

function runProtocols(flags: Map<string, string | true>, write: (s: string) => void): number {
  const pname = (flags.get("protocol") as string | undefined) ?? "all";
  const one = findProtocol(pname);
  if (pname !== "all" && one === undefined)
    throw new UsageError(
      `xmc check: unknown protocol "${pname}" (one of: all, ${PROTOCOLS.map((p) => p.name).join(", ")})`,
    );
  const protocols: readonly CheckedProtocol[] = one ? [one] : PROTOCOLS;
  const scenario = flags.get("scenario") as string | undefined;
  if (scenario !== undefined && !SITE_KINDS.includes(scenario as SiteKind))
    throw new UsageError(`xmc check: unknown scenario "${scenario}" (one of: ${SITE_KINDS.join(", ")})`);
  const cpus = intOption(flags.get("cpus"), "--cpus", 1, 8, 2, "check");
  const seed = intOption(flags.get("seed"), "--seed", 0, 0xffffffff, 1, "check");
  const schedules = intOption(
    flags.get("schedules"),
    "--schedules",
    1,
    100_000_000,
    DEFAULT_SCHEDULES,
    "check",
  );
  const replay = flags.get("replay");
  const json = flags.has("json");

  if (typeof replay === "string") {
    const p = protocols[0]!;
    if (one === undefined) throw new UsageError("xmc check: --replay needs one --protocol (not all)");
    const kind =
      (scenario as SiteKind | undefined) ?? (p.scenarios.length === 1 ? p.scenarios[0]! : undefined);
    if (kind === undefined) throw new UsageError("xmc check: --replay needs --scenario");
    return replayOne(p, kind, cpus, parseReplay(replay), json, write);
  }

  const jobs = protocols.flatMap((p) =>
    (scenario !== undefined ? [scenario as SiteKind] : p.scenarios).map((kind) => ({ p, kind })),
  );
  const exhaustive = Math.floor(schedules / 2);
  const random = schedules - exhaustive;
  const progress = new Progress("xmc check", jobs.length, json);
  const t0 = performance.now();
  const rows: CheckRow[] = [];
  for (const { p, kind } of jobs) {
    progress.update(rows.length, `${p.name} on ${kind}`);
    const outcomes = new Set<string>();
    const sc = collecting(checkScenario(kind, cpus, p.ipiInTrap ?? false), outcomes);
    const t = performance.now();
    const r = checkProtocol(p.spec, sc, { random, exhaustive, preemptions: 2, seed });
    const seconds = (performance.now() - t) / 1000;
    const v = verdictOf(p, kind, r);
    rows.push({
      protocol: p.name,
      scenario: kind,
      cpus,
      safe: p.safe,
      schedules: r.runs,
      exhaustive: r.exhaustiveRuns,
      exhaustiveComplete: r.exhaustiveComplete,
      random: r.randomRuns,
      outcomes: outcomes.size,
      runsWithHazard: r.runsWithHazard,
      hazards: r.hazards,
      wrongResults: r.wrongResults,
      refused: r.refused,
      incomplete: r.incomplete,
      int3Hits: r.int3Hits,
      verdict: v.verdict,
      ok: v.ok,
      seconds,
      counterexamples: r.counterexamples.map((cx) => {
        const code = replayArg(cx.seed, cx.choices);
        const command = ["xmc", "check", "--protocol", p.name, "--scenario", kind, "--cpus", String(cpus)]
          .concat(["--replay", code])
          .map(quote)
          .join(" ");
        return { what: cx.what, replay: code, command, description: cx.description };
      }),
    });
  }
  progress.done();
  const seconds = (performance.now() - t0) / 1000;
  const total = rows.reduce((s, r) => s + r.schedules, 0);
  const ok = rows.every((r) => r.ok);
  const summary: CheckSummary = {
    cpus,
    schedulesPerRow: schedules,
    seed,
    rows,
    schedules: total,
    seconds,
    schedulesPerSecond: total / seconds,
    ok,
  };
  if (json) {
    write(`${JSON.stringify(summary)}\n`);
    return ok ? 0 : 1;
  }
  write(
    table(
      ["protocol", "scenario", "cpus", "schedules", "outcomes", "runs with hazard", "wrong", "verdict"],
      rows.map((r) => [
        r.protocol,
        r.scenario,
        String(r.cpus),
        fmtN(r.schedules),
        String(r.outcomes),
        hazardCell(r.runsWithHazard),
        fmtN(r.wrongResults),
        r.verdict,
      ]),
      [false, false, true, true, true, false, true, false],
    ),
  );
  const cxs = rows.flatMap((r) => r.counterexamples.map((cx) => ({ r, cx })));
  if (cxs.length > 0) {
    write("\ncounterexamples (the first run with each hazard class):\n");
    for (const { r, cx } of cxs) {
      write(`  ${r.protocol} on ${r.scenario}, ${cx.what}: ${firstLine(cx.description)}\n`);
      write(`    ${cx.command}\n`);
    }
  }
  write(
    `\n${fmtN(total)} schedules in ${seconds.toFixed(1)} s (${fmtN(Math.round(total / seconds))} schedules/s); ${ok ? "every verdict as expected" : `${rows.filter((r) => !r.ok).length} unexpected verdict(s)`}\n`,
  );
  return ok ? 0 : 1;
}

function replayOne(
  p: CheckedProtocol,
  kind: SiteKind,
  cpus: number,
  rp: Replay,
  json: boolean,
  write: (s: string) => void,
): number {
  const sc = checkScenario(kind, cpus, p.ipiInTrap ?? false);
  const expected = unpatchedOutcome(sc);
  const r =
    "seed" in rp
      ? runProtocol(p.spec, sc, new RandomSchedule(rp.seed))
      : replayProtocol(p.spec, sc, rp.choices);
  const hazards = r.hazards.map((h) => ({ ...h, description: describeHazard(h as Hazard) }));
  if (json) {
    write(
      `${JSON.stringify({
        protocol: p.name,
        scenario: kind,
        cpus,
        replay: "seed" in rp ? `seed:${rp.seed}` : encodeChoices(rp.choices),
        steps: r.choices.length,
        completed: r.completed,
        outcome: r.outcome,
        expected,
        refused: r.refused?.message,
        hazards: hazards.map((h) => ({
          cls: h.cls,
          cpu: h.cpu,
          rip: h.rip,
          step: h.step,
          description: h.description,
        })),
      })}\n`,
    );
    return 0;
  }
  write(
    `${p.name} on ${kind}, ${cpus} CPUs: ${r.choices.length} steps, ${r.completed ? "completed" : "cut at the step bound"}\n`,
  );
  write(
    `outcome:  ${r.outcome}${r.completed && r.outcome !== expected ? "   (WRONG)" : ""}\nexpected: ${expected}\n`,
  );
  if (r.refused) write(`refused: ${r.refused.message}\n`);
  write(hazards.length === 0 ? "no hazard\n" : `${hazards.length} hazard(s):\n`);
  for (const h of hazards) write(`${h.description}\n`);
  return 0;
}

function litmusRow(file: string, t: LitmusTest, r: LitmusReport) {
  const runsWithHazard = Object.fromEntries(Object.entries(r.runsWithHazard).filter(([, v]) => v > 0));
  return {
    id: t.id,
    title: t.title,
    file,
    schedules: r.runs,
    exhaustive: r.exhaustiveRuns,
    exhaustiveComplete: r.exhaustiveComplete,
    random: r.randomRuns,
    outcomes: r.outcomes.size,
    runsWithHazard,
    incomplete: r.incomplete,
    ok: r.failures.length === 0,
    failures: r.failures,
    counterexamples: r.counterexamples.map((cx) => {
      const code = replayArg(cx.seed, cx.choices);
      return {
        what: cx.what,
        outcome: cx.outcome,
        replay: code,
        command: ["xmc", "check", "--litmus", file, "--replay", code].map(quote).join(" "),
        description: cx.hazard ? describeHazard(cx.hazard) : `outcome ${cx.outcome}`,
      };
    }),
  };
}

function load(file: string): LitmusTest {
  try {
    return loadLitmus(resolve(file));
  } catch (e) {
    if (e instanceof LitmusError) throw new UsageError(`xmc check: ${e.message}`, 1);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR")
      throw new UsageError(`xmc check: cannot read ${file}: ${code}`, 1);
    if (code === "ENOENT" || (e as Error).message?.includes("spawnSync as"))
      throw new UsageError("xmc check: --litmus needs GNU as and ld (binutils) to assemble the test", 1);
    throw e;
  }
}

function runLitmusFiles(
  files: string[],
  flags: Map<string, string | true>,
  write: (s: string) => void,
): number {
  const json = flags.has("json");
  const replay = flags.get("replay");
  if (typeof replay === "string") {
    if (files.length !== 1) throw new UsageError("xmc check: --replay with --litmus takes one FILE");
    const t = load(files[0]!);
    const rp = parseReplay(replay);
    const r: LitmusRun =
      "seed" in rp ? runLitmus(t, new RandomScheduler(rp.seed)) : replayLitmus(t, rp.choices);
    const hazards = r.hazards.map((h) => describeHazard(h));
    if (json)
      write(
        `${JSON.stringify({ id: t.id, file: files[0], steps: r.choices.length, completed: r.completed, outcome: r.key, hazards })}\n`,
      );
    else {
      write(
        `${t.id} ${t.title}: ${r.choices.length} steps, ${r.completed ? "completed" : "cut at the step bound"}\noutcome: ${r.key}\n`,
      );
      write(hazards.length === 0 ? "no hazard\n" : `${hazards.length} hazard(s):\n${hazards.join("\n")}\n`);
    }
    return 0;
  }
  const tests = files.map((f) => ({ f, t: load(f) }));
  const budget = flags.has("schedules")
    ? intOption(flags.get("schedules"), "--schedules", 1, 100_000_000, DEFAULT_SCHEDULES, "check")
    : undefined;
  const seed = intOption(flags.get("seed"), "--seed", 0, 0xffffffff, 1, "check");
  const progress = new Progress("xmc check", tests.length, json);
  const t0 = performance.now();
  const rows: ReturnType<typeof litmusRow>[] = [];
  for (const { f, t } of tests) {
    progress.update(rows.length, t.id);
    const r = checkLitmus(t, {
      seed,
      ...(budget !== undefined
        ? { exhaustive: Math.floor(budget / 2), random: budget - Math.floor(budget / 2) }
        : {}),
    });
    rows.push(litmusRow(f, t, r));
  }
  progress.done();
  const seconds = (performance.now() - t0) / 1000;
  const total = rows.reduce((s, r) => s + r.schedules, 0);
  const ok = rows.every((r) => r.ok);
  if (json) {
    write(
      `${JSON.stringify({ litmus: rows, schedules: total, seconds, schedulesPerSecond: total / seconds, ok })}\n`,
    );
    return ok ? 0 : 1;
  }
  write(
    table(
      ["litmus", "schedules", "outcomes", "runs with hazard", "verdict"],
      rows.map((r) => [
        `${r.id} ${basename(r.file, ".json")}`,
        fmtN(r.schedules),
        String(r.outcomes),
        hazardCell(r.runsWithHazard),
        r.ok ? "as expected" : `FAIL: ${r.failures.join("; ")}`,
      ]),
      [false, true, true, false, false],
    ),
  );
  const cxs = rows.flatMap((r) => r.counterexamples.map((cx) => ({ r, cx })));
  if (cxs.length > 0) {
    write("\ncounterexamples:\n");
    for (const { r, cx } of cxs) {
      write(
        `  ${r.id} ${basename(r.file, ".json")}, ${cx.what}: ${firstLine(cx.description)}\n    ${cx.command}\n`,
      );
    }
  }
  write(
    `\n${fmtN(total)} schedules in ${seconds.toFixed(1)} s (${fmtN(Math.round(total / seconds))} schedules/s)\n`,
  );
  return ok ? 0 : 1;
}

/** `xmc check ...`; returns the exit status. */
export function checkCommand(argv: string[], write: (s: string) => void): number {
  const { flags, positional } = parseArgs(argv, FLAGS, "check");
  if (flags.has("help")) {
    write(CHECK_HELP);
    return 0;
  }
  const litmus = flags.get("litmus");
  if (typeof litmus === "string") {
    if (flags.has("protocol") || flags.has("scenario") || flags.has("cpus"))
      throw new UsageError(
        "xmc check: --litmus files set their own CPUs and protocol (no --protocol, --scenario, --cpus)",
      );
    const late = positional.find((a) => a.startsWith("--"));
    if (late) throw new UsageError(`xmc check: put ${late} before --litmus FILE... (the rest are files)`);
    return runLitmusFiles([litmus, ...positional], flags, write);
  }
  if (positional.length > 0)
    throw new UsageError(`xmc check: unexpected argument "${positional[0]}" (see xmc check --help)`);
  return runProtocols(flags, write);
}
