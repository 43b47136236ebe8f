/**
 * Acceptance 4: modeled latency and total stall cycles of the INT3 batch protocol (1 and 256
 * sites per batch) vs stop-machine, for 1 to 64 CPUs that keep running through the sites.
 *
 * The machine is cpu-sim's PreciseMachine (default cost profile) driven in modeled time: at
 * every step the actor with the smallest modeled time runs (the patching CPU's clock is the
 * port's: one cycle per store, and after a sync or rendezvous the time the last CPU finished
 * the IPI). Latency is the patching CPU's time from the first step to the last; stall is the
 * cycles other CPUs lost: IPI + sync_core per sync, INT3 round trips taken at the sites, and
 * for stop-machine the time parked (rendezvous IPI, spinning until release, sync_core).
 *   tsx bench/index.ts        (prints a markdown table)
 */
import type * as Sim from "@xmc/cpu-sim";
import { type PatchStats, TextPatcher } from "../src/index.ts";
import { SINGLE_KINDS } from "../test/helpers/configs.ts";
import { buildScenario, loadSim, type SiteKind } from "../test/helpers/precise.ts";

const sim = await loadSim();

function measure(
  cpus: number,
  sites: number,
  protocol: "int3-batch" | "stop-machine",
): { stats: PatchStats; stall: number; steps: number } {
  const kinds: SiteKind[] = Array.from({ length: sites }, (_, i) => SINGLE_KINDS[i % 4]!);
  const sc = buildScenario("bench", {
    cpus,
    kinds,
    sim,
    strict: false,
    iterations: 100_000,
    siteOffset: (i) => (i * 7) % 16,
    forwardOnly: true,
  });
  const { m, port } = sc.bootMachine();
  const patcher = new TextPatcher(port);
  // Let the CPUs run for a while first (about 2,000 cycles each), then patch.
  let stats: PatchStats | undefined;
  const start = 2000;
  port.clock = start;
  m.setAgent(function* () {
    stats = yield* patcher.patch(sc.sites, { protocol });
  });
  const time = (a: Sim.Actor): number =>
    a.kind === "agent" ? port.clock : a.kind === "cpu" ? m.cpus[a.id]!.cycles : Number.POSITIVE_INFINITY;
  let steps = 0;
  while (!stats) {
    const actors = m.runnable();
    let best = 0;
    for (let i = 1; i < actors.length; i++) if (time(actors[i]!) < time(actors[best]!)) best = i;
    m.doStep(actors[best]!);
    if (++steps > 50_000_000) throw new Error("bench did not finish");
  }
  if (m.hazards.length > 0) throw new Error(`hazards: ${m.hazards.length}`);
  const ev = m.profile.events;
  const stall =
    protocol === "int3-batch"
      ? stats.syncStallCycles + stats.int3Hits * ev.int3RoundTrip
      : stats.parkedStallCycles;
  return { stats, stall, steps };
}

const rows: string[] = [];
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
rows.push(
  "| CPUs | INT3, 1 site: latency | stall | INT3, 256 sites: latency | stall | stop-machine, 1 site: latency | stall | stop-machine, 256 sites: latency | stall |",
);
rows.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const n of [1, 2, 4, 8, 16, 32, 64]) {
  const cells: string[] = [String(n)];
  for (const [p, s] of [
    ["int3-batch", 1],
    ["int3-batch", 256],
    ["stop-machine", 1],
    ["stop-machine", 256],
  ] as const) {
    const r = measure(n, s, p);
    cells.push(fmt(r.stats.cycles), fmt(r.stall));
  }
  rows.push(`| ${cells.join(" | ")} |`);
  console.error(`${n} CPUs done`);
}
console.log(`Modeled cycles (cpu-sim default profile), CPUs running through the sites during the patch.\n`);
console.log(rows.join("\n"));
