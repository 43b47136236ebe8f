/**
 * `xmc run`: run a static x86-64 Linux program on the simulated machine. The guest's stdout
 * and stderr are the host's; xmc exits with the guest's exit status (128 + signal when a
 * signal killed it), {@link EXIT_INSN_LIMIT} when `--max-insns` stopped it and
 * {@link EXIT_DEADLOCK} when every guest thread blocked forever.
 */
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { countByClass, type EventLog, LinuxProcess, LoadError, Machine, NOMINAL_HZ } from "@xmc/cpu-sim";
import { intOption as intOpt, parseArgs, wantsDebug } from "./args.ts";
import { UsageError } from "./errors.ts";
import { Progress } from "./progress.ts";

/** Exit status when the instruction limit stops the run (as timeout(1) uses). */
export const EXIT_INSN_LIMIT = 124;
/** Default host time limit of a run, seconds (`--time-limit`): untrusted guests that spin are bounded. */
export const DEFAULT_TIME_LIMIT_S = 3600;
/** Exit status when every guest thread is blocked forever. */
export const EXIT_DEADLOCK = 125;
/** Exit status when the program cannot be loaded (not a static x86-64 executable). */
export const EXIT_NOT_RUNNABLE = 126;

export const RUN_HELP: string = `Usage: xmc run [options] PROGRAM [ARGS...]

Runs a static x86-64 Linux program (musl or glibc, threads included) on the simulated
machine: N vCPUs, a deterministic scheduler, modeled cycles (profile "default"; guest clocks
run at a nominal ${NOMINAL_HZ / 1e9} GHz from 2024-01-01T00:00:00Z). The program's stdin, stdout and stderr
are xmc's; the host filesystem is invisible unless --fs maps a directory as the guest's /.

Options:
  --cpus N          number of vCPUs, 1-64 (default 1)
  --seed S          seed for scheduling choices, getrandom and AT_RANDOM (default 1);
                    the same seed gives the same run: output, cycles and event order
  --fs DIR          map host directory DIR as the guest's / (read-only); paths cannot leave it
  --fs-rw           allow the guest to create and write files under --fs DIR
  --max-insns N     stop after N instructions in total (exit status ${EXIT_INSN_LIMIT})
  --time-limit S    stop after S seconds of host time (default 3600; 0 for none; exit status ${EXIT_INSN_LIMIT})
  --quantum N       mean instructions per scheduling quantum (default 10000)
  --stats           print instructions and modeled cycles per CPU, host time and MIPS to stderr
                    (with --precise also the hazards by class, zero lines included)
  --stats-json FILE write the same statistics as JSON to FILE
  --precise         precise mode (XMC-MODEL.md): fetch through per-CPU fetch units and check
                    every instruction for torn/unsynchronized/... hazards (about 10x slower)
  --fetch-block B   precise mode's fetch block size in bytes, a power of two 1-64 (default 16)
  --prefetch Q      precise mode's prefetch queue in blocks, 0-16 (default 2)
  --strict          precise mode: also report unsynchronized cross-modifying code

Exit status: the program's; 128+N when signal N killed it (with a report on stderr: signal,
address, RIP, instruction); ${EXIT_INSN_LIMIT} at --max-insns; ${EXIT_DEADLOCK} when all threads block forever;
${EXIT_NOT_RUNNABLE} when the program cannot be run (e.g. dynamically linked).

Examples:
  xmc run ./hello
  xmc run --cpus 4 --seed 7 --stats ./threads
  xmc run --fs ./data ./reader /input.txt
  xmc run --max-insns 1000000 ./spin
  xmc run --precise --strict --stats --cpus 2 ./jit
`;

/** Statistics of a run (`--stats`, `--stats-json`). */
export interface RunStats {
  profile: string;
  cpus: { cpu: number; instructions: number; cycles: number; idleCycles: number }[];
  instructions: number;
  /** The largest per-CPU modeled time (the run's span), cycles. */
  cycles: number;
  hostNs: number;
  mips: number;
  contextSwitches: number;
  events: number;
  eventHash: string;
  exit: { code: number; signal: number; instructionLimit: boolean; deadlock: boolean };
  /** Precise mode: hazards found, by class (every class present). */
  hazards?: Record<string, number>;
}

/** The options of `xmc run` (and the run options of `xmc trace`). */
export const RUN_FLAGS: Record<string, { value: boolean }> = {
  cpus: { value: true },
  seed: { value: true },
  fs: { value: true },
  "fs-rw": { value: false },
  "max-insns": { value: true },
  "time-limit": { value: true },
  quantum: { value: true },
  stats: { value: false },
  "stats-json": { value: true },
  precise: { value: false },
  "fetch-block": { value: true },
  prefetch: { value: true },
  strict: { value: false },
  help: { value: false },
  debug: { value: false },
};

/** Does `xmc run ARGV` ask for --debug (among xmc's options, before PROGRAM)? */
export function runWantsDebug(argv: string[]): boolean {
  return wantsDebug(argv, RUN_FLAGS, "run");
}

/** A program ready to run: the machine, the process and what the options said. */
export interface PreparedRun {
  machine: Machine;
  proc: LinuxProcess;
  program: string;
  bytes: Uint8Array;
  cpus: number;
  seed: number;
  precise: boolean;
}

/**
 * The run options shared by `xmc run` and `xmc trace` (see {@link RUN_FLAGS}): checks them and
 * builds the machine and the process. Returns undefined (after printing why) when the program
 * cannot be loaded; throws UsageError for bad options.
 */
export function prepareRun(
  flags: Map<string, string | true>,
  positional: string[],
  command: string,
  io: {
    stdout?: (d: Uint8Array) => void;
    stderr?: (d: Uint8Array) => void;
    onProgress?: (instructions: number) => void;
  } = {},
): PreparedRun | undefined {
  const opt = (name: string, min: number, max: number, def: number) =>
    intOpt(flags.get(name), `--${name}`, min, max, def, command);
  if (positional.length === 0)
    throw new UsageError(`xmc ${command}: give the PROGRAM to run (see xmc ${command} --help)`);
  const cpus = opt("cpus", 1, 64, 1);
  const seed = opt("seed", 0, 0xffffffff, 1);
  const maxInsns = opt("max-insns", 1, Number.MAX_SAFE_INTEGER, 0);
  const quantum = opt("quantum", 2, 1e9, 10_000);
  const timeLimit = opt("time-limit", 0, 1e7, DEFAULT_TIME_LIMIT_S);
  const precise = flags.has("precise");
  if (!precise && (flags.has("fetch-block") || flags.has("prefetch") || flags.has("strict")))
    throw new UsageError(`xmc ${command}: --fetch-block, --prefetch and --strict need --precise`);
  const fetchBlock = opt("fetch-block", 1, 64, 16);
  if ((fetchBlock & (fetchBlock - 1)) !== 0)
    throw new UsageError(
      `xmc ${command}: --fetch-block must be a power of two from 1 to 64, not ${fetchBlock}`,
    );
  const prefetch = opt("prefetch", 0, 16, 2);
  const fsRw = flags.has("fs-rw");
  let fsRoot: string | undefined;
  const fsFlag = flags.get("fs");
  if (typeof fsFlag === "string") {
    try {
      fsRoot = realpathSync(fsFlag);
    } catch {
      throw new UsageError(`xmc ${command}: --fs ${fsFlag}: no such directory`);
    }
  } else if (fsRw) throw new UsageError(`xmc ${command}: --fs-rw needs --fs DIR`);

  const program = positional[0]!;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(program);
  } catch (e) {
    throw new UsageError(
      `xmc ${command}: cannot read ${program}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      1,
    );
  }
  // /proc/self/exe: the program's guest path when it lies under --fs, else its host path.
  let exePath = resolve(program);
  if (fsRoot) {
    const rel = relative(fsRoot, exePath);
    if (!rel.startsWith(`..${sep}`) && rel !== "..") exePath = `/${rel.split(sep).join("/")}`;
  }

  const machine = new Machine({
    cpus,
    ...(precise ? { precise: { fetchBlock, prefetch, strict: flags.has("strict") } } : {}),
  });
  let proc: LinuxProcess;
  try {
    proc = new LinuxProcess(machine, bytes, {
      argv: positional,
      env: guestEnv(),
      seed,
      quantum,
      ...(maxInsns > 0 ? { maxInstructions: maxInsns } : {}),
      ...(timeLimit > 0 ? { timeLimitMs: timeLimit * 1000 } : {}),
      ...(fsRoot ? { fsRoot, fsWritable: fsRw } : {}),
      exePath,
      ...io,
    });
  } catch (e) {
    if (e instanceof LoadError) {
      process.stderr.write(`xmc ${command}: ${e.message}\n`);
      return undefined;
    }
    throw e;
  }
  return { machine, proc, program, bytes, cpus, seed, precise };
}

/** `xmc run ...`; returns the exit status. */
export function runCommand(argv: string[]): number {
  const { flags, positional } = parseArgs(argv, RUN_FLAGS, "run");
  if (flags.has("help")) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const progress = new Progress("xmc run", 0);
  const prepared = prepareRun(flags, positional, "run", {
    onProgress: (n) => progress.update(n, `${n.toLocaleString("en-US")} instructions`),
  });
  if (!prepared) return EXIT_NOT_RUNNABLE;
  const { machine, proc } = prepared;
  const t0 = process.hrtime.bigint();
  const status = proc.run();
  const hostNs = Number(process.hrtime.bigint() - t0);
  progress.done();
  if (status.report) process.stderr.write(`${status.report}\n`);

  const statsJson = flags.get("stats-json");
  if (flags.has("stats") || typeof statsJson === "string") {
    const stats = collectStats(machine, proc, hostNs, status);
    if (flags.has("stats")) process.stderr.write(formatStats(stats));
    if (typeof statsJson === "string") {
      try {
        writeFileSync(statsJson, `${JSON.stringify(stats, null, 2)}\n`);
      } catch (e) {
        throw new UsageError(
          `xmc run: cannot write ${statsJson}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          1,
        );
      }
    }
  }
  if (status.instructionLimit || status.timeLimit) return EXIT_INSN_LIMIT;
  if (status.deadlock) return EXIT_DEADLOCK;
  if (status.signal) return 128 + status.signal;
  return status.code;
}

/** The guest's environment: a small fixed one, so that runs do not depend on the host's. */
function guestEnv(): string[] {
  return ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "LANG=C", "TERM=dumb"];
}

export function collectStats(
  machine: Machine,
  proc: LinuxProcess,
  hostNs: number,
  status: ReturnType<LinuxProcess["run"]>,
): RunStats {
  const cpus = machine.cpus.map((c, i) => ({
    cpu: i,
    instructions: c.instructions,
    cycles: Math.round(c.cycles),
    idleCycles: Math.round(proc.sched.idleCycles[i]!),
  }));
  const instructions = cpus.reduce((a, c) => a + c.instructions, 0);
  const ev: EventLog = machine.events;
  return {
    profile: machine.profile.name,
    cpus,
    instructions,
    cycles: Math.max(...cpus.map((c) => c.cycles)),
    hostNs,
    mips: hostNs > 0 ? instructions / (hostNs / 1000) : 0,
    contextSwitches: proc.sched.switches,
    events: ev.count,
    eventHash: ev.hex(),
    ...(machine.precise ? { hazards: countByClass(machine.precise.hazards) } : {}),
    exit: {
      code: status.code,
      signal: status.signal,
      instructionLimit: status.instructionLimit ?? false,
      deadlock: status.deadlock ?? false,
    },
  };
}

export function formatStats(s: RunStats): string {
  const lines = [`xmc: stats (cost profile "${s.profile}")`];
  lines.push("  cpu  instructions  modeled cycles  idle cycles");
  for (const c of s.cpus)
    lines.push(
      `  ${String(c.cpu).padStart(3)}  ${String(c.instructions).padStart(12)}  ${String(c.cycles).padStart(14)}  ${String(c.idleCycles).padStart(11)}`,
    );
  lines.push(`  all  ${String(s.instructions).padStart(12)}  ${String(s.cycles).padStart(14)}  (span)`);
  lines.push(
    `  host time ${(s.hostNs / 1e6).toFixed(1)} ms, ${s.mips.toFixed(2)} MIPS; ${s.contextSwitches} context switches; ${s.events} events, order hash ${s.eventHash}`,
  );
  if (s.hazards) {
    lines.push("  hazards (precise mode):");
    for (const [cls, n] of Object.entries(s.hazards)) lines.push(`    ${cls.padEnd(18)} ${n}`);
  }
  return `${lines.join("\n")}\n`;
}
