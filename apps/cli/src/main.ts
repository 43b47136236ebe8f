/**
 * xmc — the reference app. Commands: disasm, run, markers, trace, check, report.
 * Errors print as one line and exit non-zero; `--debug` shows the stack.
 */
import { readFileSync } from "node:fs";
import { ElfError } from "@xmc/elf";
import { MarkerError } from "@xmc/markers";
import { parseAddress, parseArgs } from "./args.ts";
import { CHECK_HELP, checkCommand } from "./check/command.ts";
import { DEMO_HELP, demoCommand } from "./demo.ts";
import { disasm } from "./disasm.ts";
import { oneLine, UsageError } from "./errors.ts";
import { MARKERS_HELP, markersCommand } from "./markers-cmd.ts";
import { REPORT_HELP, reportCommand } from "./report/command.ts";
import { RUN_HELP, runCommand, runWantsDebug } from "./run.ts";
import { TRACE_HELP, traceCommand, traceWantsDebug } from "./trace/command.ts";

const HELP = `xmc — zero-overhead tracing of x86 code, and the machine to check it on

Usage: xmc <command> [options]

Commands:
  disasm    disassemble an ELF file as GNU objdump -d prints it
  run       run a static x86-64 Linux program on the simulated multi-CPU machine
  markers   list a program's marker sites: xmc markers, USDT probes, function entries
  trace     run a program with markers and probes armed while it runs; CTF, JSON, report
  demo      the whole story on a bundled 4-thread program (what npm start runs)
  check     check live-patching protocols on the precise machine over many schedules
  report    (re)build report.html from a CTF trace directory
  help      show help for a command (xmc help disasm)

Global options: --help, --debug (show stack traces), --version
`;

const DISASM_HELP = `Usage: xmc disasm [--syntax att|intel] [--section NAME] [--start ADDR --stop ADDR] [--json] FILE

Prints objdump-style lines ("  401000:\\t48 89 e5             \\tmov    %rsp,%rbp") with
<symbol>: headers; --json prints one object per instruction per line:
{"addr":"0x401000","len":3,"bytes":"4889e5","text":"mov    %rsp,%rbp"}

Options:
  --syntax att|intel   AT&T (default, as objdump -d) or Intel (as objdump -d -M intel)
  --section NAME       only this section (default: every executable section)
  --start ADDR         first address to print (hex 0x... or decimal)
  --stop ADDR          stop before this address
  --json               JSON lines instead of text

Examples:
  xmc disasm /bin/true
  xmc disasm --section .text --start 0x401000 --stop 0x401040 prog
  xmc disasm --json prog | head
`;

function out(s: string): void {
  process.stdout.write(s);
}

function runDisasm(argv: string[]): number {
  const { flags, positional } = parseArgs(
    argv,
    {
      syntax: { value: true },
      section: { value: true },
      start: { value: true },
      stop: { value: true },
      json: { value: false },
      help: { value: false },
      debug: { value: false },
    },
    "disasm",
  );
  if (flags.has("help")) {
    out(DISASM_HELP);
    return 0;
  }
  const syntax = (flags.get("syntax") as string | undefined) ?? "att";
  if (syntax !== "att" && syntax !== "intel")
    throw new UsageError(`xmc disasm: --syntax must be att or intel, not "${syntax}"`);
  if (positional.length !== 1)
    throw new UsageError("xmc disasm: give exactly one FILE (see xmc disasm --help)");
  const file = positional[0]!;
  const start = flags.has("start") ? parseAddress(flags.get("start") as string, "--start") : undefined;
  const stop = flags.has("stop") ? parseAddress(flags.get("stop") as string, "--stop") : undefined;
  if (start !== undefined && stop !== undefined && stop < start)
    throw new UsageError("xmc disasm: --stop is below --start");
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UsageError(
      `xmc disasm: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      1,
    );
  }
  // Buffer output: one write per ~64 KiB.
  let buf = "";
  const write = (s: string) => {
    buf += s;
    if (buf.length > 65536) {
      process.stdout.write(buf);
      buf = "";
    }
  };
  disasm(
    file,
    bytes,
    { syntax, section: flags.get("section") as string | undefined, start, stop, json: flags.has("json") },
    write,
  );
  process.stdout.write(buf);
  return 0;
}

export function main(argv: string[]): number {
  // `xmc run PROGRAM ARGS...`: the guest's arguments are its own (a guest "--debug" is not ours).
  const first = argv.findIndex((a) => a !== "--debug");
  // (`xmc trace ... PROGRAM ARGS...` likewise.)
  const isRun = argv[first] === "run" || argv[first] === "trace";
  const wants = argv[first] === "run" ? runWantsDebug : traceWantsDebug;
  const debug = isRun
    ? argv.slice(0, first).includes("--debug") || wants(argv.slice(first + 1))
    : argv.includes("--debug");
  const args = isRun ? argv.slice(first) : argv.filter((a) => a !== "--debug");
  try {
    const [cmd, ...rest] = args;
    switch (cmd) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        if (rest[0] === "disasm") out(DISASM_HELP);
        else if (rest[0] === "run") out(RUN_HELP);
        else if (rest[0] === "markers") out(MARKERS_HELP);
        else if (rest[0] === "trace") out(TRACE_HELP);
        else if (rest[0] === "demo") out(DEMO_HELP);
        else if (rest[0] === "check") out(CHECK_HELP);
        else if (rest[0] === "report") out(REPORT_HELP);
        else out(HELP);
        return 0;
      case "--version":
        out("xmc 0.0.0\n");
        return 0;
      case "disasm":
        return runDisasm(rest);
      case "run":
        return runCommand(rest);
      case "markers":
        return markersCommand(rest, out);
      case "trace":
        return traceCommand(rest, out);
      case "demo":
        return demoCommand(rest, out);
      case "check":
        return checkCommand(rest, out);
      case "report":
        return reportCommand(rest, out);
      default:
        throw new UsageError(`xmc: unknown command "${cmd}" (try xmc --help)`);
    }
  } catch (e) {
    if (debug) process.stderr.write(`${(e as Error).stack}\n`);
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ElfError || e instanceof MarkerError) {
      process.stderr.write(`xmc: ${oneLine(e.message)}\n`);
      return 1;
    }
    process.stderr.write(
      `xmc: internal error: ${oneLine((e as Error).message ?? String(e))} (run with --debug for details)\n`,
    );
    return 70;
  }
}

process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
});
process.exitCode = main(process.argv.slice(2));
