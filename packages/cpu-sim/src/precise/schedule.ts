/**
 * Schedulers for precise mode: a seeded adversarial random scheduler (any runnable actor at
 * every step: instruction-level preemption and random fetch timing), a scripted one (replays a
 * list of choices, e.g. a counterexample), and bounded exhaustive exploration (depth-first over
 * choice sequences, re-running from scratch for each prefix).
 * @module
 */
import type { Actor, PreciseMachine, Scheduler } from "./machine.ts";

/** xorshift32 generator. */
export class XorShift {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x12345678;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.s = s;
    return s;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

/**
 * Adversarial random scheduling. Each run draws its own random priorities for the actors (so
 * that some runs starve the agent, some starve a CPU, some prefetch eagerly and some never),
 * then at each step picks an actor with probability proportional to its priority, with
 * occasional bursts that keep one actor going. Instruction-level preemption and every legal
 * fetch timing are reachable.
 */
export class RandomScheduler implements Scheduler {
  private readonly rng: XorShift;
  private readonly prio = new Map<string, number>();
  private burst = 0;
  private burstKey = "";
  constructor(seed: number) {
    this.rng = new XorShift(seed);
  }
  private weight(a: Actor): number {
    const key = a.kind === "agent" ? "agent" : `${a.kind}${a.id}`;
    let w = this.prio.get(key);
    if (w === undefined) {
      // Priorities spread over two orders of magnitude.
      w = 2 ** ((this.rng.next() / 4294967296) * 7);
      this.prio.set(key, w);
    }
    return w;
  }
  choose(runnable: readonly Actor[]): number {
    const keyOf = (a: Actor) => (a.kind === "agent" ? "agent" : `${a.kind}${a.id}`);
    if (this.burst > 0) {
      const i = runnable.findIndex((a) => keyOf(a) === this.burstKey);
      this.burst--;
      if (i >= 0) return i;
    }
    let total = 0;
    for (const a of runnable) total += this.weight(a);
    let x = (this.rng.next() / 4294967296) * total;
    let i = 0;
    for (; i < runnable.length - 1; i++) {
      x -= this.weight(runnable[i]!);
      if (x < 0) break;
    }
    if (this.rng.below(16) === 0) {
      this.burst = 1 + this.rng.below(24);
      this.burstKey = keyOf(runnable[i]!);
    }
    return i;
  }
}

/** Replays `choices` (indices into the runnable list); past the end, always the first actor. */
export class ScriptedScheduler implements Scheduler {
  private i = 0;
  constructor(private readonly choices: readonly number[]) {}
  choose(runnable: readonly Actor[]): number {
    const c = this.choices[this.i++] ?? 0;
    return c < runnable.length ? c : 0;
  }
}

/**
 * Enumerate choice sequences depth-first: `run(prefix)` must build a fresh machine, run it
 * with a {@link ScriptedScheduler}-like scheduler that follows `prefix` and then records the
 * branching factor at each later step (via {@link RecordingScheduler}), and return what it
 * recorded. Explores every sequence up to `maxRuns` runs; returns the number explored and
 * whether the space was exhausted.
 */
export function exploreExhaustive(
  run: (sched: RecordingScheduler) => void,
  maxRuns: number,
): { runs: number; complete: boolean } {
  const stack: number[][] = [[]];
  let runs = 0;
  while (stack.length > 0) {
    if (runs >= maxRuns) return { runs, complete: false };
    const prefix = stack.pop()!;
    const sched = new RecordingScheduler(prefix);
    run(sched);
    runs++;
    // Branch on every decision after the prefix: siblings of the choices made.
    for (let d = sched.widths.length - 1; d >= prefix.length; d--) {
      const w = sched.widths[d]!;
      for (let alt = 1; alt < w; alt++) {
        if (sched.taken[d] === 0) stack.push([...sched.taken.slice(0, d), alt]);
      }
    }
  }
  return { runs, complete: true };
}

/** Follows a prefix, then always chooses 0, recording each step's number of choices. */
export class RecordingScheduler implements Scheduler {
  readonly widths: number[] = [];
  readonly taken: number[] = [];
  private i = 0;
  constructor(private readonly prefix: readonly number[]) {}
  choose(runnable: readonly Actor[], _m: PreciseMachine): number {
    const c = this.i < this.prefix.length ? Math.min(this.prefix[this.i]!, runnable.length - 1) : 0;
    this.widths.push(runnable.length);
    this.taken.push(c);
    this.i++;
    return c;
  }
}

/**
 * Preemption-bounded exhaustive exploration (iterative context bounding, as in CHESS): the
 * default schedule keeps running the current actor while it can; a *preemption* switches to
 * another runnable actor. All schedules with at most `maxPreemptions` preemptions are run
 * (fewest first), up to `maxRuns`. `run` builds a fresh machine and runs it with the given
 * scheduler. Returns the number of runs and whether the bounded space was exhausted.
 */
export function explorePreemptionBounded(
  run: (sched: PreemptionScheduler) => void,
  maxPreemptions: number,
  maxRuns: number,
): { runs: number; complete: boolean; bound: number } {
  let runs = 0;
  // Work list of deviation lists: [decision index, choice][], sorted by preemption count (BFS).
  let level: [number, number][][] = [[]];
  for (let k = 0; k <= maxPreemptions; k++) {
    const next: [number, number][][] = [];
    for (const devs of level) {
      if (runs >= maxRuns) return { runs, complete: false, bound: k };
      const sched = new PreemptionScheduler(devs);
      run(sched);
      runs++;
      if (k === maxPreemptions) continue;
      const from = devs.length ? devs[devs.length - 1]![0] + 1 : 0;
      for (let d = from; d < sched.widths.length; d++) {
        for (let alt = 0; alt < sched.widths[d]!; alt++) {
          if (alt === sched.defaults[d]) continue;
          next.push([...devs, [d, alt]]);
        }
      }
    }
    level = next;
    if (level.length === 0) return { runs, complete: true, bound: k };
  }
  return { runs, complete: true, bound: maxPreemptions };
}

/** Keeps the current actor running; deviates at the listed decision points. */
export class PreemptionScheduler implements Scheduler {
  readonly widths: number[] = [];
  readonly defaults: number[] = [];
  private i = 0;
  private current = "";
  private readonly devs: Map<number, number>;
  constructor(devs: readonly [number, number][]) {
    this.devs = new Map(devs);
  }
  choose(runnable: readonly Actor[]): number {
    const keyOf = (a: Actor) => (a.kind === "agent" ? "agent" : `${a.kind}${a.id}`);
    let def = runnable.findIndex((a) => keyOf(a) === this.current);
    if (def < 0) def = 0;
    // Prefetches are never the default (they are the eager choice a deviation makes).
    if (runnable[def]!.kind === "prefetch") {
      const k = runnable.findIndex((a) => a.kind !== "prefetch");
      if (k >= 0) def = k;
    }
    this.widths.push(runnable.length);
    this.defaults.push(def);
    const dev = this.devs.get(this.i);
    this.i++;
    const c = dev !== undefined && dev < runnable.length ? dev : def;
    if (runnable[c]!.kind !== "prefetch") this.current = keyOf(runnable[c]!);
    return c;
  }
}
