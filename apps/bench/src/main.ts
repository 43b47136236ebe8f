/**
 * `pnpm bench` (repository root) / `pnpm --filter @xmc/bench bench [--quick] [--out DIR] [--only NAMES]`:
 * runs the five experiments, prints their tables, writes `<out>/<name>.json` and
 * `<out>/<name>.svg`, and regenerates BENCHMARKS.md from the JSON files. The full run writes
 * results/ and BENCHMARKS.md at the repository root; `--quick` (CI smoke, under a minute)
 * writes to a temporary directory unless `--out` says otherwise, with its BENCHMARKS.md inside.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_PROFILE } from "@xmc/cpu-sim";
import { calibration } from "./exp/calibration.ts";
import { cuts } from "./exp/cuts.ts";
import { fastpath } from "./exp/fastpath.ts";
import { host } from "./exp/host.ts";
import { switching } from "./exp/switching.ts";
import { renderBenchmarks } from "./report.ts";
import type { Experiment, ResultFile } from "./result.ts";
import { ROOT } from "./sim.ts";
import { hostInfo } from "./stats.ts";
import { plain } from "./table.ts";

const USAGE =
  "usage: bench [--quick] [--out DIR] [--only fastpath,cuts,switching,calibration,host] [--report (only regenerate BENCHMARKS.md)]";

function parse(argv: readonly string[]): {
  quick: boolean;
  out: string | undefined;
  only: Set<string> | undefined;
  report: boolean;
} {
  let quick = false;
  let report = false;
  let out: string | undefined;
  let only: Set<string> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") quick = true;
    else if (a === "--report") report = true;
    else if (a === "--out" && argv[i + 1] !== undefined) out = resolve(argv[++i]!);
    else if (a === "--only" && argv[i + 1] !== undefined) only = new Set(argv[++i]!.split(","));
    else if (a === "--") continue;
    else {
      process.stderr.write(`bench: unknown argument ${a}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  return { quick, out, only, report };
}

const opts = parse(process.argv.slice(2));
const out = opts.out ?? (opts.quick ? join(tmpdir(), "xmc-bench-quick") : join(ROOT, "results"));
const md = opts.out === undefined && !opts.quick ? join(ROOT, "BENCHMARKS.md") : join(out, "BENCHMARKS.md");
mkdirSync(out, { recursive: true });
if (opts.report) {
  writeFileSync(md, renderBenchmarks(out, md));
  process.stdout.write(`wrote ${md} from ${out}/*.json\n`);
  process.exit(0);
}
const info = hostInfo();
const started = Date.now();
process.stdout.write(
  `xmc bench${opts.quick ? " --quick" : ""}: ${info.cpu}, ${info.cores} cores, Node ${info.node}; cost profile ${DEFAULT_PROFILE.name}; results in ${out}\n\n`,
);

function save(e: Experiment, seconds: number): void {
  const file: ResultFile = {
    name: e.name,
    title: e.title,
    generated: new Date().toISOString().slice(0, 10),
    quick: opts.quick,
    profile: DEFAULT_PROFILE.name,
    host: info,
    seconds,
    tables: e.tables,
    charts: e.charts.map((c) => ({ file: c.file, title: c.title })),
    reading: e.reading,
    data: e.data,
  };
  writeFileSync(join(out, `${e.name}.json`), `${JSON.stringify(file, null, 2)}\n`);
  for (const c of e.charts) writeFileSync(join(out, c.file), c.svg);
  process.stdout.write(`== ${e.title} (${seconds.toFixed(1)} s host time)\n\n`);
  for (const t of e.tables) process.stdout.write(`${plain(t)}\n\n`);
  process.stdout.write(`${e.reading}\n\n`);
}

async function step(
  name: string,
  run: () => Experiment | Promise<Experiment>,
): Promise<Experiment | undefined> {
  if (opts.only && !opts.only.has(name)) return undefined;
  const t0 = Date.now();
  const e = await run();
  save(e, (Date.now() - t0) / 1000);
  return e;
}

const wanted = (n: string): boolean => !opts.only || opts.only.has(n);
// Calibration reads experiment 1's figures: run it when either is asked for.
const t1 = Date.now();
const fast = wanted("fastpath") || wanted("calibration") ? await fastpath(opts.quick) : undefined;
if (fast && wanted("fastpath")) save(fast, (Date.now() - t1) / 1000);
await step("cuts", () => cuts(opts.quick));
await step("switching", () => switching(opts.quick));
if (fast) await step("calibration", () => calibration(fast));
await step("host", () => host(opts.quick));
writeFileSync(md, renderBenchmarks(out, md));
process.stdout.write(
  `wrote ${md} and ${out}/*.json, *.svg in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
