/**
 * The long local run of acceptance 1: XMC_PATCH_RANDOM (default 1,000,000) random schedules
 * per configuration (plus the bounded-exhaustive part), INT3 batch protocol, strict mode.
 * Appends one JSON line per configuration to `bench/long-check.jsonl` (or argv[2]).
 *   tsx bench/long-check.ts [out.jsonl] [filter]
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkProtocol } from "../src/index.ts";
import { batch64, CPU_COUNTS, SINGLE_KINDS, single } from "../test/helpers/configs.ts";
import { loadSim } from "../test/helpers/precise.ts";

const sim = await loadSim();
const N = Number(process.env.XMC_PATCH_RANDOM ?? 1_000_000);
const out = process.argv[2] ?? join(import.meta.dirname, "long-check.jsonl");
const filter = process.argv[3] ?? "";
/**
 * Configurations already recorded in `out` are skipped (a long run can be resumed, and runs
 * with different filters can share the file): read again before each configuration.
 */
const done = (): Set<string> =>
  new Set(
    (existsSync(out) ? readFileSync(out, "utf8") : "")
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { config: string }).config),
  );
const configs = [
  ...SINGLE_KINDS.flatMap((k) => CPU_COUNTS.map((c) => () => single(sim, k, c))),
  ...CPU_COUNTS.map((c) => () => batch64(sim, c)),
];
for (const make of configs) {
  const sc = make();
  if (!sc.name.includes(filter) || done().has(sc.name)) continue;
  const t0 = performance.now();
  // In chunks, so that progress is visible and a long run can be cut short.
  const chunk = 100_000;
  const total = {
    runs: 0,
    random: 0,
    exhaustive: 0,
    complete: false,
    hazards: {} as Record<string, number>,
    wrong: 0,
    incomplete: 0,
  };
  for (let at = 0; at < N; at += chunk) {
    const r = checkProtocol("int3-batch", sc, {
      random: Math.min(chunk, N - at),
      seed: 1 + at,
      exhaustive: at === 0 ? 20_000 : 0,
      preemptions: 2,
    });
    total.runs += r.runs;
    total.random += r.randomRuns;
    if (at === 0) {
      total.exhaustive = r.exhaustiveRuns;
      total.complete = r.exhaustiveComplete;
    }
    for (const [k, v] of Object.entries(r.hazards)) total.hazards[k] = (total.hazards[k] ?? 0) + v;
    total.wrong += r.wrongResults;
    total.incomplete += r.incomplete;
    console.log(
      `${sc.name}: ${total.random} random, hazards ${JSON.stringify(total.hazards)}, wrong ${total.wrong}`,
    );
  }
  const line = { config: sc.name, ...total, seconds: Math.round((performance.now() - t0) / 1000) };
  appendFileSync(out, `${JSON.stringify(line)}\n`);
  console.log(JSON.stringify(line));
}
