// Compares our parse of a file with GNU readelf's: header, every section header, every program
// header, the interpreter, and every symbol of .symtab and .dynsym (with dynamic versions).
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { type ElfFile, type ElfSymbol, parseElf, SHN, STT, versionedName } from "../../src/index.ts";
import {
  FLAG_LETTERS,
  headerField,
  parseSections,
  parseSegments,
  parseSymbolTables,
  readelf,
} from "./readelf.ts";

function letters(flags: number): string {
  let out = "";
  let rest = flags;
  for (const [letter, bit] of Object.entries(FLAG_LETTERS)) {
    if ((flags & bit) !== 0) {
      out += letter;
      rest -= bit;
    }
  }
  return rest === 0 ? [...out].sort().join("") : `${[...out].sort().join("")}+0x${rest.toString(16)}`;
}

function readelfType(s: ElfSymbol): string {
  if (s.typeName === "GNU_IFUNC") return "IFUNC";
  return s.typeName;
}

function readelfBind(s: ElfSymbol): string {
  return s.bindName === "GNU_UNIQUE" ? "UNIQUE" : s.bindName;
}

function readelfNdx(s: ElfSymbol): string {
  if (s.sectionIndex === SHN.UNDEF) return "UND";
  if (s.sectionIndex === SHN.ABS) return "ABS";
  if (s.sectionIndex === SHN.COMMON) return "COM";
  return String(s.sectionIndex);
}

/**
 * Our symbol in readelf's words: dynamic symbols carry their version like readelf prints it,
 * and an unnamed STT_SECTION symbol is shown with its section's name, as readelf does.
 */
function symbolLine(elf: ElfFile, s: ElfSymbol, dynamic: boolean): string {
  let name = s.name;
  if (name === "" && s.type === STT.SECTION) name = elf.sections[s.sectionIndex]?.name ?? "";
  if (dynamic) {
    name = versionedName(s);
    if (s.version?.source === "needed" && name !== s.name) name += ` (${s.version.index})`;
  }
  return [
    s.index,
    s.value.toString(16),
    s.size,
    readelfType(s),
    readelfBind(s),
    s.visibilityName,
    readelfNdx(s),
    name,
  ].join(" ");
}

/** Parses `path` (or `bytes` when given) and checks it against readelf; returns both. */
export function compareWithReadelf(path: string, bytes?: Uint8Array): { elf: ElfFile; text: string } {
  const elf = parseElf(bytes ?? readFileSync(path));
  const text = readelf(["-W", "-h", "-S", "-l", "-s"], path);

  // Header.
  expect(headerField(text, "Class")).toBe(`ELF${elf.class}`);
  expect(headerField(text, "Type").split(" ")[0]).toBe(elf.typeName);
  expect(BigInt(headerField(text, "Entry point address"))).toBe(elf.entry);
  // "25", or "0 (9)" with extended numbering.
  const shnum = /^(\d+)(?: \((\d+)\))?/.exec(headerField(text, "Number of section headers"))!;
  expect(Number(shnum[2] ?? shnum[1])).toBe(elf.header.shnum);
  expect(elf.isPie).toBe(headerField(text, "Type").includes("Position-Independent Executable"));

  // Sections: every field of every header.
  const theirSections = parseSections(text);
  expect(elf.sections.length).toBe(theirSections.length);
  const ours = elf.sections.map((s) => ({
    index: s.index,
    name: s.name,
    type: s.type,
    addr: s.addr,
    offset: s.offset,
    size: s.size,
    entsize: s.entsize,
    flags: letters(s.flags),
    link: s.link,
    info: s.info,
    align: s.addralign,
  }));
  const theirs = theirSections.map((s) => ({ ...s, flags: [...s.flags].sort().join("") }));
  expect(ours).toEqual(theirs);

  // Segments and the interpreter.
  const { segments, interpreter } = parseSegments(text);
  expect(
    elf.segments.map((p) => ({
      type: p.type,
      offset: p.offset,
      vaddr: p.vaddr,
      paddr: p.paddr,
      filesz: p.filesz,
      memsz: p.memsz,
      flags: `${p.readable ? "R" : " "}${p.writable ? "W" : " "}${p.executable ? "E" : " "}`,
      align: p.align,
    })),
  ).toEqual(segments);
  expect(elf.interpreter()).toBe(interpreter);

  // Symbol tables: count, then every symbol's value, size, type, bind, visibility, section and name.
  const tables = parseSymbolTables(text);
  const symtab = tables.get(".symtab");
  const dynsym = tables.get(".dynsym");
  const toLine = (r: {
    num: number;
    value: bigint;
    size: number;
    type: string;
    bind: string;
    vis: string;
    ndx: string;
    name: string;
  }) => [r.num, r.value.toString(16), r.size, r.type, r.bind, r.vis, r.ndx, r.name].join(" ");
  expect(elf.symbols().length).toBe(symtab?.length ?? 0);
  expect(elf.symbols().map((s) => symbolLine(elf, s, false))).toEqual((symtab ?? []).map(toLine));
  expect(elf.dynamicSymbols().length).toBe(dynsym?.length ?? 0);
  expect(elf.dynamicSymbols().map((s) => symbolLine(elf, s, true))).toEqual((dynsym ?? []).map(toLine));
  return { elf, text };
}
