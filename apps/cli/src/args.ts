/**
 * A small strict argument parser: known flags only, values checked, positional arguments
 * collected. Unknown flags and missing values are UsageErrors.
 */
import { UsageError } from "./errors.ts";

export interface FlagSpec {
  /** Takes a value (`--section .text`) or is boolean. */
  value: boolean;
}

export interface Parsed {
  flags: Map<string, string | true>;
  positional: string[];
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>, command: string): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") && positional.length === 0) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const s = spec[name];
      if (!s) throw new UsageError(`xmc ${command}: unknown option --${name} (see xmc ${command} --help)`);
      if (s.value) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined || (eq < 0 && v.startsWith("--")))
          throw new UsageError(`xmc ${command}: option --${name} needs a value`);
        flags.set(name, v);
      } else {
        if (eq > 0) throw new UsageError(`xmc ${command}: option --${name} takes no value`);
        flags.set(name, true);
      }
    } else positional.push(a);
  }
  return { flags, positional };
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
