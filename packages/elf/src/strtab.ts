/**
 * String tables (gABI "String Table"): NUL-terminated strings addressed by byte offset
 * (internal). A lookup never reads outside the table and never loops: it scans forward for
 * the first NUL at most to the end of the table.
 */
import { ElfError, hex } from "./errors.ts";

/** A string lookup failed: the offset is at or past the end of the table. */
export const STR_PAST_END = 0;
/** A string lookup failed: no NUL between the offset and the end of the table. */
export const STR_UNTERMINATED = 1;
/** Why a string lookup failed. */
export type StringFail = typeof STR_PAST_END | typeof STR_UNTERMINATED;

const decoder = new TextDecoder("utf-8");

/** Decodes bytes [start, end) of `bytes`: a fast path for ASCII, UTF-8 (lossy) otherwise. */
export function decodeString(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = "";
      for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
      return s;
    }
  }
  return decoder.decode(bytes.subarray(start, end));
}

/** ASCII strings up to this many bytes take the fast path; longer ones are cached and budgeted. */
const SHORT = 64;

/** A string table: one section's bytes (already bounds-checked against the file). */
export class StringTable {
  /** The table's bytes. */
  readonly data: Uint8Array;
  /** Describes the table in messages, e.g. "section 29 (.strtab)". */
  readonly label: string;
  /** Long (or non-ASCII) strings already decoded, by offset. */
  private readonly long = new Map<number, string>();
  /**
   * Bytes that lookups of long strings may still scan. Overlapping strings (an offset inside
   * another string) are legal, but a crafted table could make every lookup scan a different
   * suffix of one huge string; the budget keeps the total work linear in the table's size.
   */
  private budget: number;

  constructor(data: Uint8Array, label: string) {
    this.data = data;
    this.label = label;
    this.budget = 8 * data.length + (1 << 20);
  }

  /** The string at `offset`, or why there is none. Offset 0 in an empty table is "". */
  get(offset: number): string | StringFail {
    const data = this.data;
    const len = data.length;
    if (offset >= len) {
      // gABI: index 0 names "no name"; accept it even for an empty table.
      if (offset === 0) return "";
      return STR_PAST_END;
    }
    // Fast path: short ASCII names, decoded while looking for the NUL.
    const limit = Math.min(len, offset + SHORT);
    let s = "";
    let i = offset;
    for (; i < limit; i++) {
      const c = data[i]!;
      if (c === 0) return s;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    const cached = this.long.get(offset);
    if (cached !== undefined) return cached;
    const end = data.indexOf(0, i);
    this.budget -= (end < 0 ? len : end) - offset;
    if (this.budget < 0) {
      throw new ElfError(
        "BAD_STRING",
        `string table ${this.label} (size ${hex(len)}): names overlap far more than any linker produces (lookup at offset ${hex(offset)})`,
      );
    }
    if (end < 0) return STR_UNTERMINATED;
    const str = decodeString(data, offset, end);
    this.long.set(offset, str);
    return str;
  }
}

/**
 * The BAD_STRING error for a failed lookup: `what` names the thing whose string it is,
 * e.g. "section header 5" or "symbol 12 in section 30 (.symtab)".
 */
export function stringError(fail: StringFail, what: string, offset: number, table: StringTable): ElfError {
  const size = hex(table.data.length);
  if (fail === STR_PAST_END) {
    return new ElfError(
      "BAD_STRING",
      `${what}: name offset ${hex(offset)} is past the end of string table ${table.label} (size ${size})`,
    );
  }
  return new ElfError(
    "BAD_STRING",
    `${what}: string at offset ${hex(offset)} in string table ${table.label} (size ${size}) has no terminating NUL`,
  );
}
