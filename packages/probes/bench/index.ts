/**
 * Calibration (acceptance 3): modeled cycles per hit of an unoptimized kprobe, a boosted
 * kprobe and a djprobe (optprobe), beside the ratios of Linux's kprobes documentation for
 * x86-64 (Documentation/trace/kprobes.rst, "Probe Overhead": Intel Xeon E5410 2.33 GHz,
 * k = 0.99 µs, b = 0.43 µs, o = 0.06 µs; kretprobes r = 1.07, rb = 0.51, ro = 0.17).
 *
 * Method: the work fixture on one CPU (no scheduling noise), one probe with an empty pre
 * handler at leaf+3 (`lea 0x1(%rdi,%rdi,2),%rax`, a 5-byte instruction: a one-instruction
 * region, always optimizable); cycles per hit = (cycles of the probed run − cycles of the same
 * probe placed on an instruction that never runs) / hits, so that the cost of installing the
 * probe (syncs, quiescence) cancels out. Default cost profile; handler body charged once per hit.
 *
 * Run: `pnpm --filter @xmc/probes bench` (tsx).
 */
import { DEFAULT_PROFILE } from "@xmc/cpu-sim";
import type { ProbeSpec } from "../src/index.ts";
import { functions, session } from "../test/helpers/run.ts";

const ARGV = ["200"];
const leaf = functions("work").get("leaf")!.start + 3;
// emu+0xc: `add $0x3e8,%rax`, 6 bytes, skipped by the JRCXZ before it: never runs.
const idle = functions("work").get("emu")!.start + 0xc;

function cycles(
  spec: Omit<ProbeSpec, "address"> | undefined,
  at: number,
): { cycles: number; hits: number; state: string } {
  const s = session("work", { argv: ARGV, cpus: 1 });
  let probe: { hits: number; state: string } | undefined;
  if (spec) {
    const r = s.probes.register({ ...spec, address: at } as ProbeSpec);
    probe = r.probe;
    s.agent(r.steps, 0);
  }
  const run = s.run();
  if (run.code !== 0) throw new Error(`work exited ${run.code}`);
  return { cycles: run.cycles, hits: probe?.hits ?? 0, state: probe?.state ?? "-" };
}

const pre = () => {};
const kinds: { label: string; spec: Omit<ProbeSpec, "address">; linux: number }[] = [
  {
    label: "kprobe, unoptimized (INT3 + INT3 after the slot copy)",
    spec: { kind: "kprobe", pre, boost: false },
    linux: 0.99,
  },
  { label: "kprobe, boosted (INT3 + jmp back from the slot)", spec: { kind: "kprobe", pre }, linux: 0.43 },
  { label: "djprobe / optprobe (jmp + detour + host call)", spec: { kind: "djprobe", pre }, linux: 0.06 },
];

console.log(
  `profile ${DEFAULT_PROFILE.name}: INT3 round trip ${DEFAULT_PROFILE.events.int3RoundTrip}, host call ${DEFAULT_PROFILE.events.hostCall}, handler ${DEFAULT_PROFILE.events.probeHandler} cycles`,
);
const rows: { label: string; perHit: number; linux: number; state: string; hits: number }[] = [];
for (const k of kinds) {
  const hot = cycles(k.spec, leaf);
  const cold = cycles(k.spec, idle);
  if (cold.hits !== 0) throw new Error("the idle placement was hit");
  rows.push({
    label: k.label,
    perHit: (hot.cycles - cold.cycles) / hot.hits,
    linux: k.linux,
    state: hot.state,
    hits: hot.hits,
  });
}
const base = rows[0]!;
console.log(
  "| probe | state | hits | modeled cycles / hit | ratio | Linux µs | Linux ratio | ours / Linux |",
);
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  const ratio = r.perHit / base.perHit;
  const lr = r.linux / base.linux;
  console.log(
    `| ${r.label} | ${r.state} | ${r.hits} | ${r.perHit.toFixed(1)} | ${ratio.toFixed(3)} | ${r.linux} | ${lr.toFixed(3)} | ${(ratio / lr).toFixed(2)} |`,
  );
}
// kretprobes, for information: entry (boosted kprobe) + the trampoline's INT3.
const kr = cycles({ kind: "kretprobe", ret: pre }, functions("work").get("leaf")!.start);
// (Baseline: a boosted kprobe at the idle instruction, plus the trampoline the kretprobe writes.)
const krIdle = cycles({ kind: "kprobe", pre }, idle);
console.log(
  `kretprobe (boosted entry + trampoline INT3): ${((kr.cycles - krIdle.cycles) / kr.hits).toFixed(1)} cycles/hit, ratio ${((kr.cycles - krIdle.cycles) / kr.hits / base.perHit).toFixed(3)}; Linux r/k = ${(1.07 / 0.99).toFixed(3)} (rb ${(0.51 / 0.99).toFixed(3)}, ro ${(0.17 / 0.99).toFixed(3)})`,
);
