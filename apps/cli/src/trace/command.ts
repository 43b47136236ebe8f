/**
 * `xmc trace`: run a program with probes attached; stream events; write CTF, Chrome JSON and
 * an HTML report; print counts, histograms, lost events and patching statistics at exit.
 */
import { intOption, parseArgs, wantsDebug } from "../args.ts";
import { UsageError } from "../errors.ts";
import { Progress } from "../progress.ts";
import { EXIT_DEADLOCK, EXIT_INSN_LIMIT, EXIT_NOT_RUNNABLE, prepareRun, RUN_FLAGS } from "../run.ts";
import { bucketRange, runTrace, type StreamFormat, type TraceResult } from "./session.ts";
import { parseSpec } from "./spec.ts";

export const TRACE_HELP: string = `Usage: xmc trace [run options] -e SPEC... [-o DIR] [--format text|json|ctf|chrome]
                 [--arm-at CYCLES] [--disarm-at CYCLES] [--protocol int3|stop-machine] [--json]
                 PROGRAM [ARGS...]

Runs PROGRAM on the simulated machine (the options of xmc run apply: --cpus, --seed, --fs,
--precise, --strict, ...) with probes attached, armed at a modeled time while the program runs.

SPEC:
  marker:PROVIDER:NAME     xmc markers (XMC_MARKER in the program; globs * ? allowed)
  usdt:PROVIDER:NAME       USDT probes (sys/sdt.h); arming increments their semaphores
  func:GLOB                function-entry sites (-fpatchable-function-entry, -mrecord-mcount)
  kprobe:SYMBOL[+OFF]      an INT3 probe at any instruction
  kretprobe:SYMBOL         a probe on the function's return
  djprobe:SYMBOL[+OFF]     a jump-optimized probe
followed by an action in braces: { print } (default: one line per hit), { count },
{ hist(argN) } (a log2 histogram of argument N, counting from 0).

Options:
  -e, --event SPEC        what to trace (repeatable)
  -o, --output DIR        write DIR/ctf (CTF 1.8, babeltrace2 reads it), DIR/trace.json
                          (Chrome/Perfetto) and DIR/report.html
  --format F              text (default) or json: how print actions stream to stdout;
                          ctf or chrome: write only that file under -o DIR, stream nothing
  --arm-at CYCLES         arm the probes at this modeled time (default 0: from the start)
  --disarm-at CYCLES      disarm them at this modeled time (default: never)
  --protocol P            int3 (the INT3 batch protocol, default) or stop-machine
  --json                  the summary as one JSON object (last line of stdout)

At exit (stdout): hits per probe and CPU, histograms, lost events, and the patching
statistics (runs, sites, syncs, IPIs, INT3 hits during patching, stall cycles).

Examples:
  xmc trace --cpus 4 -e 'marker:shop:request_*' ./shop
  xmc trace --cpus 4 -e 'usdt:shop:usdt_item { count }' -e 'marker:shop:request_done { hist(arg1) }' ./shop
  xmc trace --cpus 4 --arm-at 20000 --disarm-at 60000 -o out -e 'marker:shop:*' ./shop
  xmc trace --precise --strict --cpus 4 -e 'func:*' ./shop
`;

const TRACE_FLAGS = {
  ...RUN_FLAGS,
  event: { value: true, repeat: true, short: "e" },
  output: { value: true, short: "o" },
  format: { value: true },
  "arm-at": { value: true },
  "disarm-at": { value: true },
  protocol: { value: true },
  json: { value: false },
};

/** Does `xmc trace ARGV` ask for --debug (among xmc's options, before PROGRAM)? */
export function traceWantsDebug(argv: string[]): boolean {
  return wantsDebug(argv, TRACE_FLAGS, "trace");
}

/** The summary as text lines. */
export function formatSummary(r: TraceResult, program: string): string {
  const lines: string[] = [];
  const how = r.exit.signal
    ? `was killed by signal ${r.exit.signal}`
    : r.exit.instructionLimit
      ? "stopped at the instruction limit"
      : r.exit.timeLimit
        ? "stopped at the time limit"
        : r.exit.deadlock
          ? "deadlocked"
          : `exited with status ${r.exit.code}`;
  lines.push(
    `xmc trace: ${program} ${how}: ${r.instructions.toLocaleString("en-US")} instructions, ${r.cycles.toLocaleString("en-US")} modeled cycles on ${r.cpus} CPUs (profile default)`,
  );
  const cpuHead = Array.from({ length: r.cpus }, (_, i) => `cpu${i}`.padStart(8));
  const w = Math.max(5, ...r.probes.map((p) => p.name.length));
  lines.push(`  ${"probe".padEnd(w)}${cpuHead.join("")}${"total".padStart(9)}`);
  for (const p of r.probes) {
    const total = p.counts.reduce((a, b) => a + b, 0);
    lines.push(
      `  ${p.name.padEnd(w)}${p.counts.map((c) => String(c).padStart(8)).join("")}${String(total).padStart(9)}`,
    );
  }
  for (const p of r.probes) {
    if (!p.hist) continue;
    const arg = (p.spec.action as { arg: number }).arg;
    lines.push(`  ${p.name} hist(arg${arg}):`);
    const buckets = [...p.hist.entries()].sort((a, b) => a[0] - b[0]);
    const max = Math.max(1, ...buckets.map((b) => b[1]));
    for (const [k, n] of buckets) {
      const { lo, hi } = bucketRange(k);
      lines.push(
        `    [${lo}, ${hi})`.padEnd(30) + `${String(n).padStart(8)} ${"#".repeat(Math.ceil((n / max) * 40))}`,
      );
    }
  }
  const lost = r.lost.reduce((a, b) => a + b, 0);
  lines.push(
    `  events: ${r.events} written, ${lost} lost${lost > 0 ? ` (per CPU: ${r.lost.join(" ")})` : ""}`,
  );
  const p = r.patch;
  lines.push(
    `  patching (${p.protocol}): ${p.runs} run(s), ${p.enabled} site(s) enabled, ${p.disabled} disabled, ${p.batches} batch(es), ${p.stores} stores, ${p.syncs} syncs, ${p.ipis} IPIs, ${p.int3Hits} INT3 hits during patching, ${Math.round(p.syncStallCycles + p.parkedStallCycles)} stall cycles`,
  );
  if (r.hazards) {
    const list = Object.entries(r.hazards).filter(([, n]) => n > 0);
    lines.push(
      `  hazards (precise mode): ${list.length === 0 ? "none" : list.map(([k, n]) => `${k} ${n}`).join(", ")}`,
    );
  }
  for (const [k, v] of Object.entries(r.files)) lines.push(`  wrote ${k}: ${v}`);
  return `${lines.join("\n")}\n`;
}

/** The summary as a JSON-able object. */
export function summaryJson(r: TraceResult, program: string): Record<string, unknown> {
  return {
    program,
    exit: r.exit,
    cpus: r.cpus,
    instructions: r.instructions,
    cycles: r.cycles,
    probes: r.probes.map((p) => ({
      name: p.name,
      spec: p.spec.text,
      action: p.spec.action.type,
      counts: p.counts,
      total: p.counts.reduce((a, b) => a + b, 0),
      ...(p.hist
        ? {
            hist: [...p.hist.entries()]
              .sort((a, b) => a[0] - b[0])
              .map(([k, count]) => ({ ...bucketRange(k), count })),
          }
        : {}),
    })),
    events: r.events,
    patchEvents: r.patchEvents,
    lost: r.lost,
    patch: r.patch,
    ...(r.hazards ? { hazards: r.hazards } : {}),
    files: r.files,
  };
}

/** `xmc trace ...`; returns the exit status. */
export function traceCommand(argv: string[], out: (s: string) => void): number {
  const { flags, lists, positional } = parseArgs(argv, TRACE_FLAGS, "trace");
  if (flags.has("help")) {
    out(TRACE_HELP);
    return 0;
  }
  const specs = (lists.get("event") ?? []).map(parseSpec);
  if (specs.length === 0) throw new UsageError("xmc trace: give at least one -e SPEC (see xmc trace --help)");
  const format = (flags.get("format") as string | undefined) ?? "text";
  if (!["text", "json", "ctf", "chrome"].includes(format))
    throw new UsageError(`xmc trace: --format must be text, json, ctf or chrome, not "${format}"`);
  const outDir = flags.get("output") as string | undefined;
  if ((format === "ctf" || format === "chrome") && !outDir)
    throw new UsageError(`xmc trace: --format ${format} writes a file: give -o DIR`);
  const protocolFlag = (flags.get("protocol") as string | undefined) ?? "int3";
  if (protocolFlag !== "int3" && protocolFlag !== "stop-machine")
    throw new UsageError(`xmc trace: --protocol must be int3 or stop-machine, not "${protocolFlag}"`);
  const armAt = intOption(flags.get("arm-at"), "--arm-at", 0, Number.MAX_SAFE_INTEGER, 0, "trace");
  const disarmAt = flags.has("disarm-at")
    ? intOption(flags.get("disarm-at"), "--disarm-at", 0, Number.MAX_SAFE_INTEGER, 0, "trace")
    : undefined;
  if (disarmAt !== undefined && disarmAt < armAt)
    throw new UsageError(`xmc trace: --disarm-at ${disarmAt} is before --arm-at ${armAt}`);
  const progress = new Progress("xmc trace", 0, flags.has("json"));
  const prepared = prepareRun(flags, positional, "trace", {
    onProgress: (n) => progress.update(n, `${n.toLocaleString("en-US")} instructions`),
  });
  if (!prepared) return EXIT_NOT_RUNNABLE;
  const stream: StreamFormat = format === "text" || format === "json" ? format : "none";
  const r = runTrace(prepared, {
    specs,
    armAt,
    ...(disarmAt !== undefined ? { disarmAt } : {}),
    protocol: protocolFlag === "int3" ? "int3-batch" : "stop-machine",
    stream,
    write: out,
    ...(outDir ? { outDir } : {}),
    formats: {
      ctf: format !== "chrome",
      chrome: format !== "ctf",
      report: format === "text" || format === "json",
    },
  });
  progress.done();
  if (r.exit.report) process.stderr.write(`${r.exit.report}\n`);
  if (flags.has("json")) out(`${JSON.stringify(summaryJson(r, prepared.program))}\n`);
  else out(formatSummary(r, prepared.program));
  if (r.exit.instructionLimit || r.exit.timeLimit) return EXIT_INSN_LIMIT;
  if (r.exit.deadlock) return EXIT_DEADLOCK;
  if (r.exit.signal) return 128 + r.exit.signal;
  return r.exit.code;
}
