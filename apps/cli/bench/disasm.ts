/**
 * Benchmark (not a test): `xmc disasm` vs `objdump -d` on the same file, wall time of each
 * whole command, printed as a ratio. `node bench/disasm.ts [FILE]` after the build.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const file = process.argv[2] ?? "/usr/lib/x86_64-linux-gnu/libc.so.6";
const xmc = join(import.meta.dirname, "../dist/xmc.js");
function time(cmd: string, args: string[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`${cmd} failed`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}
const ours = time("node", [xmc, "disasm", file]);
const theirs = time("objdump", ["-d", file]);
console.log(
  `${file}: xmc disasm ${ours.toFixed(0)} ms, objdump -d ${theirs.toFixed(0)} ms, ratio ${(ours / theirs).toFixed(2)}x objdump's time`,
);
