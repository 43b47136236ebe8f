/**
 * Acceptance: a run is a function of the seed. The threaded fixture (4 threads, mutexes,
 * condition variables, atomics) on 4 vCPUs gives identical output, per-CPU instruction and
 * cycle counts and event order for the same seed, and a different event order (but the same
 * output) for other seeds.
 */
import { describe, expect, test } from "vitest";
import { fixture, runSim, type SimResult } from "./helpers.ts";

function summary(r: SimResult) {
  return {
    stdout: r.stdout,
    status: r.status,
    cycles: r.machine.cpus.map((c) => c.cycles),
    instructions: r.machine.cpus.map((c) => c.instructions),
    events: r.machine.events.count,
    hash: r.machine.events.hex(),
  };
}

describe("determinism", () => {
  for (const name of ["threads", "threads-glibc"])
    test(`${name}: same seed, same run; other seeds, other interleavings`, () => {
      const a = runSim(fixture(name), [], { seed: 1 });
      expect(a.status, a.exit.report).toBe(0);
      a.machine.events.keep = undefined;
      const b = runSim(fixture(name), [], { seed: 1 });
      expect(summary(b)).toEqual(summary(a));
      const hashes = new Set([summary(a).hash]);
      for (const seed of [2, 3]) {
        const c = runSim(fixture(name), [], { seed });
        expect(c.stdout).toBe(a.stdout);
        expect(c.status).toBe(0);
        hashes.add(summary(c).hash);
      }
      expect(hashes.size).toBe(3);
    });

  test("the threads run on several CPUs and block on futexes", () => {
    const r = runSim(fixture("threads"), [], { seed: 5 });
    const busy = r.machine.cpus.filter((c) => c.instructions > 0).length;
    expect(busy).toBe(4);
    expect(r.proc.sched.idleCycles.some((x) => x > 0)).toBe(true);
  });

  test("a single-threaded program gives the same cycles whatever the seed", () => {
    const a = runSim(fixture("intwork"), [], { seed: 1, cpus: 2 });
    const b = runSim(fixture("intwork"), [], { seed: 99, cpus: 2 });
    expect(b.machine.cpus.map((c) => c.cycles)).toEqual(a.machine.cpus.map((c) => c.cycles));
  });
});
