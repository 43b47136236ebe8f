/**
 * Schedules on the command line: a run's scheduler choices (indices into the runnable actors,
 * small numbers) as letters (`a` = 0 … `z` = 25), a run of one letter as the letter and its
 * length (`a40` = forty 0s), trailing 0s dropped (a replay picks 0 past the end). A random
 * schedule is `seed:N`. Both are shell-safe.
 */
import { UsageError } from "../errors.ts";

/** Encode choices (each 0-25). Throws when one is larger. */
export function encodeChoices(choices: readonly number[]): string {
  let end = choices.length;
  while (end > 0 && choices[end - 1] === 0) end--;
  let out = "";
  for (let i = 0; i < end; ) {
    const c = choices[i]!;
    if (c < 0 || c > 25) throw new RangeError(`choice ${c} cannot be encoded (0-25)`);
    let j = i + 1;
    while (j < end && choices[j] === c) j++;
    out += String.fromCharCode(97 + c) + (j - i > 1 ? String(j - i) : "");
    i = j;
  }
  return out === "" ? "-" : out;
}

/** A parsed `--replay` value. */
export type Replay = { seed: number } | { choices: number[] };

/** Parse a `--replay` value (`seed:N`, or encoded choices, `-` for none). */
export function parseReplay(v: string): Replay {
  const seed = /^seed:(\d+)$/.exec(v);
  if (seed) {
    const n = Number(seed[1]);
    if (!Number.isSafeInteger(n))
      throw new UsageError(`xmc check: --replay: seed ${seed[1]!.slice(0, 40)} is too large`);
    return { seed: n };
  }
  if (v === "-") return { choices: [] };
  if (!/^([a-z]\d*)+$/.test(v))
    throw new UsageError(
      `xmc check: --replay "${v.slice(0, 40)}" is not seed:N or a schedule (letters a-z with counts)`,
    );
  // The whole schedule is bounded, not only each run (a few runs of 9,999,999 would fill
  // memory): counted before anything is built.
  const runs = [...v.matchAll(/([a-z])(\d*)/g)].map((m): [number, number] => [
    m[1]!.charCodeAt(0) - 97,
    m[2] === "" ? 1 : Number(m[2]),
  ]);
  if (runs.reduce((sum, [, n]) => sum + n, 0) > 10_000_000)
    throw new UsageError("xmc check: --replay: a schedule longer than 10,000,000 steps");
  const choices: number[] = [];
  for (const [c, n] of runs) for (let k = 0; k < n; k++) choices.push(c);
  return { choices };
}
