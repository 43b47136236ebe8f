/**
 * `explorePreemptions` on a stand-in run with many decisions: the order of the schedules
 * (fewest preemptions first, decisions in order) and a memory bound. A long schedule (8 CPUs
 * through a 64-site batch) has tens of thousands of decisions; keeping every child of every run
 * for the next level exhausted a 4 GB heap. Here 30,000 decisions of width 8 would make about
 * 200,000 children per run, 2 * 10^8 schedules for the second level of 1,000 runs: the search
 * must keep only what its budget can still run.
 */
import { describe, expect, test } from "vitest";
import { type ActorRef, explorePreemptions, type PreemptionSchedule } from "../src/index.ts";

const DECISIONS = 30_000;
const WIDTH = 8;

const cpus = (n: number): ActorRef[] => Array.from({ length: n }, (_, k) => ({ kind: "cpu", id: k }));

/**
 * A run that meets DECISIONS decisions among WIDTH CPUs; records the preemptions as [decision,
 * CPU] pairs (by default a schedule stays on the CPU it ran last, CPU 0 at first).
 */
function standIn(seen: number[][]): (s: PreemptionSchedule) => void {
  const actors = cpus(WIDTH);
  return (s) => {
    const chosen: number[] = [];
    let last = 0;
    for (let d = 0; d < DECISIONS; d++) {
      const c = s.choose(actors);
      if (c !== last) chosen.push(d, c);
      last = c;
    }
    seen.push(chosen);
  };
}

describe("explorePreemptions", () => {
  test("runs the default, then single preemptions in decision order, within the budget", () => {
    const seen: number[][] = [];
    const r = explorePreemptions(standIn(seen), 2, 1000);
    expect(r).toEqual({ runs: 1000, complete: false });
    expect(seen.length).toBe(1000);
    // First the schedule without a preemption, then decision 0 with each other actor, ...
    expect(seen[0]).toEqual([]);
    for (let j = 1; j < 1000; j++) {
      const d = Math.floor((j - 1) / (WIDTH - 1));
      const alt = 1 + ((j - 1) % (WIDTH - 1));
      expect(seen[j]).toEqual([d, alt]);
    }
  });

  test("a budget that covers every schedule reports the search complete", () => {
    const seen: number[][] = [];
    const small = (s: PreemptionSchedule) => {
      const chosen: number[] = [];
      for (let d = 0; d < 4; d++) chosen.push(s.choose(cpus(3)));
      seen.push(chosen);
    };
    // 1 + 4 * 2 single preemptions + C(4,2) * 2 * 2 double ones = 33 schedules.
    const r = explorePreemptions(small, 2, 1000);
    expect(r).toEqual({ runs: 33, complete: true });
    expect(new Set(seen.map((c) => c.join())).size).toBe(33);
  });
});
