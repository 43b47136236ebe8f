/**
 * Experiment 5: host throughput against the tools people use, in the same run on the same
 * input. x86-decode vs iced-x86 (length, full decode, decode + format) on libc's .text, and
 * `xmc disasm` vs `objdump -d` as whole processes on the same file; cpu-sim vs `qemu-x86_64`
 * on cpu-sim's static benchmark programs; trace-buffer vs the naive baseline of its own bench
 * (packages/trace-buffer/bench/workloads.ts, imported); CTF export MB/s vs JSON.stringify.
 * Every figure is the median of several runs with min–max, host time, on the machine named.
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LinuxProcess, Machine } from "@xmc/cpu-sim";
import { parseElf } from "@xmc/elf";
import { defineSchema, TraceBuffers, type TraceSchema, writeCtf } from "@xmc/trace-buffer";
import { decode, formatAtt, Instruction, instructionLength } from "@xmc/x86-decode";
// The package bench's workloads (they take a writer; the writer here is the bundle's).
import { naiveEvents, writeEvents } from "../../../../packages/trace-buffer/bench/workloads.ts";
import type { Experiment } from "../result.ts";
import { ROOT } from "../sim.ts";
import { hostInfo, type Paired, paired } from "../stats.ts";
import { barChart } from "../svg.ts";
import { med, num, type Table } from "../table.ts";

const require = createRequire(import.meta.url);

/** The workloads' event: one class, three u64 fields (as their BENCH_SCHEMA, built by the bundle). */
const SCHEMA: TraceSchema = defineSchema({ sample: { fields: { a: "u64", b: "u64", c: "u64" } } });

/** The workloads' writer type (declared by the package's sources, not its bundle). */
type WorkloadWriter = Parameters<typeof writeEvents>[0];
/** SAFETY: the bundle's writer is the same class as the sources'; only TypeScript's private-field nominality differs. */
const asWorkload = (w: unknown): WorkloadWriter => w as WorkloadWriter;

/** One comparison: ours and the reference, as rates (higher is better). */
export interface HostRow {
  readonly key: string;
  readonly unit: string;
  /** Both rates and their run-by-run ratio; undefined when the reference tool is missing. */
  readonly measured: Paired | undefined;
  readonly reference: string;
  readonly note: string;
}

function hasCmd(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Run a whole process to its end (its output is dropped); throws when it fails. */
function runProcess(cmd: string, args: readonly string[]): void {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}`);
}

/** The decoder rows: instructions per second over `bytes` at `vma`. */
function decoderRows(bytes: Uint8Array, vma: number, runs: number, warm: number): HostRow[] {
  const iced = require("iced-x86") as typeof import("iced-x86");
  const insn = new Instruction();
  let sink = 0;
  const lengths = (): number => {
    let n = 0;
    for (let p = 0; p < bytes.length; n++) {
      const l = instructionLength(bytes, p, 64);
      p += l > 0 ? l : 1;
    }
    return n;
  };
  // Module bindings and the buffer in locals, one loop per job: the loops read registers, and
  // each call site in them sees one function.
  const decodeOnly = (): number => {
    const b = bytes;
    const end = b.length;
    const base = vma;
    const out = insn;
    const dec = decode;
    let n = 0;
    for (let p = 0; p < end; n++) {
      const l = dec(b, p, base + p, 64, out);
      p += l > 0 ? l : 1;
    }
    return n;
  };
  const decodeFormat = (): number => {
    const b = bytes;
    const end = b.length;
    const base = vma;
    const out = insn;
    const dec = decode;
    const fmt = formatAtt;
    let n = 0;
    let chars = 0;
    for (let p = 0; p < end; n++) {
      const l = dec(b, p, base + p, 64, out);
      if (l > 0) chars += fmt(out).length;
      p += l > 0 ? l : 1;
    }
    sink += chars;
    return n;
  };
  const icedRun = (format: boolean) => (): number => {
    const d = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
    d.ip = BigInt(vma);
    const f = format ? new iced.Formatter(iced.FormatterSyntax.Gas) : undefined;
    const out = new iced.Instruction();
    let n = 0;
    for (; d.canDecode; n++) {
      d.decodeOut(out);
      if (f) sink += f.format(out).length;
    }
    out.free();
    f?.free();
    d.free();
    return n;
  };
  const rows: HostRow[] = [
    {
      key: "x86-decode instructionLength vs iced-x86 decode",
      unit: "M insn/s",
      measured: paired(lengths, icedRun(false), runs, warm, 1e-6),
      reference: "iced-x86 1.21 Decoder.decodeOut",
      note: "length fast path against a full decode (what patching needs)",
    },
    {
      key: "x86-decode decode vs iced-x86 decode",
      unit: "M insn/s",
      measured: paired(decodeOnly, icedRun(false), runs, warm, 1e-6),
      reference: "iced-x86 1.21 Decoder.decodeOut",
      note: "full decode with patching facts",
    },
    {
      key: "x86-decode decode + formatAtt vs iced-x86 Gas formatter",
      unit: "M insn/s",
      measured: paired(decodeFormat, icedRun(true), runs, warm, 1e-6),
      reference: "iced-x86 1.21 Formatter(Gas)",
      note: "AT&T text as objdump prints it",
    },
  ];
  if (sink === -1) throw new Error("unreachable");
  return rows;
}

/** cpu-sim's benchmark program `name` with `rounds`: MIPS in the simulator (in process) and under qemu-user (whole process). */
function simRow(name: string, rounds: number, runs: number, qemu: boolean): HostRow {
  const prog = join(ROOT, "packages/cpu-sim/bench/programs", name);
  const bytes = readFileSync(prog);
  let insns = 0;
  let out = "";
  const sim = (): number => {
    const m = new Machine({ cpus: 1 });
    let o = "";
    const p = new LinuxProcess(m, bytes, {
      argv: [prog, String(rounds)],
      stdout: (d) => {
        o += Buffer.from(d).toString();
      },
    });
    const r = p.run();
    if (r.signal) throw new Error(`${name}: ${r.report ?? r.signal}`);
    out = o;
    insns = m.cpus[0]!.instructions;
    return insns;
  };
  let measured: Paired | undefined;
  let note = "xmc in process, qemu as a whole process (its MIPS use our instruction count)";
  if (qemu) {
    // The first (untimed) run of each sets the instruction count and the output compared.
    measured = paired(
      sim,
      () => {
        runProcess("qemu-x86_64", [prog, String(rounds)]);
        return insns;
      },
      runs,
      0,
      1e-6,
    );
    const q = spawnSync("qemu-x86_64", [prog, String(rounds)], { encoding: "utf8" });
    if (q.stdout !== out) note += `; WARNING: qemu printed ${q.stdout.trim()}, xmc ${out.trim()}`;
  } else {
    sim();
    note += "; qemu-x86_64 not installed (apt-get install qemu-user): skipped";
  }
  note = `${num(insns / 1e6, 1)} M instructions; ${note}`;
  return {
    key: `cpu-sim vs qemu-x86_64, ${name} (${rounds} rounds)`,
    unit: "MIPS",
    measured,
    reference: "qemu-x86_64 (qemu-user)",
    note,
  };
}

/** Run the experiment. */
export function host(quick: boolean): Experiment {
  const runs = quick ? 3 : 7;
  const rows: HostRow[] = [];
  // Decoder: libc's .text (a slice of it in quick mode).
  const libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  const file = existsSync(libc) ? libc : join(ROOT, "packages/cpu-sim/bench/programs/mixed");
  const elf = parseElf(new Uint8Array(readFileSync(file)));
  const text = elf.sectionByName(".text");
  if (!text) throw new Error(`${file} has no .text`);
  const all = elf.sectionData(text);
  const bytes = quick ? all.subarray(0, Math.min(all.length, 256 * 1024)) : all;
  const warm = quick ? 300 : 1500;
  rows.push(...decoderRows(bytes, Number(text.addr), runs, warm));
  // Whole processes on the same file: xmc disasm vs objdump -d (a small static binary in quick mode).
  const disFile = quick ? join(ROOT, "packages/cpu-sim/bench/programs/mixed") : file;
  const xmc = join(ROOT, "apps/cli/dist/xmc.js");
  const disRuns = quick ? 2 : 3;
  if (hasCmd("objdump") && existsSync(xmc)) {
    const size = statSync(disFile).size / 1e6;
    const measured = paired(
      () => {
        runProcess(process.execPath, [xmc, "disasm", disFile]);
        return size;
      },
      () => {
        runProcess("objdump", ["-d", disFile]);
        return size;
      },
      disRuns,
      0,
    );
    rows.push({
      key: "xmc disasm vs objdump -d (whole process)",
      unit: "MB of file/s",
      measured,
      reference: "GNU objdump -d",
      note: `${disFile.split("/").pop()} (${num(size, 2)} MB), output discarded; includes Node's start-up`,
    });
  } else
    rows.push({
      key: "xmc disasm vs objdump -d (whole process)",
      unit: "MB of file/s",
      measured: undefined,
      reference: "GNU objdump -d",
      note: "skipped: objdump or apps/cli/dist/xmc.js missing",
    });
  // The simulator vs qemu-user.
  const qemu = hasCmd("qemu-x86_64");
  rows.push(simRow("cpubound", quick ? 4 : 100, quick ? 2 : 5, qemu));
  rows.push(simRow("mixed", quick ? 2 : 30, quick ? 2 : 5, qemu));
  // Trace buffer: one writer vs objects in an array + JSON.stringify (the package bench's workloads).
  const events = quick ? 1_000_000 : 10_000_000;
  const naive = quick ? 200_000 : 2_000_000;
  const buffers = TraceBuffers.create({
    schema: SCHEMA,
    cpus: 1,
    subBufferSize: 1 << 16,
    subBufferCount: 16,
    mode: "overwrite",
    clock: { unit: "cycles" },
  });
  const w = asWorkload(buffers.writer(0));
  let t = 0;
  rows.push({
    key: "trace-buffer, 1 writer vs naive",
    unit: "M events/s",
    measured: paired(
      () => {
        t = writeEvents(w, events, t);
        return events;
      },
      () => {
        naiveEvents(naive, 0);
        return naive;
      },
      runs,
      warm,
      1e-6,
    ),
    reference: "objects in an array + JSON.stringify",
    note: "3×u64 event (packages/trace-buffer/bench/workloads.ts)",
  });
  // CTF export vs JSON.stringify of the same events to a file.
  const n = quick ? 200_000 : 2_000_000;
  const tb = TraceBuffers.create({
    schema: SCHEMA,
    cpus: 2,
    subBufferSize: 1 << 16,
    subBufferCount: 2 ** Math.ceil(Math.log2(((n / 2) * 48) / (1 << 16) + 16)),
    mode: "discard",
    clock: { unit: "cycles" },
  });
  for (let cpu = 0; cpu < 2; cpu++) {
    const cw = tb.writer(cpu);
    writeEvents(asWorkload(cw), n / 2, 0);
    cw.close();
  }
  const trace = tb.reader().drain(undefined, true);
  const objects = Array.from({ length: n }, (_, i) => ({ id: 0, ts: i, a: i, b: i + 1, c: 0, cpu: i & 1 }));
  const dir = mkdtempSync(join(tmpdir(), "xmc-bench-ctf-"));
  try {
    rows.push({
      key: "CTF export vs JSON.stringify to a file",
      unit: "MB/s",
      measured: paired(
        () => writeCtf(trace, join(dir, "ctf")).bytes / 1e6,
        () => {
          writeFileSync(join(dir, "naive.json"), JSON.stringify(objects));
          return statSync(join(dir, "naive.json")).size / 1e6;
        },
        runs,
        0,
      ),
      reference: "JSON.stringify + writeFileSync",
      note: `${num(n, 0)} events; MB written per second`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const machine = hostInfo();
  const table: Table = {
    id: "host",
    title: "Host throughput vs the reference tools (same run, same input)",
    unit: `host time; median (min–max) of ${runs} runs (whole processes: ${disRuns}; simulator: ${quick ? 2 : 5}), ours and theirs alternating, ratios run by run; ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`,
    columns: ["comparison", "ratio ours/theirs", "ours", "theirs", "unit", "reference", "input"],
    rows: rows.map((r) => [
      r.key,
      r.measured ? med(r.measured.ratio, 3) : "skipped",
      r.measured ? med(r.measured.ours, 1) : "—",
      r.measured ? med(r.measured.theirs, 1) : "—",
      r.unit,
      r.reference,
      r.note,
    ]),
    notes: [
      `decoder input: ${file} .text, ${num(bytes.length / 1e6, 2)} MB; rates are work per host second (host ns measured with process.hrtime)`,
    ],
  };
  const shown = rows.filter((r) => r.measured !== undefined);
  const chart = barChart({
    title: "Host throughput relative to the reference tool",
    xLabel: "comparison",
    yLabel: "ours / reference (median, log)",
    yLog: true,
    categories: shown.map((r) =>
      r.key
        .replace(/^x86-decode /, "")
        .replace(/^cpu-sim vs qemu-x86_64, (\w+).*/, "sim, $1")
        .replace(/ vs .*?(,|$)/, "$1")
        .replace("instructionLength", "length")
        .replace(" (whole process)", ""),
    ),
    series: [{ name: "ours / reference", values: shown.map((r) => r.measured!.ratio.median) }],
    rule: { value: 1, label: "reference = 1" },
  });
  const find = (p: string): HostRow | undefined => rows.find((r) => r.key.startsWith(p));
  const rr = (p: string): string => {
    const r = find(p);
    if (!r?.measured) return "skipped";
    const m = r.measured.ratio.median;
    return m >= 1 || !p.startsWith("cpu-sim") ? `${num(m, 2)}×` : `1/${num(1 / m, 1)} of`;
  };
  const spreads = shown.map((r) => r.measured!.ratio).map((x) => x.max / x.min);
  const reading =
    `On ${machine.cpu} (${machine.cores} cores, shared): instructionLength runs at ${rr("x86-decode instructionLength")} iced-x86's full decode, ` +
    `our full decode at ${rr("x86-decode decode vs")} and decode + AT&T text at ${rr("x86-decode decode +")} iced's Gas formatter; ` +
    `as whole processes xmc disasm runs at ${rr("xmc disasm")} objdump's speed (Node's start-up included). ` +
    `The simulator runs at ${rr("cpu-sim vs qemu-x86_64, cpubound")} qemu-user's speed on cpubound and ${rr("cpu-sim vs qemu-x86_64, mixed")} it on mixed (fast mode, the default: hot blocks translated to JavaScript, against qemu's translation to host code). ` +
    `The trace buffer writes events ${rr("trace-buffer")} faster than the naive array + JSON.stringify, and CTF export writes ${rr("CTF export")} the bytes per second of JSON.stringify. ` +
    `Other work shared the 2 cores during the run: the widest ratio range (max/min) is ${num(Math.max(...spreads), 1)}×, the narrowest ${num(Math.min(...spreads), 2)}×; the ranges are in the table.`;
  return {
    name: "host",
    title: "5. Host throughput vs the tools people use",
    tables: [table],
    charts: [{ file: "host.svg", title: "Host throughput relative to the reference tool", svg: chart }],
    reading,
    data: {
      machine,
      rows,
    },
  };
}
