/**
 * `xmc demo` (what `npm start` runs): the whole story on one bundled program. The 4-thread
 * `shop` program (examples/shop, built from packages/markers/test/fixtures/src/shop.c) runs on
 * 4 CPUs; its markers are armed mid-run with the INT3 batch protocol and disarmed later; the
 * trace goes to xmc-demo/ (CTF, Chrome JSON, report.html). Then the costs: a disabled marker
 * against the same program compiled without it (examples/hot-off vs hot-nop5), and an enabled
 * one against the disabled run. Then the check: the same arming on the precise machine in
 * strict mode, with the naive protocol (plain writes while CPUs run) and with the INT3 protocol.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { countByClass, LinuxProcess, Machine, type MachinePort, machinePort } from "@xmc/cpu-sim";
import { parseElf } from "@xmc/elf";
import { discoverSites, Markers, type MarkersOptions } from "@xmc/markers";
import { parseArgs } from "./args.ts";
import { UsageError } from "./errors.ts";
import { Progress } from "./progress.ts";
import { prepareRun } from "./run.ts";
import { runTrace, type TraceResult } from "./trace/session.ts";
import { parseSpec } from "./trace/spec.ts";

export const DEMO_HELP: string = `Usage: xmc demo [--out DIR] [--json]

Runs the bundled 4-thread shop program on 4 simulated CPUs, arms its markers mid-run with the
INT3 batch protocol and disarms them later, and prints: events per marker per CPU, the
patching statistics, what a disabled and an enabled marker cost in modeled cycles, and what
the precise machine finds when the same markers are armed with the naive protocol (plain
writes while the CPUs run) versus the INT3 protocol. Writes DIR (default xmc-demo/) with the
CTF trace (DIR/ctf, for babeltrace2), DIR/trace.json (Perfetto) and DIR/report.html.

Options:
  --out DIR   where to write the trace and the report (default ./xmc-demo)
  --json      the summary as one JSON object

Examples:
  xmc demo                      # what npm start runs; then open xmc-demo/report.html
  xmc demo --out /tmp/d --json
  babeltrace2 xmc-demo/ctf | head
`;

/** Where the bundled programs are (next to dist/ in the app, or src/ under tests). */
function examples(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, "../examples"), join(here, "../../examples")])
    if (existsSync(join(d, "shop"))) return d;
  throw new UsageError(
    "xmc demo: the bundled examples (examples/shop) are missing from this installation",
    1,
  );
}

/** One run of `file` on `cpus` CPUs: output, instructions, times, hazards, marker hits. */
function plainRun(
  file: string,
  argv: string[],
  cpus: number,
  opts: {
    precise?: boolean;
    markers?: MarkersOptions;
    setup?: (port: MachinePort, markers: Markers) => void;
  } = {},
): { out: string; sumCycles: number; hazards: Record<string, number>; hits: number; crashed?: string } {
  const bytes = new Uint8Array(readFileSync(file));
  const m = new Machine({ cpus, ...(opts.precise ? { precise: { strict: true } } : {}) });
  let out = "";
  const proc = new LinuxProcess(m, bytes, {
    argv: ["shop", ...argv],
    stdout: (d) => {
      out += Buffer.from(d).toString();
    },
    stderr: () => {},
  });
  let markers: Markers | undefined;
  if (opts.setup) {
    const port = machinePort(m);
    markers = new Markers(port, discoverSites(parseElf(bytes)), opts.markers ?? {});
    opts.setup(port, markers);
  }
  let crashed: string | undefined;
  try {
    proc.run();
  } catch (e) {
    // With an unsafe protocol a torn instruction may derail the run; the hazards found stand.
    crashed = (e as Error).message;
  }
  return {
    out,
    sumCycles: m.cpus.reduce((a, c) => a + c.cycles, 0),
    hazards: m.precise ? countByClass(m.precise.hazards) : {},
    hits: markers?.totals.hits ?? 0,
    ...(crashed !== undefined ? { crashed } : {}),
  };
}

/** What the demo measured. */
export interface DemoResult {
  trace: TraceResult;
  outDir: string;
  costs: {
    /** Modeled cycles per call of a disabled nop5 marker (hot-nop5 vs hot-off). */
    disabledPerCall: number;
    calls: number;
    /** Modeled cycles per hit of an enabled marker (stub + host call), shop armed vs not. */
    enabledPerHit: number;
    hits: number;
  };
  check: { naive: Record<string, number>; int3: Record<string, number>; outputSame: boolean };
}

/** Run the demo; `say` gets the terminal summary line by line. */
export function runDemo(outDir: string, say: (s: string) => void, quiet = false): DemoResult {
  const progress = new Progress("xmc demo", 4, quiet);
  const ex = examples();
  const shop = join(ex, "shop");
  const requests = "3000";

  progress.update(0, "tracing shop on 4 CPUs");
  // 1. The traced run: markers armed at 40,000 cycles, disarmed at 400,000.
  const prepared = prepareRun(new Map([["cpus", "4"]]), [shop, requests], "demo", { stdout: () => {} });
  if (!prepared) throw new UsageError("xmc demo: the bundled program could not be loaded", 1);
  const specs = ["marker:shop:request_*", "usdt:shop:usdt_item { hist(arg1) }", "func:price { count }"].map(
    parseSpec,
  );
  const trace = runTrace(prepared, {
    specs,
    armAt: 40_000,
    disarmAt: 400_000,
    protocol: "int3-batch",
    stream: "none",
    write: () => {},
    outDir,
    title: "xmc demo: shop on 4 CPUs, markers armed mid-run (INT3 protocol)",
  });

  progress.update(1, "measuring costs");
  // 2. Costs. Disabled: the hot loop compiled without and with a nop5 marker.
  const calls = 100_000;
  const off = plainRun(join(ex, "hot-off"), [String(calls)], 1);
  const nop = plainRun(join(ex, "hot-nop5"), [String(calls)], 1);
  const disabledPerCall = (nop.sumCycles - off.sumCycles) / calls;
  // Enabled: shop with request_start armed from the start vs not armed (cycles summed over CPUs).
  const base = plainRun(shop, ["500"], 4);
  const armed = plainRun(shop, ["500"], 4, {
    setup: (port, mk) => port.runAgent(mk.arm("shop:request_start"), 0),
  });
  const enabledPerHit = (armed.sumCycles - base.sumCycles) / Math.max(1, armed.hits);

  progress.update(2, "checking naive vs INT3 on the precise machine");
  // 3. The check: arm and disarm the same markers five times each under load, strict precise mode.
  const which = ["shop:request_*", "shop:usdt_item", "func:price"];
  const check = (protocol: "naive" | "int3-batch") =>
    plainRun(shop, ["1000"], 4, {
      precise: true,
      markers: { protocol, unsafe: protocol === "naive" },
      setup: (port, mk) => {
        for (let i = 0; i < 10; i++)
          port.runAgent(i % 2 === 0 ? mk.arm(which) : mk.disarm(which), 5000 + i * 30000);
      },
    });
  const withNaive = check("naive");
  const withInt3 = check("int3-batch");
  const plainOut = plainRun(shop, ["1000"], 4).out;
  progress.done();
  const result: DemoResult = {
    trace,
    outDir,
    costs: { disabledPerCall, calls, enabledPerHit, hits: armed.hits },
    check: {
      naive: withNaive.hazards,
      int3: withInt3.hazards,
      outputSame: withInt3.out === plainOut,
    },
  };
  for (const line of summaryLines(result)) say(`${line}\n`);
  return result;
}

function fmtHazards(h: Record<string, number>): string {
  const list = Object.entries(h).filter(([, n]) => n > 0);
  return list.length === 0 ? "none" : list.map(([k, n]) => `${k} ${n}`).join(", ");
}

/** The terminal summary. */
export function summaryLines(r: DemoResult): string[] {
  const t = r.trace;
  const lines: string[] = [];
  lines.push("xmc demo — the shop program (4 threads) on 4 simulated CPUs");
  lines.push(
    `  ran ${t.instructions.toLocaleString("en-US")} instructions, ${t.cycles.toLocaleString("en-US")} modeled cycles; exit status ${t.exit.code}`,
  );
  lines.push(
    `  markers armed at ${t.patch.armedAt.join(", ") || "-"} and disarmed at ${t.patch.disarmedAt.join(", ") || "-"} (modeled cycles) with the INT3 batch protocol`,
  );
  lines.push("");
  lines.push("  events per marker per CPU");
  const w = Math.max(...t.probes.map((p) => p.name.length), 6);
  lines.push(
    `    ${"marker".padEnd(w)}${Array.from({ length: t.cpus }, (_, i) => `cpu${i}`.padStart(8)).join("")}${"total".padStart(9)}`,
  );
  for (const p of t.probes)
    lines.push(
      `    ${p.name.padEnd(w)}${p.counts.map((c) => String(c).padStart(8)).join("")}${String(p.counts.reduce((a, b) => a + b, 0)).padStart(9)}`,
    );
  lines.push(`    ${t.events} events written, ${t.lost.reduce((a, b) => a + b, 0)} lost`);
  lines.push("");
  const p = t.patch;
  lines.push("  patching");
  lines.push(
    `    ${p.runs} runs, ${p.enabled} sites enabled and ${p.disabled} disabled in ${p.batches} batches: ${p.stores} stores, ${p.syncs} syncs, ${p.ipis} IPIs, ${p.int3Hits} INT3 hits while patching, ${Math.round(p.syncStallCycles).toLocaleString("en-US")} stall cycles on the other CPUs`,
  );
  lines.push("");
  lines.push("  cost (modeled cycles, profile default)");
  lines.push(
    `    disabled marker: ${r.costs.disabledPerCall.toFixed(2)} cycles per call (a 5-byte NOP; ${r.costs.calls.toLocaleString("en-US")} calls, hot-nop5 vs compiled out)`,
  );
  lines.push(
    `    enabled marker:  ${r.costs.enabledPerHit.toFixed(1)} cycles per hit (jmp to a stub, host call, back; ${r.costs.hits.toLocaleString("en-US")} hits)`,
  );
  lines.push("");
  lines.push("  check (precise machine, strict: arm/disarm 5 times each while 4 threads run)");
  lines.push(`    naive protocol (plain writes):  hazards: ${fmtHazards(r.check.naive)}`);
  lines.push(
    `    INT3 batch protocol:            hazards: ${fmtHazards(r.check.int3)}; program output ${r.check.outputSame ? "unchanged" : "CHANGED"}`,
  );
  lines.push("");
  lines.push(
    `  wrote ${r.outDir}/: ctf/ (babeltrace2 ${r.outDir}/ctf), trace.json (ui.perfetto.dev), report.html`,
  );
  return lines;
}

/** `xmc demo ...`; returns the exit status. */
export function demoCommand(argv: string[], out: (s: string) => void): number {
  const { flags, positional } = parseArgs(
    argv,
    { out: { value: true }, json: { value: false }, help: { value: false }, debug: { value: false } },
    "demo",
  );
  if (flags.has("help")) {
    out(DEMO_HELP);
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`xmc demo: unexpected argument "${positional[0]}"`);
  const outDir = resolve((flags.get("out") as string | undefined) ?? "xmc-demo");
  const json = flags.has("json");
  const r = runDemo(outDir, json ? () => {} : out, json);
  if (json)
    out(
      `${JSON.stringify({
        instructions: r.trace.instructions,
        cycles: r.trace.cycles,
        exit: r.trace.exit,
        probes: r.trace.probes.map((p) => ({ name: p.name, counts: p.counts })),
        events: r.trace.events,
        lost: r.trace.lost,
        patch: r.trace.patch,
        costs: r.costs,
        check: r.check,
        files: r.trace.files,
      })}\n`,
    );
  // The demo's claim: the INT3 protocol is clean. Anything else is a failure worth a status.
  return Object.values(r.check.int3).some((n) => n > 0) || !r.check.outputSame ? 1 : 0;
}
