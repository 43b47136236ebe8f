// Runs GNU readelf and parses the parts of its text output the tests compare against.
// Formats as printed by binutils 2.40 with -W (wide): see each parser for the line shape.
import { execFileSync } from "node:child_process";

/** readelf's output for `args` on `file`, in the C locale. */
export function readelf(args: readonly string[], file: string): string {
  return execFileSync("readelf", [...args, file], {
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, LC_ALL: "C" },
  });
}

const NAMED_TYPES: Record<string, number> = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  SHLIB: 10,
  DYNSYM: 11,
  INIT_ARRAY: 14,
  FINI_ARRAY: 15,
  PREINIT_ARRAY: 16,
  GROUP: 17,
  "SYMTAB SECTION INDICES": 18,
  RELR: 19,
  GNU_ATTRIBUTES: 0x6ffffff5,
  GNU_HASH: 0x6ffffff6,
  GNU_LIBLIST: 0x6ffffff7,
  VERDEF: 0x6ffffffd,
  VERNEED: 0x6ffffffe,
  VERSYM: 0x6fffffff,
  X86_64_UNWIND: 0x70000001,
};

const SEGMENT_TYPES: Record<string, number> = {
  NULL: 0,
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  SHLIB: 5,
  PHDR: 6,
  TLS: 7,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
  GNU_SFRAME: 0x6474e554,
};

function rangeName(text: string): number | undefined {
  const m = /^(LOOS|LOPROC|LOUSER)\+0x([0-9a-f]+)$/.exec(text);
  if (m === null) return undefined;
  const base = m[1] === "LOOS" ? 0x60000000 : m[1] === "LOPROC" ? 0x70000000 : 0x80000000;
  return base + Number.parseInt(m[2]!, 16);
}

/** Section type number for readelf's name of it. */
export function sectionTypeNumber(name: string): number {
  const n = NAMED_TYPES[name] ?? rangeName(name);
  if (n === undefined) throw new Error(`test helper: unknown readelf section type "${name}"`);
  return n;
}

/** Segment type number for readelf's name of it. */
export function segmentTypeNumber(name: string): number {
  const n = SEGMENT_TYPES[name] ?? rangeName(name);
  if (n === undefined) throw new Error(`test helper: unknown readelf segment type "${name}"`);
  return n;
}

/** readelf's section flag letters (the "Key to Flags"), as sh_flags bits. */
export const FLAG_LETTERS: Record<string, number> = {
  W: 0x1,
  A: 0x2,
  X: 0x4,
  M: 0x10,
  S: 0x20,
  I: 0x40,
  L: 0x80,
  O: 0x100,
  G: 0x200,
  T: 0x400,
  C: 0x800,
  R: 0x200000,
  l: 0x10000000,
  E: 0x80000000,
};

/** One line of `readelf -W -S`. */
export interface ReSection {
  index: number;
  name: string;
  type: number;
  addr: bigint;
  offset: number;
  size: number;
  entsize: number;
  flags: string;
  link: number;
  info: number;
  align: number;
}

// "  [ 1] .interp           PROGBITS        0000000000000238 000238 00001c 00   A  0   0  1"
const SECTION_LINE =
  /^\s*\[\s*(\d+)\] (\S*)\s+(.+?)\s+([0-9a-f]{8}|[0-9a-f]{16}) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)$/;

/** Section headers from `readelf -W -S` output. */
export function parseSections(text: string): ReSection[] {
  const out: ReSection[] = [];
  for (const line of text.split("\n")) {
    if (!/^\s*\[\s*\d+\]/.test(line)) continue;
    const m = SECTION_LINE.exec(line);
    if (m === null) throw new Error(`test helper: cannot parse readelf section line: ${line}`);
    out.push({
      index: Number(m[1]),
      name: m[2]!,
      type: sectionTypeNumber(m[3]!),
      addr: BigInt(`0x${m[4]}`),
      offset: Number.parseInt(m[5]!, 16),
      size: Number.parseInt(m[6]!, 16),
      entsize: Number.parseInt(m[7]!, 16),
      flags: m[8]!,
      link: Number(m[9]),
      info: Number(m[10]),
      align: Number(m[11]),
    });
  }
  return out;
}

/** One line of `readelf -W -l`. */
export interface ReSegment {
  type: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  flags: string;
  align: number;
}

// "  LOAD           0x000000 0x0000000000000000 0x0000000000000000 0x00045c 0x00045c R E 0x1000"
const SEGMENT_LINE =
  /^\s+(\S+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3}) 0x([0-9a-f]+)$/;

/** Program headers and the interpreter from `readelf -W -l` output. */
export function parseSegments(text: string): { segments: ReSegment[]; interpreter?: string } {
  const segments: ReSegment[] = [];
  let interpreter: string | undefined;
  let inTable = false;
  for (const line of text.split("\n")) {
    if (/^Program Headers:/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (/^\s*Section to Segment mapping/.test(line) || line.trim() === "") {
      if (segments.length > 0) inTable = false;
      continue;
    }
    const interp = /\[Requesting program interpreter: (.*)\]$/.exec(line);
    if (interp !== null) {
      interpreter = interp[1]!;
      continue;
    }
    if (/^\s+Type\s+Offset/.test(line)) continue;
    const m = SEGMENT_LINE.exec(line);
    if (m === null) throw new Error(`test helper: cannot parse readelf segment line: ${line}`);
    segments.push({
      type: segmentTypeNumber(m[1]!),
      offset: Number.parseInt(m[2]!, 16),
      vaddr: BigInt(`0x${m[3]}`),
      paddr: BigInt(`0x${m[4]}`),
      filesz: Number.parseInt(m[5]!, 16),
      memsz: Number.parseInt(m[6]!, 16),
      flags: m[7]!,
      align: Number.parseInt(m[8]!, 16),
    });
  }
  return interpreter === undefined ? { segments } : { segments, interpreter };
}

/** One line of `readelf -W -s` / `--dyn-syms`, fields as printed. */
export interface ReSymbol {
  num: number;
  value: bigint;
  size: number;
  type: string;
  bind: string;
  vis: string;
  ndx: string;
  /** The name column as printed, including any `@VERSION` / `@@VERSION` and ` (n)`. */
  name: string;
}

// "     1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND write@GLIBC_2.2.5 (2)"
const SYMBOL_LINE = /^\s*(\d+): ([0-9a-f]+)\s+(\d+|0x[0-9a-f]+) (\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?: (.*))?$/;

/** Symbol tables from `readelf -W -s` output, by table name (".symtab", ".dynsym"). */
export function parseSymbolTables(text: string): Map<string, ReSymbol[]> {
  const tables = new Map<string, ReSymbol[]>();
  let current: ReSymbol[] | undefined;
  for (const line of text.split("\n")) {
    const head = /^Symbol table '([^']*)' contains (\d+) entr(?:y|ies):/.exec(line);
    if (head !== null) {
      current = [];
      tables.set(head[1]!, current);
      continue;
    }
    if (current === undefined || !/^\s*\d+:/.test(line)) continue;
    const m = SYMBOL_LINE.exec(line);
    if (m === null) throw new Error(`test helper: cannot parse readelf symbol line: ${line}`);
    const size = m[3]!;
    current.push({
      num: Number(m[1]),
      value: BigInt(`0x${m[2]}`),
      size: size.startsWith("0x") ? Number.parseInt(size.slice(2), 16) : Number(size),
      type: m[4]!,
      bind: m[5]!,
      vis: m[6]!,
      ndx: m[7]!,
      name: m[8] ?? "",
    });
  }
  return tables;
}

/** One probe of `readelf -n` output (the "stapsdt" notes). */
export interface ReProbe {
  provider: string;
  name: string;
  location: bigint;
  base: bigint;
  semaphore: bigint;
  args: string;
}

/** SystemTap probes from `readelf -n` output, in order. */
export function parseStapsdt(text: string): ReProbe[] {
  const out: ReProbe[] = [];
  // With -W readelf prints "Provider:" on the note's own line after a tab; without, on the next.
  const lines = text.replace(/\t\s*Provider:/g, "\n    Provider:").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s+stapsdt\s+0x[0-9a-f]+\s+NT_STAPSDT/.test(lines[i]!)) continue;
    const provider = /^\s+Provider: (.*)$/.exec(lines[i + 1]!)?.[1];
    const name = /^\s+Name: (.*)$/.exec(lines[i + 2]!)?.[1];
    const loc = /^\s+Location: 0x([0-9a-f]+), Base: 0x([0-9a-f]+), Semaphore: 0x([0-9a-f]+)$/.exec(
      lines[i + 3]!,
    );
    const args = /^\s+Arguments: ?(.*)$/.exec(lines[i + 4]!)?.[1];
    if (provider === undefined || name === undefined || loc === null || args === undefined) {
      throw new Error(
        `test helper: cannot parse readelf stapsdt note near line ${i}: ${lines.slice(i, i + 5).join(" | ")}`,
      );
    }
    out.push({
      provider,
      name,
      location: BigInt(`0x${loc[1]}`),
      base: BigInt(`0x${loc[2]}`),
      semaphore: BigInt(`0x${loc[3]}`),
      args,
    });
  }
  return out;
}

/** A field of `readelf -h` output, e.g. "Entry point address". */
export function headerField(text: string, field: string): string {
  const m = new RegExp(`^\\s+${field}:\\s+(.*)$`, "m").exec(text);
  if (m === null) throw new Error(`test helper: readelf -h has no "${field}"`);
  return m[1]!.trim();
}
