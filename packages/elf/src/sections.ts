/**
 * The section header table (gABI "Sections") (internal).
 *
 * Section header layout, byte offsets for ELF32 / ELF64:
 * sh_name 0/0, sh_type 4/4, sh_flags 8/8, sh_addr 12/16, sh_offset 16/24, sh_size 20/32,
 * sh_link 24/40, sh_info 28/44, sh_addralign 32/48, sh_entsize 36/56; size 40/64.
 *
 * Extended numbering (gABI): when e_shnum is 0 the count is section 0's sh_size; when
 * e_shstrndx is SHN_XINDEX the index is section 0's sh_link; when e_phnum is PN_XNUM
 * (0xffff) the program header count is section 0's sh_info.
 */
import { SHN, SHT, sectionTypeName } from "./constants.ts";
import { ElfError, hex } from "./errors.ts";
import type { RawHeader } from "./header.ts";
import type { Reader } from "./reader.ts";
import { StringTable, stringError } from "./strtab.ts";
import type { ElfHeader, ElfSection } from "./types.ts";

const PN_XNUM = 0xffff;

interface RawSection {
  nameOffset: number;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

function readRaw(r: Reader, at: number, is64: boolean, index: number): RawSection {
  const what = `section header ${index}`;
  const num = (value: number, field: string, fieldAt: number): number => {
    if (value < 0) {
      throw new ElfError("BAD_SECTION", `${what}: ${field} ${hex(r.u64(fieldAt))} is too large`);
    }
    return value;
  };
  if (is64) {
    return {
      nameOffset: r.u32(at),
      type: r.u32(at + 4),
      flags: num(r.u64n(at + 8), "sh_flags", at + 8),
      addr: r.u64(at + 16),
      offset: num(r.u64n(at + 24), "sh_offset", at + 24),
      size: num(r.u64n(at + 32), "sh_size", at + 32),
      link: r.u32(at + 40),
      info: r.u32(at + 44),
      addralign: num(r.u64n(at + 48), "sh_addralign", at + 48),
      entsize: num(r.u64n(at + 56), "sh_entsize", at + 56),
    };
  }
  return {
    nameOffset: r.u32(at),
    type: r.u32(at + 4),
    flags: r.u32(at + 8),
    addr: BigInt(r.u32(at + 12)),
    offset: r.u32(at + 16),
    size: r.u32(at + 20),
    link: r.u32(at + 24),
    info: r.u32(at + 28),
    addralign: r.u32(at + 32),
    entsize: r.u32(at + 36),
  };
}

/** True when a section of this type occupies `size` bytes of the file at `offset`. */
export function hasFileBytes(type: number): boolean {
  return type !== SHT.NOBITS && type !== SHT.NULL;
}

/** Reads the section header table, applies extended numbering, resolves names and checks extents. */
export function readSections(r: Reader, raw: RawHeader): { header: ElfHeader; sections: ElfSection[] } {
  const is64 = raw.class === 64;
  const len = r.length;
  let shnum = raw.shnum;
  let shstrndx = raw.shstrndx;
  let phnum = raw.phnum;
  const minEntry = is64 ? 64 : 40;
  const rawSections: RawSection[] = [];

  if (raw.shoff !== 0) {
    if (raw.shentsize < minEntry) {
      throw new ElfError(
        "BAD_HEADER",
        `e_shentsize is ${raw.shentsize}, an ELF${raw.class} section header needs at least ${minEntry} bytes`,
      );
    }
    if (raw.shoff + raw.shentsize > len) {
      throw new ElfError(
        "BAD_SECTION",
        `section header table at offset ${hex(raw.shoff)} runs past end of file (size ${hex(len)})`,
      );
    }
    const needZero = shnum === 0 || shstrndx === SHN.XINDEX || phnum === PN_XNUM;
    if (needZero) {
      const zero = readRaw(r, raw.shoff, is64, 0);
      if (shnum === 0) shnum = zero.size;
      if (shstrndx === SHN.XINDEX) shstrndx = zero.link;
      if (phnum === PN_XNUM) phnum = zero.info;
    }
    // The whole table must be inside the file before anything is allocated for it.
    if (shnum * raw.shentsize > len - raw.shoff) {
      throw new ElfError(
        "BAD_SECTION",
        `section header table at offset ${hex(raw.shoff)} (${shnum} entries of ${raw.shentsize} bytes) runs past end of file (size ${hex(len)})`,
      );
    }
    for (let i = 0; i < shnum; i++) rawSections.push(readRaw(r, raw.shoff + i * raw.shentsize, is64, i));
  } else {
    // gABI: no section header table; e_shnum and e_shstrndx mean nothing then.
    shnum = 0;
    shstrndx = 0;
  }

  const checkExtent = (s: RawSection, i: number, label: string): void => {
    if (hasFileBytes(s.type) && s.offset + s.size > len) {
      throw new ElfError(
        "BAD_SECTION",
        `section header ${i}${label}: offset ${hex(s.offset)} + size ${hex(s.size)} runs past end of file (size ${hex(len)})`,
      );
    }
  };

  let names: StringTable | undefined;
  if (shstrndx !== SHN.UNDEF) {
    const t = rawSections[shstrndx];
    if (t === undefined) {
      throw new ElfError(
        "BAD_SECTION",
        `e_shstrndx ${shstrndx} (section name string table) is out of range: the file has ${shnum} sections`,
      );
    }
    if (t.type !== SHT.STRTAB) {
      throw new ElfError(
        "BAD_SECTION",
        `e_shstrndx ${shstrndx} (section name string table) is a ${sectionTypeName(t.type)} section, not STRTAB`,
      );
    }
    checkExtent(t, shstrndx, " (section name string table)");
    const data = r.bytes.subarray(t.offset, t.offset + t.size);
    const own = new StringTable(data, `section ${shstrndx}`).get(t.nameOffset);
    names = new StringTable(
      data,
      typeof own === "string" ? `section ${shstrndx} (${own})` : `section ${shstrndx}`,
    );
  }

  const sections: ElfSection[] = [];
  for (let i = 0; i < rawSections.length; i++) {
    const s = rawSections[i]!;
    let name = "";
    if (names !== undefined) {
      const got = names.get(s.nameOffset);
      if (typeof got !== "string") throw stringError(got, `section header ${i}`, s.nameOffset, names);
      name = got;
    }
    checkExtent(s, i, name === "" ? "" : ` (${name})`);
    sections.push({
      index: i,
      name,
      nameOffset: s.nameOffset,
      type: s.type,
      typeName: sectionTypeName(s.type),
      flags: s.flags,
      addr: s.addr,
      offset: s.offset,
      size: s.size,
      link: s.link,
      info: s.info,
      addralign: s.addralign,
      entsize: s.entsize,
    });
  }

  const header: ElfHeader = { ...raw, shnum, shstrndx, phnum };
  return { header, sections };
}
