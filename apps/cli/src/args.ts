/**
 * A small strict argument parser: known flags only, values checked, positional arguments
 * collected. Unknown flags and missing values are UsageErrors.
 */
import { UsageError } from "./errors.ts";

export interface FlagSpec {
  /** Takes a value (`--section .text`) or is boolean. */
  value: boolean;
  /** May be given several times (values collected in `Parsed.lists`, the last also in `flags`). */
  repeat?: boolean;
  /** A one-letter alias (`-e SPEC` for `--event SPEC`). */
  short?: string;
}

export interface Parsed {
  flags: Map<string, string | true>;
  /** Every value of each repeatable flag, in order. */
  lists: Map<string, string[]>;
  positional: string[];
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>, command: string): Parsed {
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  const positional: string[] = [];
  const shorts = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short) shorts.set(s.short, name);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    // `-e X` is `--event X` when the spec gives `e` as a short alias.
    if (/^-[A-Za-z]$/.test(a) && positional.length === 0) {
      const long = shorts.get(a.slice(1));
      if (!long) throw new UsageError(`xmc ${command}: unknown option ${a} (see xmc ${command} --help)`);
      a = `--${long}`;
    }
    if (a.startsWith("--") && positional.length === 0) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const s = Object.hasOwn(spec, name) ? spec[name] : undefined;
      if (!s) throw new UsageError(`xmc ${command}: unknown option --${name} (see xmc ${command} --help)`);
      if (s.value) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined || (eq < 0 && v.startsWith("--")))
          throw new UsageError(`xmc ${command}: option --${name} needs a value`);
        if (s.repeat) lists.set(name, [...(lists.get(name) ?? []), v]);
        flags.set(name, v);
      } else {
        if (eq > 0) throw new UsageError(`xmc ${command}: option --${name} takes no value`);
        flags.set(name, true);
      }
    } else positional.push(a);
  }
  return { flags, lists, positional };
}

/** Parse an address: hex with 0x, or decimal. */
export function parseAddress(v: string, what: string): number {
  const n = /^0x[0-9a-f]+$/i.test(v)
    ? Number.parseInt(v.slice(2), 16)
    : /^\d+$/.test(v)
      ? Number(v)
      : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`${what}: "${v}" is not an address (use hex 0x... or decimal)`);
  return n;
}

/** An integer option from `min` to `max` (decimal digits only), `def` when absent. */
export function intOption(
  v: string | true | undefined,
  name: string,
  min: number,
  max: number,
  def: number,
  command: string,
): number {
  if (v === undefined) return def;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `xmc ${command}: ${name} must be an integer from ${min} to ${max}, not "${String(v)}"`,
    );
  return n;
}

/** Does `argv` (a command's arguments) ask for --debug among xmc's options, before PROGRAM? */
export function wantsDebug(
  argv: readonly string[],
  spec: Record<string, FlagSpec>,
  command: string,
): boolean {
  try {
    return parseArgs(argv, spec, command).flags.has("debug");
  } catch {
    return false;
  }
}
