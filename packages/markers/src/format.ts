/**
 * Marker formats: printf-like strings with one conversion per argument (`%d %u %ld %lu %lx %p
 * %s %c`, and `%%` for a percent sign), the values they give a probe, and the check that a
 * probe's format matches a marker's.
 * @module
 */
import { MarkerError } from "./errors.ts";

/** A conversion of a marker format. */
export type Conversion = "d" | "u" | "ld" | "lu" | "lx" | "p" | "s" | "c";

/** A value a probe receives: numbers for 32-bit conversions, BigInt for 64-bit, strings for %s/%c. */
export type ProbeValue = number | bigint | string;

const CONV = /%(%|ld|lu|lx|d|u|p|s|c)/g;

/** The conversions of `format`, in order. Throws `MarkerError("bad-format")` on anything else after a `%`. */
export function parseFormat(format: string): Conversion[] {
  const out: Conversion[] = [];
  let i = 0;
  for (;;) {
    const p = format.indexOf("%", i);
    if (p < 0) return out;
    CONV.lastIndex = p;
    const m = CONV.exec(format);
    if (!m || m.index !== p)
      throw new MarkerError(
        "bad-format",
        `format "${format}": unsupported conversion at offset ${p} (use %d %u %ld %lu %lx %p %s %c or %%)`,
      );
    if (m[1] !== "%") out.push(m[1] as Conversion);
    i = p + m[0].length;
  }
}

/** True for conversions that take a 64-bit value (an 8-byte argument). */
export function isWide(c: Conversion): boolean {
  return c === "ld" || c === "lu" || c === "lx" || c === "p" || c === "s";
}

/**
 * The format a USDT probe (which has only `size@operand` specs) is taken to have: 8-byte
 * arguments `%ld`/`%lu` by sign, smaller ones `%d`/`%u`.
 */
export function formatForSpecs(specs: readonly { size: number; signed: boolean }[]): string {
  return specs.map((a) => (a.size === 8 ? (a.signed ? "%ld" : "%lu") : a.signed ? "%d" : "%u")).join(" ");
}

/**
 * Check that a format fits argument specs: as many conversions as arguments, 64-bit
 * conversions on 8-byte arguments and 32-bit ones on arguments of at most 4 bytes. Returns
 * the problem as a sentence, or undefined when it fits.
 */
export function formatProblem(format: string, specs: readonly { size: number }[]): string | undefined {
  let convs: Conversion[];
  try {
    convs = parseFormat(format);
  } catch (e) {
    return (e as Error).message;
  }
  if (convs.length !== specs.length)
    return `format "${format}" has ${convs.length} conversion(s) for ${specs.length} argument(s)`;
  for (let i = 0; i < convs.length; i++) {
    const c = convs[i]!;
    const size = Math.abs(specs[i]!.size);
    if (isWide(c) ? size !== 8 : size > 4)
      return `format "${format}": %${c} does not fit argument ${i + 1} of ${size} byte(s)`;
  }
  return undefined;
}

/**
 * Does a probe expecting `probe` accept a site with format `marker`? Markers with a format must
 * have the same conversions; USDT sites (derived formats) accept any conversions of the same
 * widths (`%lx` for a `%lu`, `%p` or `%s` for a pointer).
 */
export function formatsAgree(probe: string, marker: string, derived: boolean): boolean {
  const a = parseFormat(probe);
  const b = parseFormat(marker);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (derived ? isWide(a[i]!) !== isWide(b[i]!) : a[i] !== b[i]) return false;
  }
  return true;
}

/** The value a probe gets for conversion `c` of the raw 64-bit argument `raw` (already sized and sign-extended). */
export function convert(c: Conversion, raw: bigint, readString: (addr: bigint) => string): ProbeValue {
  switch (c) {
    case "d":
      return Number(BigInt.asIntN(32, raw));
    case "u":
      return Number(BigInt.asUintN(32, raw));
    case "c":
      return String.fromCharCode(Number(BigInt.asUintN(8, raw)));
    case "ld":
      return BigInt.asIntN(64, raw);
    case "s":
      return readString(BigInt.asUintN(64, raw));
    default:
      return BigInt.asUintN(64, raw);
  }
}

/** `format` with its conversions replaced by `values` (as C's printf would print them). */
export function renderFormat(format: string, values: readonly ProbeValue[]): string {
  let k = 0;
  return format.replace(CONV, (_m, conv: string) => {
    if (conv === "%") return "%";
    const v = values[k++];
    if (v === undefined) return "";
    if (conv === "lx") return (v as bigint).toString(16);
    if (conv === "p") return `0x${(v as bigint).toString(16)}`;
    return String(v);
  });
}
