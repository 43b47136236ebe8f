/** `xmc report TRACE_DIR [-o FILE]`: (re)build report.html from a CTF trace directory. */
import { existsSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TraceBufferError } from "@xmc/trace-buffer";
import { parseArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { HISTOGRAMS_ENV, reportFromCtf } from "./from-ctf.ts";
import { renderReport } from "./render.ts";

export const REPORT_HELP: string = `Usage: xmc report [-o FILE] [--json] TRACE_DIR

Reads a CTF trace — TRACE_DIR itself, or TRACE_DIR/ctf (the layout of xmc trace -o DIR) — and
writes one self-contained HTML file (no network: inline CSS and SVG): a per-CPU timeline with a
mark per event, patch phases (xmc_patch:int3, sync, tail, head, done events) as bands and IPIs
(xmc_patch:ipi) as marks; events per CPU; lost events; histograms (the trace's env entry
"${HISTOGRAMS_ENV}", JSON); and the run's settings (the trace's env). Above 20,000 events the lanes
show event density instead of single marks.

Options:
  -o, --output FILE   where to write (default: report.html beside the CTF directory, i.e.
                      DIR/report.html for DIR/ctf)
  --json              print a JSON summary instead of the line "wrote ..."

Exit status: 0 when written; 1 when the trace cannot be read or is malformed (one line saying
which file and byte), or FILE cannot be written; 2 on bad usage.

Examples:
  xmc report xmc-demo/ctf
  xmc report -o /tmp/run.html out/ctf
  xmc report --json out/ctf
`;

const FLAGS = {
  output: { value: true },
  json: { value: false },
  help: { value: false },
  debug: { value: false },
};

/** `xmc report ...`; returns the exit status. */
export function reportCommand(argv: string[], write: (s: string) => void): number {
  const args = argv.map((a) => (a === "-o" ? "--output" : a));
  const { flags, positional } = parseArgs(args, FLAGS, "report");
  if (flags.has("help")) {
    write(REPORT_HELP);
    return 0;
  }
  if (positional.length !== 1)
    throw new UsageError("xmc report: give exactly one TRACE_DIR (see xmc report --help)");
  const dir = positional[0]!;
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new UsageError(
      `xmc report: cannot read ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      1,
    );
  }
  if (!isDir) throw new UsageError(`xmc report: ${dir} is not a directory (give the CTF trace directory)`, 1);
  // A run directory holds the trace in ctf/; the report goes beside the CTF directory, never
  // into it (babeltrace2 would take every file there for a stream).
  const ctfDir =
    !existsSync(join(dir, "metadata")) && existsSync(join(dir, "ctf", "metadata")) ? join(dir, "ctf") : dir;
  const out = (flags.get("output") as string | undefined) ?? join(dirname(resolve(ctfDir)), "report.html");
  const t0 = performance.now();
  let model: ReturnType<typeof reportFromCtf>;
  try {
    model = reportFromCtf(ctfDir);
  } catch (e) {
    if (e instanceof TraceBufferError) throw new UsageError(`xmc report: ${e.message}`, 1);
    throw e;
  }
  const html = renderReport(model);
  try {
    writeFileSync(out, html);
  } catch (e) {
    throw new UsageError(
      `xmc report: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      1,
    );
  }
  const events = model.events.length;
  const seconds = (performance.now() - t0) / 1000;
  if (flags.has("json"))
    write(
      `${JSON.stringify({ file: out, bytes: Buffer.byteLength(html), cpus: model.cpus, events, histograms: model.histograms?.length ?? 0, seconds })}\n`,
    );
  else
    write(
      `wrote ${out} (${events.toLocaleString("en-US")} events, ${model.cpus} CPUs, ${Buffer.byteLength(html).toLocaleString("en-US")} bytes)\n`,
    );
  return 0;
}
