/**
 * Host measurements: the median of several timed runs with their min and max, and the
 * machine they ran on. Host time is in nanoseconds (ARCHITECTURE.md, "Names").
 * @module
 */
import { cpus } from "node:os";

/** The median of `runs` values with the smallest and the largest. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** Median, min and max of `xs` (at least one value). */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error("spread of no values");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}

/** Host nanoseconds that `fn` takes. */
export function timeNs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

/** Two rates measured in alternation, and the spread of their run-by-run ratio. */
export interface Paired {
  readonly ours: Spread;
  readonly theirs: Spread;
  /** ours / theirs, run by run (both faced the same load on a shared machine). */
  readonly ratio: Spread;
}

/**
 * Rates of `ours` and `theirs` (work per second × `scale`, each function returns its work),
 * measured in alternation: both warm up for `warmMs` first, then each run times one of each.
 */
export function paired(
  ours: () => number,
  theirs: () => number,
  runs: number,
  warmMs: number,
  scale = 1,
): Paired {
  for (const fn of [ours, theirs]) {
    const until = Date.now() + warmMs;
    do fn();
    while (Date.now() < until);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++)
    for (const [fn, xs] of [
      [ours, a],
      [theirs, b],
    ] as const) {
      let work = 0;
      const ns = timeNs(() => {
        work = fn();
      });
      xs.push((work / ns) * 1e9 * scale);
    }
  return { ours: spread(a), theirs: spread(b), ratio: spread(a.map((x, i) => x / b[i]!)) };
}

/** The machine host figures were measured on. */
export interface HostInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
}

/** This machine: `os.cpus()[0].model`, core count, Node version. */
export function hostInfo(): HostInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown CPU",
    cores: c.length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}
