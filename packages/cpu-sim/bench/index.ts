/**
 * Benchmark (not a test): the interpreter's speed on CPU-bound programs, side by side in the
 * same run with qemu-user (`qemu-x86_64`, Debian package qemu-user) on the same binary, and
 * with the native run for reference. MIPS for qemu and native use the instruction count our
 * simulator retired for the same program and arguments (same binary, same work).
 *
 * Programs: `cpubound` (integer loops: xorshift, insertion sort, checksum) and `mixed` (calls,
 * memory and strings: a switch-dispatched bytecode loop, snprintf/strtol, qsort with a
 * comparator, a malloc'd hash table, recursion).
 *
 *   npx pnpm@12.4.2 --filter @xmc/cpu-sim bench [CPUBOUND_ROUNDS [MIXED_ROUNDS]]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
// The built bundle (self-reference through the package exports), as users run it.
import { LinuxProcess, Machine } from "@xmc/cpu-sim";

const programs: [string, string][] = [
  ["cpubound", process.argv[2] ?? "200"],
  ["mixed", process.argv[3] ?? "30"],
];

function simRun(prog: string, rounds: string): { ms: number; insns: number; out: string; cycles: number } {
  const m = new Machine({ cpus: 1 });
  let out = "";
  const p = new LinuxProcess(m, readFileSync(prog), {
    argv: [prog, rounds],
    stdout: (d: Uint8Array) => {
      out += Buffer.from(d).toString();
    },
  });
  const t0 = process.hrtime.bigint();
  const r = p.run();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.signal) throw new Error(r.report ?? `signal ${r.signal}`);
  const c = m.cpus[0]!;
  return { ms, insns: c.instructions, out, cycles: c.cycles };
}

function timeCmd(cmd: string, args: string[]): { ms: number; out: string } {
  let best = Number.POSITIVE_INFINITY;
  let out = "";
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    out = r.stdout;
    best = Math.min(best, ms);
  }
  return { ms: best, out };
}

let qemuOk = true;
try {
  execFileSync("sh", ["-c", "command -v qemu-x86_64"], { stdio: "ignore" });
} catch {
  qemuOk = false;
}
if (!qemuOk) console.log("qemu-x86_64 not found (apt-get install qemu-user) — no ratio");

for (const [name, rounds] of programs) {
  const prog = join(import.meta.dirname, "programs", name);
  const sim = simRun(prog, rounds);
  const sim2 = simRun(prog, rounds);
  const s = sim2.ms < sim.ms ? sim2 : sim;
  const mips = s.insns / s.ms / 1000;
  console.log(
    `program: ${name} ${rounds} rounds; ${s.insns} instructions; ${s.cycles.toFixed(0)} modeled cycles (profile default)`,
  );
  console.log(`  xmc interpreter: ${s.ms.toFixed(0)} ms, ${mips.toFixed(1)} MIPS`);
  const native = timeCmd(prog, [rounds]);
  console.log(
    `  native:          ${native.ms.toFixed(0)} ms, ${(s.insns / native.ms / 1000).toFixed(0)} MIPS (incl. process start)`,
  );
  if (qemuOk) {
    const q = timeCmd("qemu-x86_64", [prog, rounds]);
    const qm = s.insns / q.ms / 1000;
    console.log(`  qemu-user:       ${q.ms.toFixed(0)} ms, ${qm.toFixed(0)} MIPS (incl. process start)`);
    console.log(`  ratio xmc/qemu-user: 1/${(qm / mips).toFixed(1)} (target: at least 1/25)`);
    if (q.out !== s.out)
      console.log(`  WARNING: outputs differ: qemu ${q.out.trim()} vs xmc ${s.out.trim()}`);
  }
  if (native.out !== s.out)
    console.log(`  WARNING: outputs differ: native ${native.out.trim()} vs xmc ${s.out.trim()}`);
}
