/**
 * Acceptance 2: seeded random probe placements over the instructions of the fixtures'
 * functions (kprobe and djprobe, some kprobes with post handlers, some addresses off an
 * instruction boundary), many per run. For every run: output and exit status unchanged; every
 * probe's hits equal the number of times the interpreter executed its instruction in an
 * unprobed run (blocks off, the uop's execution count); every refusal — at registration or by
 * the optimizer — names a known rule. A sample runs in strict precise mode: no
 * `branch-into-patch` or `mid-instruction` hazard (none at all, in fact).
 *
 * CI: ≥ 10,000 placements. `XMC_PROBE_PLACEMENTS=n` sets the total for a longer local run.
 */
import { describe, expect, test } from "vitest";
import { type Probe, ProbeError } from "../src/index.ts";
import { instructionStarts, type Placement, probedRun, reference } from "./helpers/placements.ts";
import { functions, session } from "./helpers/run.ts";

const TOTAL = Number(process.env.XMC_PROBE_PLACEMENTS ?? 10_200);
const PER_RUN = 300;

/** The fixtures, their arguments and the functions placements go into. */
const PROGRAMS: { name: string; argv: string[]; fns: () => string[] }[] = [
  // 4 threads: only the fixture's own functions (libc's locks and joins depend on the interleaving).
  {
    name: "work",
    argv: ["4"],
    fns: () => ["emu", "leaf", "fib", "classify", "hash", "apply", "mix", "step", "worker", "main"],
  },
  // Single-threaded: every function of the program, libc included.
  { name: "intwork", argv: [], fns: () => [...functions("intwork").keys()] },
  { name: "qsortstr", argv: [], fns: () => [...functions("qsortstr").keys()] },
];

describe("random placements", () => {
  const all: Placement[] = [];
  const runs = Math.ceil(TOTAL / PER_RUN);
  test(`${TOTAL} placements in ${runs} runs: output, exit status and hit counts exact; refusals named`, () => {
    for (let run = 0; run < runs; run++) {
      const prog = PROGRAMS[run % PROGRAMS.length]!;
      const starts = instructionStarts(prog.name, prog.fns());
      const v = probedRun(prog.name, prog.argv, starts, PER_RUN, 1000 + run);
      const where = `${prog.name} run ${run}`;
      expect(v.outputSame, where).toBe(true);
      expect(v.codeSame, where).toBe(true);
      expect(v.wrongHits, where).toEqual([]);
      expect(v.unjustified, where).toEqual([]);
      all.push(...v.placements);
    }
    expect(all.length).toBeGreaterThanOrEqual(TOTAL);
    const by: Record<string, number> = {};
    for (const p of all) {
      const k = p.rule ?? (p.kind === "djprobe" ? "djprobe optimized" : `kprobe${p.post ? " (post)" : ""}`);
      by[k] = (by[k] ?? 0) + 1;
    }
    const hits = all.reduce((a, p) => a + (p.hits ?? 0), 0);
    console.log(`${all.length} placements, ${hits} hits, outcomes:`, by);
    // Both kinds were really exercised.
    expect(by["djprobe optimized"] ?? 0).toBeGreaterThan(TOTAL / 10);
    expect(by.kprobe ?? 0).toBeGreaterThan(TOTAL / 10);
    expect(hits).toBeGreaterThan(100_000);
  });

  test("a sample in strict precise mode: no branch-into-patch, no mid-instruction, no hazard at all", () => {
    let optimized = 0;
    for (const [i, prog] of PROGRAMS.entries()) {
      const starts = instructionStarts(prog.name, prog.fns());
      const argv = prog.name === "work" ? ["1"] : prog.argv;
      const v = probedRun(prog.name, argv, starts, 60, 77 + i, { precise: true });
      expect(v.outputSame, prog.name).toBe(true);
      expect(v.wrongHits, prog.name).toEqual([]);
      expect(v.unjustified, prog.name).toEqual([]);
      expect(v.hazards, prog.name).toEqual({});
      optimized += v.placements.filter((p) => p.state === "optimized").length;
    }
    expect(optimized).toBeGreaterThan(10);
  });
});

describe("kretprobes on every function", () => {
  for (const name of ["intwork", "qsortstr"])
    test(`${name}: a kretprobe at every function's entry (libc included): output and entry counts exact`, () => {
      const ref = reference(name, []);
      const s = session(name);
      const probes: { p: Probe; start: number; fn: string }[] = [];
      for (const [fn, f] of functions(name)) {
        if (ref.preMain.has(f.start)) continue;
        try {
          const { probe, steps } = s.probes.register({ kind: "kretprobe", address: f.start, ret: () => {} });
          s.agent(steps, 0);
          probes.push({ p: probe, start: f.start, fn });
        } catch (e) {
          if (!(e instanceof ProbeError)) throw e;
        }
      }
      for (const c of s.machine.cpus) c.cycles = 1_000_000;
      const r = s.run();
      expect(r.out).toBe(ref.out);
      expect(r.code).toBe(ref.code);
      let returns = 0;
      for (const { p, start, fn } of probes) {
        expect(p.hits, fn).toBe(ref.count(start));
        expect(p.returns + p.missed + p.active, fn).toBeLessThanOrEqual(p.hits);
        returns += p.returns;
      }
      const hits = probes.reduce((a, x) => a + x.p.hits, 0);
      console.log(`${name}: ${probes.length} kretprobes, ${hits} entries, ${returns} returns`);
      expect(probes.length).toBeGreaterThan(30);
      expect(returns).toBeGreaterThan(1000);
    });
});
