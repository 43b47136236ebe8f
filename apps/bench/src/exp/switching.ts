/**
 * Experiment 3: switching cost. Arming 1, 16 and 256 sites at once with the INT3 batch protocol
 * vs stop-machine, on machines of 1 to 64 CPUs that keep running through the sites meanwhile.
 * The program is text-patch's checking scenario (scenarioProgram: CPUs loop over the sites;
 * preciseScenario boots it on cpu-sim's PreciseMachine), patched directly with text-patch —
 * the layer markers arm through — and driven in modeled time: at every step the actor with the
 * smallest modeled time runs. Latency is the patching CPU's modeled time from the first step to
 * the last; stall is the cycles the other CPUs lost (IPI + sync_core per sync and INT3 round
 * trips for the INT3 protocol; the time parked for stop-machine), summed over CPUs.
 * @module
 */
import { type Actor, Perm, type PreciseMachine as PM, PreciseMachine } from "@xmc/cpu-sim";
import {
  type PatchStats,
  preciseScenario,
  type SiteKind,
  scenarioProgram,
  TextPatcher,
} from "@xmc/text-patch";
import type { Experiment } from "../result.ts";
import { lineChart } from "../svg.ts";
import { num, type Table } from "../table.ts";

const KINDS: readonly SiteKind[] = ["nop5-jmp32", "nop5-call32", "nop2-jmp8", "jcc32"];
const PROTOCOLS = ["int3-batch", "stop-machine"] as const;

/** One measurement. */
export interface SwitchPoint {
  readonly protocol: (typeof PROTOCOLS)[number];
  readonly cpus: number;
  readonly sites: number;
  /** Modeled cycles of the patching CPU, first step to last. */
  readonly latency: number;
  /** Modeled cycles lost by the running CPUs, summed. */
  readonly stall: number;
  readonly ipis: number;
  readonly int3Hits: number;
}

function measure(cpus: number, sites: number, protocol: (typeof PROTOCOLS)[number]): SwitchPoint {
  const program = scenarioProgram({
    kinds: Array.from({ length: sites }, (_, i) => KINDS[i % KINDS.length]!),
    iterations: 100_000,
    siteOffset: (i) => (i * 7) % 16,
    forwardOnly: true,
  });
  const sc = preciseScenario("switching", program, {
    cpus,
    boot: (p) => {
      const m = new PreciseMachine({ cpus, strict: false, ipiInTrap: false });
      m.load(p.base, p.code, Perm.RX);
      return m;
    },
  });
  const { m, port } = sc.bootMachine();
  const patcher = new TextPatcher(port);
  let stats: PatchStats | undefined;
  // The CPUs run about 2,000 cycles first; then the patching CPU starts.
  port.clock = 2000;
  m.setAgent(function* () {
    stats = yield* patcher.patch(program.sites, { protocol });
  });
  const time = (a: Actor): number =>
    a.kind === "agent" ? port.clock : a.kind === "cpu" ? m.cpus[a.id]!.cycles : Number.POSITIVE_INFINITY;
  for (let steps = 0; !stats; steps++) {
    if (steps > 100_000_000) throw new Error(`switching: ${protocol} on ${cpus} CPUs did not finish`);
    const actors = m.runnable();
    let best = 0;
    for (let i = 1; i < actors.length; i++) if (time(actors[i]!) < time(actors[best]!)) best = i;
    m.doStep(actors[best]!);
  }
  if (m.hazards.length > 0)
    throw new Error(`switching: ${m.hazards.length} hazards (${protocol}, ${cpus} CPUs)`);
  const done = stats as PatchStats;
  const stall =
    protocol === "int3-batch"
      ? done.syncStallCycles + done.int3Hits * (m as PM).profile.events.int3RoundTrip
      : done.parkedStallCycles;
  return { protocol, cpus, sites, latency: done.cycles, stall, ipis: done.ipis, int3Hits: done.int3Hits };
}

/** CPU counts and site counts of the experiment. */
export function switchingGrid(quick: boolean): { cpus: readonly number[]; sites: readonly number[] } {
  return { cpus: quick ? [1, 2, 4] : [1, 2, 4, 8, 16, 32, 64], sites: [1, 16, 256] };
}

/** Run the experiment over the grid. */
export function switching(quick: boolean): Experiment {
  const grid = switchingGrid(quick);
  const points: SwitchPoint[] = [];
  for (const n of grid.cpus)
    for (const s of grid.sites) for (const p of PROTOCOLS) points.push(measure(n, s, p));
  const at = (p: string, n: number, s: number): SwitchPoint =>
    points.find((x) => x.protocol === p && x.cpus === n && x.sites === s)!;
  const label = (p: string): string => (p === "int3-batch" ? "INT3" : "stop-machine");
  const tables: Table[] = grid.sites.map((s) => ({
    id: `switching-${s}`,
    title: `Arming ${s} site${s === 1 ? "" : "s"} in one batch`,
    unit: "modeled cycles (profile default); IPIs: count",
    columns: [
      "CPUs",
      ...PROTOCOLS.flatMap((p) => [`${label(p)} latency`, `${label(p)} stall (sum)`, `${label(p)} IPIs`]),
    ],
    rows: grid.cpus.map((n) => [
      String(n),
      ...PROTOCOLS.flatMap((p) => {
        const x = at(p, n, s);
        return [num(x.latency, 0), num(x.stall, 0), num(x.ipis, 0)];
      }),
    ]),
    notes: [
      "text-patch's scenario program on cpu-sim's PreciseMachine, patched by text-patch directly; every CPU loops through the sites during the patch",
    ],
  }));
  const series = PROTOCOLS.flatMap((p) =>
    grid.sites.map((s) => ({
      name: `${label(p)}, ${s} site${s === 1 ? "" : "s"}`,
      points: grid.cpus.map((n) => [n, at(p, n, s).stall] as const),
    })),
  );
  const chart = lineChart({
    title: "Switching cost: stall summed over CPUs",
    xLabel: "CPUs (log scale)",
    yLabel: "stall, modeled cycles (log)",
    xLog: true,
    yLog: true,
    xTicks: grid.cpus,
    series,
  });
  const top = grid.cpus[grid.cpus.length - 1]!;
  const i1 = at("int3-batch", top, 1);
  const i256 = at("int3-batch", top, 256);
  const s1 = at("stop-machine", top, 1);
  const s256 = at("stop-machine", top, 256);
  const flat = points.every((x) => x.latency === at(x.protocol, grid.cpus[0]!, x.sites).latency);
  const linear = points.every(
    (x) => x.stall === at(x.protocol, grid.cpus[0]!, x.sites).stall * (x.cpus / grid.cpus[0]!),
  );
  const reading =
    `On ${top} CPUs the INT3 protocol arms 1 site in ${num(i1.latency, 0)} cycles and 256 in ${num(i256.latency, 0)} (three syncs per batch whatever its size; ${num(i1.ipis, 0)} IPIs), ` +
    `stalling the CPUs ${num(i1.stall, 0)} and ${num(i256.stall, 0)} cycles in total; stop-machine takes ${num(s1.latency, 0)} and ${num(s256.latency, 0)} cycles ` +
    `(${num(s1.ipis, 0)} IPIs) and stalls ${num(s1.stall, 0)} and ${num(s256.stall, 0)}. ${flat ? "Latency is flat in the CPU count for both (IPIs are delivered in parallel in this model)" : "Latency varies with the CPU count"} and the summed stall grows ${linear ? "linearly" : "with it"}. ` +
    `The model charges stop-machine one IPI round and a parked spin, which makes it look cheap; it leaves out waking a stopper thread per CPU and waiting for each to reach a preemptible point, ` +
    `and stop-machine stops every CPU for the whole patch, where the INT3 protocol lets them keep executing the code being patched.`;
  return {
    name: "switching",
    title: "3. Switching cost: INT3 batch protocol vs stop-machine",
    tables,
    charts: [{ file: "switching.svg", title: "Switching cost: stall summed over CPUs", svg: chart }],
    reading,
    data: { points },
  };
}
