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

/**
 * A rate over `runs` timed runs of `fn`, which returns how much work it did (instructions,
 * events, bytes): work per second times `scale` (1e-6 for millions), as a spread. Untimed runs
 * come first for at least `warmMs` host milliseconds (at least one run), so that the JIT has
 * tiered up before anything counts.
 */
export function rate(fn: () => number, runs: number, warmMs: number, scale = 1): Spread {
  const until = Date.now() + warmMs;
  do fn();
  while (Date.now() < until);
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    let work = 0;
    const ns = timeNs(() => {
      work = fn();
    });
    xs.push((work / ns) * 1e9 * scale);
  }
  return spread(xs);
}

/** The spread of `a / b`: median over median, and the extremes (min over max, max over min). */
export function ratio(a: Spread, b: Spread): Spread {
  return {
    median: a.median / b.median,
    min: a.min / b.max,
    max: a.max / b.min,
    runs: Math.min(a.runs, b.runs),
  };
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
