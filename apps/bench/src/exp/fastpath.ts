/**
 * Experiment 1: fast-path cost per call in modeled cycles (profile default). packages/markers'
 * hot fixture (hot.c: a small function with one site, called N times) in each build, disabled
 * and enabled, and with probes on the same function. The cost per call is the slope over two
 * call counts (N and 2N) minus the uninstrumented build's slope, so that start-up work (arming,
 * a djprobe's optimization) does not count, and a disabled site's figure is exactly its
 * instructions' cost — the figure packages/markers/test/cost.test.ts asserts.
 * @module
 */
import { join } from "node:path";
import { loadProbes, type ProbeLike, type ProbeSpecLike } from "../probes-adapter.ts";
import { type Experiment, PENDING } from "../result.ts";
import { load, MARKER_BIN, type SimRun } from "../sim.ts";
import { barChart } from "../svg.ts";
import { num, type Table } from "../table.ts";

/** One configuration's figures. */
export interface FastRow {
  readonly key: string;
  readonly group: "none" | "disabled" | "enabled";
  /** Modeled cycles per call over the uninstrumented build (undefined: pending). */
  readonly cycles?: number;
  /** Extra instructions per call. */
  readonly instructions?: number;
  /** Handler calls per call of the hot function (1 when every call hit). */
  readonly hitsPerCall?: number;
  readonly note: string;
}

interface Measured {
  cycles: number;
  instructions: number;
  hits: number;
}

type Setup = (run: SimRun, n: number) => (() => number) | undefined;

function measure(bin: string, n: number, setup: Setup | undefined, expectOut: string | undefined): Measured {
  const run = load(join(MARKER_BIN, bin), "hot", [String(n)]);
  const hits = setup?.(run, n);
  const r = run.run();
  if (expectOut !== undefined && r.out !== expectOut.replace(/^\d+/, String(n)))
    throw new Error(`${bin} with ${n} calls printed ${r.out.trim()}`);
  return { cycles: r.cycles, instructions: r.instructions, hits: hits ? hits() : 0 };
}

/** Slope per call over N and 2N calls. */
function slope(bin: string, n: number, setup?: Setup, outs?: Map<number, string>): Measured {
  const a = measure(bin, n, setup, outs?.get(n));
  const b = measure(bin, 2 * n, setup, outs?.get(2 * n));
  return {
    cycles: (b.cycles - a.cycles) / n,
    instructions: (b.instructions - a.instructions) / n,
    hits: (b.hits - a.hits) / n,
  };
}

/** Arm `pattern` with a counting probe that charges one handler body (the profile's figure). */
function armMarker(pattern: string): Setup {
  return (run) => {
    let calls = 0;
    run.markers.connect(pattern, "%lu %lu", (e) => {
      calls++;
      run.port.cpu(e.cpu).charge(run.port.probeHandlerCycles);
    });
    run.port.runAgent(run.markers.arm(pattern), 0);
    return () => calls;
  };
}

/** Run the fast-path experiment with `n` and `2n` calls. */
export async function fastpath(quick: boolean): Promise<Experiment> {
  const n = quick ? 2000 : 20000;
  const off = slope("hot-off", n);
  const outs = new Map<number, string>();
  for (const k of [n, 2 * n]) outs.set(k, load(join(MARKER_BIN, "hot-off"), "hot", [String(k)]).run().out);
  const rows: FastRow[] = [
    {
      key: "no instrumentation",
      group: "none",
      cycles: 0,
      instructions: 0,
      note: `hot-off: markers compiled out; ${num(off.cycles)} cycles and ${num(off.instructions)} instructions per loop iteration`,
    },
  ];
  const diff = (m: Measured): { cycles: number; instructions: number; hitsPerCall: number } => ({
    cycles: m.cycles - off.cycles,
    instructions: m.instructions - off.instructions,
    hitsPerCall: m.hits,
  });
  const disabled: [string, string, string][] = [
    ["disabled nop5 marker", "hot-nop5", "one 5-byte NOP"],
    ["disabled jmp2 marker", "hot-jmp2", "a taken 2-byte jmp over 3 NOP bytes"],
    ["disabled call marker (flag check)", "hot-call", "load the flag, test, not-taken jne"],
    ["disabled USDT probe", "hot-usdt", "one 1-byte NOP"],
    ["disabled USDT probe + semaphore", "hot-usdt-sem", "cmpw on the semaphore, taken je"],
  ];
  for (const [key, bin, note] of disabled)
    rows.push({ key, group: "disabled", ...diff(slope(bin, n, undefined, outs)), note });
  const enabled: [string, string, string][] = [
    ["enabled nop5 marker: stub call", "hot-nop5", "jmp to the stub, VMCALL, handler, jmp back"],
    ["enabled jmp2 marker: stub call", "hot-jmp2", "the jmp2 site patched to jmp stub"],
    ["enabled call marker: flag set", "hot-call", "flag load, taken branch, argument setup, VMCALL"],
    ["enabled USDT probe (INT3)", "hot-usdt", "INT3 trap round trip at the 1-byte NOP"],
  ];
  for (const [key, bin, note] of enabled)
    rows.push({ key, group: "enabled", ...diff(slope(bin, n, armMarker("hot:tick"), outs)), note });

  // Probes, when @xmc/probes is usable.
  const loaded = await loadProbes();
  const probeRows: [string, string, ProbeSpecLike, string][] = [
    [
      "kprobe, unoptimized",
      "hot-off",
      { kind: "kprobe", symbol: "step", pre: () => {}, boost: false },
      "INT3, handler, single-step of the copy",
    ],
    [
      "kprobe, boosted",
      "hot-off",
      { kind: "kprobe", symbol: "step", pre: () => {} },
      "INT3, handler, copy + jmp back",
    ],
    [
      "kretprobe",
      "hot-off",
      { kind: "kretprobe", symbol: "step", ret: () => {} },
      "entry kprobe + return trampoline INT3, handler at return",
    ],
    [
      "djprobe",
      "hot-off",
      { kind: "djprobe", symbol: "step", pre: () => {} },
      "jmp to a detour buffer, handler",
    ],
    [
      "djprobe on a nop5 marker",
      "hot-nop5",
      { kind: "djprobe", marker: "hot:tick", pre: () => {} },
      "jmp to a detour at the marker's NOP, handler",
    ],
  ];
  let pendingWhy = "";
  for (const [key, bin, spec, note] of probeRows) {
    if ("pending" in loaded) {
      pendingWhy = loaded.pending;
      rows.push({ key, group: "enabled", note: `${PENDING}: ${loaded.pending}` });
      continue;
    }
    const Probes = loaded.Probes;
    let last: ProbeLike | undefined;
    try {
      const m = slope(
        bin,
        n,
        (run) => {
          const probes = new Probes(run.port, { elf: run.elf });
          const { probe, steps } = probes.register({ ...spec });
          run.port.runAgent(steps, 0);
          last = probe;
          return () => (spec.kind === "kretprobe" ? probe.returns : probe.hits);
        },
        outs,
      );
      const state = last
        ? `; final state ${last.state}${last.refusal ? ` (refused: ${String(last.refusal)})` : ""}`
        : "";
      rows.push({ key, group: "enabled", ...diff(m), note: `${note}${state}` });
    } catch (e) {
      pendingWhy = (e as Error).message.split("\n")[0] ?? "";
      rows.push({ key, group: "enabled", note: `${PENDING}: ${pendingWhy}` });
    }
  }

  const table: Table = {
    id: "fastpath",
    title: "Fast-path cost per call of the hot function",
    unit: "modeled cycles per call over no instrumentation (profile default, 1 CPU)",
    columns: [
      "configuration",
      "cycles per call",
      "instructions per call",
      "handler calls per call",
      "what runs",
    ],
    rows: rows.map((r) => [
      r.key,
      r.cycles === undefined ? "pending" : num(r.cycles, 3),
      r.instructions === undefined ? "pending" : num(r.instructions, 2),
      r.group === "enabled" && r.hitsPerCall !== undefined ? num(r.hitsPerCall, 3) : "",
      r.note,
    ]),
    notes: [
      `slope over ${num(n, 0)} and ${num(2 * n, 0)} calls of step() in packages/markers/test/fixtures/bin/hot-*; every enabled row runs one handler per call, charged ${"50"} cycles (events.probeHandler); ${"pending" in loaded ? `probe rows ${PENDING} (${loaded.pending})` : "probe rows measured with @xmc/probes' bundle"}`,
    ],
  };
  const short = (k: string): string =>
    k
      .replace(/^(disabled|enabled) /, "")
      .replace(/ marker.*| probe/g, "")
      .replace("USDT + semaphore", "USDT+sem")
      .replace("kprobe, ", "kp ")
      .replace("unoptimized", "unopt")
      .replace("djprobe on a nop5", "dj nop5");
  const shown = rows.filter((r) => r.group !== "none");
  const chart = barChart({
    title: "Cost per call over no instrumentation",
    xLabel: "configuration",
    yLabel: "modeled cycles per call (log)",
    yLog: true,
    categories: shown.map((r) => short(r.key)),
    series: (["disabled", "enabled"] as const).map((g) => ({
      name: g,
      values: shown.map((r) => (r.group === g && r.cycles !== undefined && r.cycles > 0 ? r.cycles : null)),
    })),
  });
  const get = (k: string): number | undefined => rows.find((r) => r.key === k)?.cycles;
  const nop5 = get("disabled nop5 marker");
  const call = get("disabled call marker (flag check)");
  const stub = get("enabled nop5 marker: stub call");
  const kp = get("kprobe, unoptimized");
  const dj = get("djprobe");
  const reading = [
    `A disabled nop5 marker costs ${num(nop5 ?? Number.NaN, 3)} cycles per call — its one NOP, the figure packages/markers/test/cost.test.ts asserts — against ${num(off.cycles)} cycles for the whole uninstrumented loop iteration (${num(((nop5 ?? 0) / off.cycles) * 100, 1)}%).`,
    `The flag-checked call variant costs ${num(call ?? Number.NaN, 3)} (load, test, branch: ${num((call ?? 0) / (nop5 ?? 1), 1)}× the NOP), a semaphore-guarded USDT probe ${num(get("disabled USDT probe + semaphore") ?? Number.NaN, 3)}.`,
    `Enabled, a marker's stub call costs ${num(stub ?? Number.NaN)} cycles per hit including the handler body;`,
    kp !== undefined && dj !== undefined
      ? `an unoptimized kprobe costs ${num(kp)}, a boosted one ${num(get("kprobe, boosted") ?? Number.NaN)}, a kretprobe ${num(get("kretprobe") ?? Number.NaN)} and a djprobe ${num(dj)} (${num(kp / dj, 1)}× cheaper than the unoptimized kprobe: a jump instead of two traps); a djprobe on the nop5 marker costs ${num(get("djprobe on a nop5 marker") ?? Number.NaN)}, against ${num(stub ?? Number.NaN)} for the marker's own stub (the detour saves and restores every register).`
      : `the probe rows are ${PENDING} (${pendingWhy}).`,
  ].join(" ");
  return {
    name: "fastpath",
    title: "1. Fast-path cost per call",
    tables: [table],
    charts: [{ file: "fastpath.svg", title: "Cost per call over no instrumentation", svg: chart }],
    reading,
    data: { calls: n, offCyclesPerCall: off.cycles, offInstructionsPerCall: off.instructions, rows },
  };
}
