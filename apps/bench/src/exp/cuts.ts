/**
 * Experiment 2: death by a million cuts. apps/bench/fixtures/src/cuts.c: a hot function of 64
 * rounds of work with 1 to 64 disabled markers between them (each variant built by
 * fixtures/build.sh), called N times; overhead in percent of the uninstrumented build's
 * modeled cycles per call (the slope over N and 2N calls) (profile default), per variant, on one chart.
 * @module
 */
import { join } from "node:path";
import type { Experiment } from "../result.ts";
import { BENCH_BIN, load } from "../sim.ts";
import { lineChart } from "../svg.ts";
import { num, type Table } from "../table.ts";

/** Marker counts built by fixtures/build.sh. */
export const CUTS: readonly number[] = [1, 2, 4, 8, 16, 32, 64];
/** Variants built by fixtures/build.sh, with their legend names. */
export const CUT_VARIANTS: readonly (readonly [string, string])[] = [
  ["nop5", "nop5 marker"],
  ["jmp2", "jmp2 marker"],
  ["call", "call marker (flag check)"],
  ["usdt", "USDT probe"],
];

/** Modeled cycles per call: the slope over `calls` and `2 * calls` calls (start-up does not count). */
function cycles(bin: string, calls: number): { cycles: number; out: string } {
  const a = load(join(BENCH_BIN, bin), "cuts", [String(calls)]).run();
  const b = load(join(BENCH_BIN, bin), "cuts", [String(2 * calls)]).run();
  return { cycles: (b.cycles - a.cycles) / calls, out: a.out + b.out };
}

/** Run the experiment: every variant at every marker count. */
export function cuts(quick: boolean): Experiment {
  const calls = quick ? 300 : 3000;
  const base = cycles("cuts-off", calls);
  const overhead = new Map<string, number[]>();
  for (const [v] of CUT_VARIANTS) {
    const xs: number[] = [];
    for (const k of CUTS) {
      const r = cycles(`cuts-${v}-${k}`, calls);
      if (r.out !== base.out)
        throw new Error(`cuts-${v}-${k} printed ${r.out.trim()}, not ${base.out.trim()}`);
      xs.push(((r.cycles - base.cycles) / base.cycles) * 100);
    }
    overhead.set(v, xs);
  }
  const perCall = base.cycles;
  const table: Table = {
    id: "cuts",
    title: "Overhead of N disabled markers on the hot path",
    unit: "% of the uninstrumented build's modeled cycles (profile default, 1 CPU)",
    columns: ["markers on the path", ...CUT_VARIANTS.map(([, name]) => name)],
    rows: CUTS.map((k, i) => [String(k), ...CUT_VARIANTS.map(([v]) => `${num(overhead.get(v)![i]!, 2)}%`)]),
    notes: [
      `per call: the slope over ${num(calls, 0)} and ${num(2 * calls, 0)} calls; uninstrumented: ${num(perCall, 2)} cycles per call (64 rounds of multiply, shift, add); fixtures apps/bench/fixtures/bin/cuts-*`,
    ],
  };
  const chart = lineChart({
    title: "Death by a million cuts: overhead vs disabled markers",
    xLabel: "disabled markers on the hot path (log scale)",
    yLabel: "overhead, % of modeled cycles",
    xLog: true,
    xTicks: CUTS,
    series: CUT_VARIANTS.map(([v, name]) => ({
      name,
      points: CUTS.map((k, i) => [k, overhead.get(v)![i]!] as const),
    })),
  });
  const at64 = (v: string): number => overhead.get(v)![CUTS.length - 1]!;
  const reading =
    `With 64 disabled markers on a path of ${num(perCall, 0)} modeled cycles per call, nop5 markers add ${num(at64("nop5"), 1)}%, ` +
    `USDT probes ${num(at64("usdt"), 1)}%, jmp2 markers ${num(at64("jmp2"), 1)}% and flag-checked call markers ${num(at64("call"), 1)}%. ` +
    `Per marker that is ${CUT_VARIANTS.map(([v, name]) => `${num((at64(v) * perCall) / 100 / 64, 3)} cycles (${name})`).join(", ")}: ` +
    `overhead grows linearly with the number of markers and what one marker costs when off sets the slope, which is why the fast path should hold a NOP. ` +
    `The per-call figures include whatever the compiler does around the sites.`;
  return {
    name: "cuts",
    title: "2. Death by a million cuts",
    tables: [table],
    charts: [
      { file: "cuts.svg", title: "Death by a million cuts: overhead vs disabled markers", svg: chart },
    ],
    reading,
    data: { calls, baseCyclesPerCall: base.cycles, counts: CUTS, overhead: Object.fromEntries(overhead) },
  };
}
