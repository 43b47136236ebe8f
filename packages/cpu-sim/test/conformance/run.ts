/**
 * Build the native harness, generate cases, run them natively and on the simulator, compare.
 * Used by conformance.test.ts; also runnable by hand:
 * `npx tsx test/conformance/run.ts [seed] [cases] [label-filter]`.
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { families, generate } from "./gen.ts";
import { type ReplayReport, replay } from "./replay.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** Compile harness.c with gcc -O1 into a fresh temporary directory; returns the binary's path. */
export function buildHarness(): { exe: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "xmc-conformance-"));
  const exe = join(dir, "harness");
  execFileSync("gcc", ["-O1", "-Wall", "-Werror", "-o", exe, join(HERE, "harness.c")], { stdio: "pipe" });
  return { exe, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A full conformance run: `total` cases (about) from `seed`, optionally only labels containing `filter`. */
export function runConformance(
  seed: number,
  total: number,
  exe: string,
  filter?: string,
  mode: "fast" | "interp" = "interp",
): ReplayReport & { nativeMs: number; simMs: number; genMs: number } {
  const t0 = performance.now();
  const { writer } = generate(seed, total, filter);
  const stream = writer.stream();
  const t1 = performance.now();
  const r = spawnSync(exe, [], { input: stream, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`harness failed (${r.status ?? r.signal}): ${r.stderr.toString()}`);
  const t2 = performance.now();
  const rep = replay(
    stream,
    writer.offsets,
    writer.undef,
    writer.labels,
    new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength),
    40,
    mode,
  );
  const t3 = performance.now();
  return { ...rep, genMs: t1 - t0, nativeMs: t2 - t1, simMs: t3 - t2 };
}

/** One line per decoded form: cases and failures. */
export function formatCounts(rep: ReplayReport): string {
  const rows = [...rep.perForm.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  return rows
    .map(
      ([f, n]) =>
        `${f.padEnd(24)} ${String(n).padStart(6)}${rep.failedPerForm.get(f) ? `  FAILED ${rep.failedPerForm.get(f)}` : ""}`,
    )
    .join("\n");
}

void families;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const seed = Number(process.argv[2] ?? 1);
  const total = Number(process.argv[3] ?? 20000);
  const filter = process.argv[4];
  const h = buildHarness();
  try {
    const rep = runConformance(seed, total, h.exe, filter);
    console.log(formatCounts(rep));
    console.log(rep.failures.join("\n"));
    console.log(
      `cases ${rep.cases} passed ${rep.passed} forms ${rep.perForm.size} faults ${JSON.stringify([...rep.faults])} gen ${rep.genMs.toFixed(0)} ms native ${rep.nativeMs.toFixed(0)} ms sim ${rep.simMs.toFixed(0)} ms`,
    );
  } finally {
    h.cleanup();
  }
}
