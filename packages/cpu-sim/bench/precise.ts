/**
 * Benchmark (not a test): the cost of checking. Schedules explored per second on litmus test
 * L6 (the full INT3 protocol), and instructions per second in precise mode as a ratio to the
 * ordinary mode on the same fixture program.
 *
 *   npx tsx bench/precise.ts    (after the build; uses the bundle)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkLitmus, LinuxProcess, loadLitmus, Machine } from "@xmc/cpu-sim";

const l6 = loadLitmus(join(import.meta.dirname, "../litmus/L06-int3-protocol.json"));
checkLitmus(l6, { random: 500, exhaustive: 0 }); // warm up
let best = 0;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  const r = checkLitmus(l6, { random: 20_000, exhaustive: 0, seed: 1 + i * 20_000 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.max(best, r.runs / s);
}
console.log(`litmus L6 (INT3 protocol, 1 CPU + agent): ${best.toFixed(0)} random schedules/s`);

const prog = join(import.meta.dirname, "../test/fixtures/bin/intwork");
function run(precise: boolean): number {
  const m = new Machine({ cpus: 1, ...(precise ? { precise: { strict: true } } : {}) });
  const p = new LinuxProcess(m, readFileSync(prog), { argv: ["intwork"], stdout: () => {}, seed: 1 });
  const t0 = process.hrtime.bigint();
  p.run();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return m.cpus[0]!.instructions / s;
}
run(false);
run(true);
const fast = Math.max(run(false), run(false));
const prec = Math.max(run(true), run(true));
console.log(
  `intwork fixture: ordinary ${(fast / 1e6).toFixed(1)} M insn/s, precise (strict) ${(prec / 1e6).toFixed(2)} M insn/s, ratio 1/${(fast / prec).toFixed(1)}`,
);
