/**
 * The long local run of acceptance 1: XMC_PATCH_RANDOM (default 1,000,000) random schedules
 * per configuration (plus the bounded-exhaustive part), INT3 batch protocol, strict mode.
 * Appends one JSON line per configuration to `bench/long-check.jsonl` (or argv[2]), and one per
 * finished chunk of XMC_PATCH_CHUNK (default 25,000) schedules to `<out>.chunks`.
 *   [XMC_PATCH_REVERSE=1] tsx bench/long-check.ts [out.jsonl] [filter]
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
/**
 * Finished chunks are kept in `<out>.chunks` (one JSON line each), so that an interrupted run
 * loses at most the chunk it was in; the configuration's line in `out` sums them.
 */
const chunksFile = `${out}.chunks`;
type Chunk = {
  config: string;
  at: number;
  runs: number;
  random: number;
  exhaustive: number;
  complete: boolean;
  hazards: Record<string, number>;
  wrong: number;
  incomplete: number;
  ms: number;
};
const chunksOf = (config: string): Map<number, Chunk> =>
  new Map(
    (existsSync(chunksFile) ? readFileSync(chunksFile, "utf8") : "")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Chunk)
      .filter((c) => c.config === config)
      .map((c) => [c.at, c]),
  );
// Random schedules per chunk (the seed of a chunk is 1 + its first index).
const CHUNK = Number(process.env.XMC_PATCH_CHUNK ?? 25_000);
// XMC_PATCH_REVERSE=1 takes the chunks from the last one down, so that a second process can share
// a configuration's work with one going forwards: each re-reads the chunks file before a chunk
// and skips what the other has done, and the one that finds all chunks done writes the line.
const order = (n: number): number[] => {
  const ats: number[] = [];
  for (let at = 0; at < n; at += CHUNK) ats.push(at);
  return process.env.XMC_PATCH_REVERSE === "1" ? ats.reverse() : ats;
};
for (const make of configs) {
  const sc = make();
  if (!sc.name.includes(filter) || done().has(sc.name)) continue;
  for (const at of order(N)) {
    if (chunksOf(sc.name).has(at)) continue;
    const t0 = performance.now();
    const r = checkProtocol("int3-batch", sc, {
      random: Math.min(CHUNK, N - at),
      seed: 1 + at,
      exhaustive: at === 0 ? 20_000 : 0,
      preemptions: 2,
    });
    const c: Chunk = {
      config: sc.name,
      at,
      runs: r.runs,
      random: r.randomRuns,
      exhaustive: r.exhaustiveRuns,
      complete: r.exhaustiveComplete,
      hazards: r.hazards,
      wrong: r.wrongResults,
      incomplete: r.incomplete,
      ms: Math.round(performance.now() - t0),
    };
    appendFileSync(chunksFile, `${JSON.stringify(c)}\n`);
    console.log(`${sc.name}: chunk at ${at}: hazards ${JSON.stringify(c.hazards)}, wrong ${c.wrong}`);
  }
  // The configuration's line sums its chunks, once all are there (another process may still be
  // in its last one) and only once.
  const have = chunksOf(sc.name);
  if (order(N).some((at) => !have.has(at)) || done().has(sc.name)) continue;
  const total = {
    runs: 0,
    random: 0,
    exhaustive: 0,
    complete: false,
    hazards: {} as Record<string, number>,
    wrong: 0,
    incomplete: 0,
  };
  let ms = 0;
  // (The chunks of this run's N only: the file may hold more, from a run with a larger N.)
  for (const c of order(N).map((at) => have.get(at)!)) {
    total.runs += c.runs;
    total.random += c.random;
    if (c.at === 0) {
      total.exhaustive = c.exhaustive;
      total.complete = c.complete;
    }
    for (const [k, v] of Object.entries(c.hazards)) total.hazards[k] = (total.hazards[k] ?? 0) + v;
    total.wrong += c.wrong;
    total.incomplete += c.incomplete;
    ms += c.ms;
  }
  const line = { config: sc.name, ...total, seconds: Math.round(ms / 1000) };
  appendFileSync(out, `${JSON.stringify(line)}\n`);
  console.log(JSON.stringify(line));
}
