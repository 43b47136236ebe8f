/**
 * GNU symbol versioning (internal): `.gnu.version` (SHT_GNU_versym), `.gnu.version_d`
 * (SHT_GNU_verdef) and `.gnu.version_r` (SHT_GNU_verneed), as specified in the Linux
 * Standard Base Core specification, "Symbol Versioning".
 *
 * Layouts (same for ELF32 and ELF64), byte offsets:
 * - versym: one u16 per dynamic symbol; bit 15 = hidden, bits 0-14 = version index
 *   (0 = local, 1 = global/base, 2+ = a verdef or vernaux index).
 * - Verdef (20 bytes): vd_version 0 u16, vd_flags 2 u16, vd_ndx 4 u16, vd_cnt 6 u16,
 *   vd_hash 8 u32, vd_aux 12 u32, vd_next 16 u32. The first Verdaux names the version.
 * - Verdaux (8 bytes): vda_name 0 u32, vda_next 4 u32.
 * - Verneed (16 bytes): vn_version 0 u16, vn_cnt 2 u16, vn_file 4 u32, vn_aux 8 u32, vn_next 12 u32.
 * - Vernaux (16 bytes): vna_hash 0 u32, vna_flags 4 u16, vna_other 6 u16 (the version index),
 *   vna_name 8 u32, vna_next 12 u32.
 * `vd_next`, `vd_aux`, `vn_next`, `vn_aux`, `vna_next` are byte offsets relative to the
 * current entry; sh_info is the number of Verdef/Verneed entries. Chains are walked with a
 * budget of entries that fit in the section, so a looping chain ends in an error, not a hang.
 */
import { SHN, SHT } from "./constants.ts";
import { type FileContext, linkedStrings, sectionLabel, sectionReader } from "./context.ts";
import { ElfError, hex } from "./errors.ts";
import { type StringTable, stringError } from "./strtab.ts";
import type { ElfSection, ElfSymbolVersion } from "./types.ts";

interface VersionName {
  readonly name: string;
  readonly file?: string;
}

function name(strings: StringTable, offset: number, what: string): string {
  const s = strings.get(offset);
  if (typeof s !== "string") throw stringError(s, what, offset, strings);
  return s;
}

function readDefinitions(ctx: FileContext, section: ElfSection): Map<number, VersionName> {
  const defs = new Map<number, VersionName>();
  const strings = linkedStrings(ctx, section, "BAD_SYMBOL");
  const r = sectionReader(ctx, section);
  const label = sectionLabel(section);
  const size = r.length;
  const budget = Math.floor(size / 20);
  let off = 0;
  for (let n = 0; n < section.info; n++) {
    if (n >= budget || off + 20 > size) {
      throw new ElfError(
        "BAD_SYMBOL",
        `${label}: version definition ${n} at offset ${hex(off)} runs past the end of the section (size ${hex(size)}; sh_info says ${section.info} entries)`,
      );
    }
    const ndx = r.u16(off + 4);
    const cnt = r.u16(off + 6);
    const aux = r.u32(off + 12);
    const next = r.u32(off + 16);
    if (cnt > 0) {
      const auxOff = off + aux;
      if (auxOff + 8 > size) {
        throw new ElfError(
          "BAD_SYMBOL",
          `${label}: version definition ${n}: its name entry at offset ${hex(auxOff)} runs past the end of the section (size ${hex(size)})`,
        );
      }
      const nameOff = r.u32(auxOff);
      const v = name(strings, nameOff, `${label}: version definition ${n}`);
      if (!defs.has(ndx)) defs.set(ndx, { name: v });
    }
    if (next === 0) break;
    off += next;
  }
  return defs;
}

function readNeeds(ctx: FileContext, section: ElfSection): Map<number, VersionName> {
  const needs = new Map<number, VersionName>();
  const strings = linkedStrings(ctx, section, "BAD_SYMBOL");
  const r = sectionReader(ctx, section);
  const label = sectionLabel(section);
  const size = r.length;
  const budget = Math.floor(size / 16);
  let auxSeen = 0;
  let off = 0;
  for (let n = 0; n < section.info; n++) {
    if (n >= budget || off + 16 > size) {
      throw new ElfError(
        "BAD_SYMBOL",
        `${label}: version dependency ${n} at offset ${hex(off)} runs past the end of the section (size ${hex(size)}; sh_info says ${section.info} entries)`,
      );
    }
    const cnt = r.u16(off + 2);
    const file = name(strings, r.u32(off + 4), `${label}: version dependency ${n} (file name)`);
    const aux = r.u32(off + 8);
    const next = r.u32(off + 12);
    let a = off + aux;
    for (let j = 0; j < cnt; j++) {
      if (++auxSeen > budget || a + 16 > size) {
        throw new ElfError(
          "BAD_SYMBOL",
          `${label}: version dependency ${n} (${file}), version ${j} at offset ${hex(a)} runs past the end of the section (size ${hex(size)}) or its chain loops`,
        );
      }
      const index = r.u16(a + 6) & 0x7fff;
      const v = name(strings, r.u32(a + 8), `${label}: version dependency ${n} (${file}), version ${j}`);
      if (!needs.has(index)) needs.set(index, { name: v, file });
      const anext = r.u32(a + 12);
      if (anext === 0) break;
      a += anext;
    }
    if (next === 0) break;
    off += next;
  }
  return needs;
}

/**
 * The version of each of the `count` symbols of `dynsym` (undefined where there is none or the
 * index is 0/1), or undefined when the file has no `.gnu.version` for it. `sectionIndexOf(i)`
 * gives symbol i's section index; an undefined symbol (SHN_UNDEF) has its version
 * looked up first in the dependencies, a defined one first in the definitions.
 */
export function readSymbolVersions(
  ctx: FileContext,
  dynsym: ElfSection,
  count: number,
  sectionIndexOf: (i: number) => number,
): (ElfSymbolVersion | undefined)[] | undefined {
  let versym: ElfSection | undefined;
  let verdef: ElfSection | undefined;
  let verneed: ElfSection | undefined;
  for (const s of ctx.sections) {
    if (s.type === SHT.GNU_VERSYM && (versym === undefined || s.link === dynsym.index)) versym = s;
    else if (s.type === SHT.GNU_VERDEF && verdef === undefined) verdef = s;
    else if (s.type === SHT.GNU_VERNEED && verneed === undefined) verneed = s;
  }
  if (versym === undefined) return undefined;
  const r = sectionReader(ctx, versym);
  if (r.length < count * 2) {
    throw new ElfError(
      "BAD_SYMBOL",
      `${sectionLabel(versym)}: has ${Math.floor(r.length / 2)} version entries but ${sectionLabel(dynsym)} has ${count} symbols`,
    );
  }
  const defs = verdef === undefined ? new Map<number, VersionName>() : readDefinitions(ctx, verdef);
  const needs = verneed === undefined ? new Map<number, VersionName>() : readNeeds(ctx, verneed);
  const out: (ElfSymbolVersion | undefined)[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const raw = r.u16(i * 2);
    const index = raw & 0x7fff;
    if (index <= 1) {
      out[i] = undefined;
      continue;
    }
    const isUndefined = sectionIndexOf(i) === SHN.UNDEF;
    const def = defs.get(index);
    const need = needs.get(index);
    const hidden = (raw & 0x8000) !== 0;
    if (def !== undefined && (!isUndefined || need === undefined)) {
      out[i] = { name: def.name, index, hidden, source: "definition" };
    } else if (need !== undefined) {
      out[i] =
        need.file === undefined
          ? { name: need.name, index, hidden, source: "needed" }
          : { name: need.name, index, hidden, source: "needed", file: need.file };
    } else {
      throw new ElfError(
        "BAD_SYMBOL",
        `symbol ${i} in ${sectionLabel(dynsym)}: version index ${index} (from ${sectionLabel(versym)}) is defined by neither .gnu.version_d nor .gnu.version_r`,
      );
    }
  }
  return out;
}
