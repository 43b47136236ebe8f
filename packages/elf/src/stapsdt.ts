/**
 * SystemTap SDT (USDT) probes: the `.note.stapsdt` notes that `<sys/sdt.h>` emits, as
 * described in the SystemTap wiki page "UserSpaceProbeImplementation" (SDT note format v3).
 *
 * Each probe is one note with owner "stapsdt" and type 3 (NT_STAPSDT). Its description is:
 * the probe's pc, the link-time address of the `_.stapsdt.base` symbol (which sdt.h places in
 * the `.stapsdt.base` section), and the semaphore address (0 when none), each an address of
 * the file's class (8 bytes for ELF64, 4 for ELF32), followed by three NUL-terminated strings:
 * provider, probe name, and the argument string.
 *
 * Prelink adjustment: a tool such as prelink may move the file's sections after the notes were
 * written. Consumers (SystemTap, GDB) therefore compare the base recorded in the note with the
 * current address of the `.stapsdt.base` section and shift the pc and a non-zero semaphore by
 * the difference. {@link parseStapsdtNotes} does the same and reports the shift as `adjustment`.
 * In a relocatable object (ET_REL) the addresses are unrelocated (usually 0).
 *
 * Arguments are space-separated `N@OPERAND`: N is the size in bytes, negative for a signed
 * value (`-4@%eax` is a signed 32-bit value in eax); OPERAND is an assembler operand, on x86 in
 * AT&T syntax: `%reg`, `$imm`, or memory `[%seg:]disp(base,index,scale)` where disp may name a
 * symbol (`foo+8(%rip)`). An argument without `N@` (very old notes) is taken as an unsigned
 * value of the file's address size.
 */
import { EM, NT_STAPSDT } from "./constants.ts";
import { ElfError, hex } from "./errors.ts";
import { Reader } from "./reader.ts";
import { decodeString } from "./strtab.ts";
import type { ElfNote } from "./types.ts";

/** Where an argument's value is: a register, a constant, a memory operand, or something else. */
export type UsdtOperand =
  | {
      /** The value is in a register. */
      readonly kind: "reg";
      /** Register name without `%`, e.g. "eax". */
      readonly register: string;
    }
  | {
      /** The value is a constant (`$imm`). */
      readonly kind: "const";
      /** The constant. */
      readonly value: bigint;
    }
  | {
      /** The value is in memory at `segment:symbol + displacement + base + index * scale`. */
      readonly kind: "mem";
      /** Numeric displacement (0 when absent). */
      readonly displacement: bigint;
      /** Symbol in the displacement, e.g. "foo" in `foo+8(%rip)`. */
      readonly symbol?: string;
      /** Base register without `%`, e.g. "rbp" or "rip". */
      readonly base?: string;
      /** Index register without `%`. */
      readonly index?: string;
      /** Index scale: 1, 2, 4 or 8 (1 when there is no index). */
      readonly scale: number;
      /** Segment register without `%`, e.g. "fs". */
      readonly segment?: string;
    }
  | {
      /** Not an x86 AT&T operand this parser understands (e.g. another architecture's syntax); see `operand`. */
      readonly kind: "other";
    };

/** One probe argument: its size and sign, the operand text, and the operand parsed. */
export type UsdtArgument = UsdtOperand & {
  /** The argument as written, e.g. "-4@%eax". */
  readonly text: string;
  /** Operand text after `N@`, e.g. "%eax". */
  readonly operand: string;
  /** Size of the value in bytes (usually 1, 2, 4 or 8). */
  readonly size: number;
  /** True when the value is signed (negative N). */
  readonly signed: boolean;
  /** False when the argument had no `N@` prefix and the size is the file's address size. */
  readonly explicitSize: boolean;
};

/** One SDT probe from a `.note.stapsdt` note. */
export interface UsdtProbe {
  /** Provider name, e.g. "libc". */
  readonly provider: string;
  /** Probe name, e.g. "setjmp". */
  readonly name: string;
  /** Probe address (the NOP sdt.h placed), after the prelink adjustment. */
  readonly pc: bigint;
  /** The `_.stapsdt.base` address recorded in the note. */
  readonly base: bigint;
  /** Address of the semaphore (a 16-bit counter) after the prelink adjustment, 0n when none. */
  readonly semaphore: bigint;
  /** The pc as recorded in the note. */
  readonly notePc: bigint;
  /** The semaphore address as recorded in the note. */
  readonly noteSemaphore: bigint;
  /** `.stapsdt.base` section address minus `base`, signed (0n when equal or when the section is absent). */
  readonly adjustment: bigint;
  /** The argument string as recorded, e.g. "-4@%edi 8@-24(%rbp)". */
  readonly arguments: string;
  /** The arguments parsed. */
  readonly args: readonly UsdtArgument[];
  /** File offset of the note. */
  readonly noteOffset: number;
}

const REG = /^%([a-z][a-z0-9]*)$/i;
const NUM = /^(0x[0-9a-f]+|[0-9]+)$/i;
const SYM = /^[A-Za-z_.$][\w.$@]*$/;

function parseNumber(text: string): bigint | undefined {
  let neg = false;
  let t = text;
  if (t.startsWith("-")) {
    neg = true;
    t = t.slice(1);
  } else if (t.startsWith("+")) {
    t = t.slice(1);
  }
  if (!NUM.test(t)) return undefined;
  const v = BigInt(t);
  return neg ? -v : v;
}

/** `foo`, `-24`, `foo+8`, `foo-8`, `8+foo`: a number sum with at most one (added) symbol. */
function parseDisplacement(text: string): { displacement: bigint; symbol?: string } | undefined {
  if (text === "") return { displacement: 0n };
  const terms = text.match(/[+-]?[^+-]+/g);
  if (terms === null || terms.join("") !== text) return undefined;
  let displacement = 0n;
  let symbol: string | undefined;
  for (const term of terms) {
    const n = parseNumber(term);
    if (n !== undefined) {
      displacement += n;
      continue;
    }
    const name = term.startsWith("+") ? term.slice(1) : term;
    if (symbol !== undefined || !SYM.test(name)) return undefined;
    symbol = name;
  }
  return symbol === undefined ? { displacement } : { displacement, symbol };
}

function reg(text: string): string | undefined {
  return REG.exec(text)?.[1];
}

/** Parses one x86 AT&T operand as sdt.h emits it; `{ kind: "other" }` when it is not one. */
export function parseUsdtOperand(operand: string): UsdtOperand {
  const r = reg(operand);
  if (r !== undefined) return { kind: "reg", register: r };
  if (operand.startsWith("$")) {
    const v = parseNumber(operand.slice(1));
    return v === undefined ? { kind: "other" } : { kind: "const", value: v };
  }
  let rest = operand;
  let segment: string | undefined;
  const seg = /^%([a-z]s):(.*)$/i.exec(rest);
  if (seg !== null) {
    segment = seg[1]!;
    rest = seg[2]!;
  }
  let dispText = rest;
  let base: string | undefined;
  let index: string | undefined;
  let scale = 1;
  const open = rest.indexOf("(");
  if (open >= 0) {
    if (!rest.endsWith(")")) return { kind: "other" };
    dispText = rest.slice(0, open);
    const parts = rest.slice(open + 1, -1).split(",");
    if (parts.length > 3) return { kind: "other" };
    const [b = "", i = "", s = ""] = parts;
    if (b !== "") {
      base = reg(b);
      if (base === undefined) return { kind: "other" };
    }
    if (i !== "") {
      index = reg(i);
      if (index === undefined) return { kind: "other" };
    }
    if (s !== "") {
      if (!/^[1248]$/.test(s)) return { kind: "other" };
      scale = Number(s);
    }
    if (base === undefined && index === undefined) return { kind: "other" };
  } else if (dispText === "") {
    return { kind: "other" };
  }
  const disp = parseDisplacement(dispText);
  if (disp === undefined) return { kind: "other" };
  return {
    kind: "mem",
    displacement: disp.displacement,
    ...(disp.symbol === undefined ? {} : { symbol: disp.symbol }),
    ...(base === undefined ? {} : { base }),
    ...(index === undefined ? {} : { index }),
    scale,
    ...(segment === undefined ? {} : { segment }),
  };
}

/** Splits an argument string at spaces outside brackets (`8@[sp, 8]` is one argument on AArch64). */
function splitArguments(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    const space = c === undefined || c === " " || c === "\t" || c === "\n";
    if (space && depth <= 0) {
      if (start >= 0) out.push(text.slice(start, i));
      start = -1;
      continue;
    }
    if (start < 0) start = i;
    if (c === "[") depth++;
    else if (c === "]") depth--;
  }
  return out;
}

/**
 * Parses an SDT argument string such as `-4@%edi 8@-24(%rbp) 4@$5` into its arguments.
 * `addressSize` (bytes, default 8) is the size given to an argument without `N@`. Operands are
 * parsed as x86 AT&T syntax when `syntax` is "x86" (the default); with "other" every operand
 * has kind "other" (the text is still split into size, sign and operand).
 * Never throws: an operand it does not understand has kind "other".
 */
export function parseUsdtArguments(
  text: string,
  addressSize: 4 | 8 = 8,
  syntax: "x86" | "other" = "x86",
): UsdtArgument[] {
  const out: UsdtArgument[] = [];
  for (const word of splitArguments(text)) {
    const m = /^(-?)([0-9]+)@(.*)$/s.exec(word);
    const operand = m === null ? word : m[3]!;
    const size = m === null ? addressSize : Number(m[2]);
    const signed = m !== null && m[1] === "-";
    const parsed: UsdtOperand = syntax === "x86" ? parseUsdtOperand(operand) : { kind: "other" };
    out.push({ ...parsed, text: word, operand, size, signed, explicitSize: m !== null });
  }
  return out;
}

/** The parts of a file {@link parseStapsdtNotes} needs; an `ElfFile` has them. */
export interface StapsdtSource {
  /** 32 or 64: the size of the addresses in the notes. */
  readonly class: 32 | 64;
  /** Byte order of the addresses in the notes. */
  readonly endian: "little" | "big";
  /** `e_machine`: operands are parsed as x86 AT&T syntax for EM_386 (3) and EM_X86_64 (62). */
  readonly machine: number;
  /** Every note of the file. */
  notes(): readonly ElfNote[];
  /** The `.stapsdt.base` section, when present. */
  sectionByName(name: string): { readonly addr: bigint } | undefined;
}

function cstring(
  desc: Uint8Array,
  start: number,
  what: string,
  note: ElfNote,
): { value: string; next: number } {
  const end = start < desc.length ? desc.indexOf(0, start) : -1;
  if (end < 0) {
    throw new ElfError(
      "BAD_NOTE",
      `stapsdt note at offset ${hex(note.offset)}: the ${what} string has no terminating NUL (description is ${desc.length} bytes)`,
    );
  }
  return { value: decodeString(desc, start, end), next: end + 1 };
}

/**
 * Every SystemTap SDT probe of a file (notes with owner "stapsdt" and type 3), in note order,
 * with pc and semaphore shifted by the prelink adjustment (see the module comment).
 *
 * @throws {@link ElfError} `BAD_NOTE` when a probe note is too short for its three addresses or
 *   a string is not NUL-terminated; also whatever `elf.notes()` throws.
 */
export function parseStapsdtNotes(elf: StapsdtSource): UsdtProbe[] {
  const is64 = elf.class === 64;
  const size = is64 ? 8 : 4;
  const bits = is64 ? 64 : 32;
  const baseSection = elf.sectionByName(".stapsdt.base");
  const syntax = elf.machine === EM.I386 || elf.machine === EM.X86_64 ? "x86" : "other";
  const probes: UsdtProbe[] = [];
  for (const note of elf.notes()) {
    if (note.name !== "stapsdt" || note.type !== NT_STAPSDT) continue;
    const desc = note.desc;
    if (desc.length < 3 * size) {
      throw new ElfError(
        "BAD_NOTE",
        `stapsdt note at offset ${hex(note.offset)}: description is ${desc.length} bytes, too short for pc, base and semaphore (${3 * size} bytes)`,
      );
    }
    const r = new Reader(desc, elf.endian === "little");
    const notePc = r.addr(0, is64);
    const base = r.addr(size, is64);
    const noteSemaphore = r.addr(2 * size, is64);
    const provider = cstring(desc, 3 * size, "provider", note);
    const name = cstring(desc, provider.next, "probe name", note);
    // Some producers end the note right after the name when there are no arguments.
    const args =
      name.next >= desc.length ? { value: "", next: name.next } : cstring(desc, name.next, "arguments", note);
    const adjustment = baseSection === undefined ? 0n : BigInt.asIntN(bits, baseSection.addr - base);
    const shift = (a: bigint): bigint => BigInt.asUintN(bits, a + adjustment);
    probes.push({
      provider: provider.value,
      name: name.value,
      pc: shift(notePc),
      base,
      semaphore: noteSemaphore === 0n ? 0n : shift(noteSemaphore),
      notePc,
      noteSemaphore,
      adjustment,
      arguments: args.value,
      args: parseUsdtArguments(args.value, size, syntax),
      noteOffset: note.offset,
    });
  }
  return probes;
}
