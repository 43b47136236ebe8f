/**
 * Symbol tables (gABI "Symbol Table") (internal).
 *
 * Symbol layout, byte offsets for ELF32 / ELF64:
 * st_name 0/0 u32, st_value 4/8, st_size 8/16, st_info 12/4 u8, st_other 13/5 u8,
 * st_shndx 14/6 u16; size 16/24. st_info = bind << 4 | type; visibility = st_other & 3.
 * A SHT_SYMTAB_SHNDX section whose sh_link is the symbol table holds one u32 per symbol,
 * used when st_shndx is SHN_XINDEX.
 */
import { SHN, SHT, symbolBindName, symbolTypeName, symbolVisibilityName } from "./constants.ts";
import { type FileContext, linkedStrings, sectionLabel, sectionReader } from "./context.ts";
import { ElfError, hex } from "./errors.ts";
import type { Reader } from "./reader.ts";
import { stringError } from "./strtab.ts";
import type { ElfSection, ElfSymbol } from "./types.ts";
import { readSymbolVersions } from "./versions.ts";

/** Reads every symbol of a SHT_SYMTAB or SHT_DYNSYM section; versions are attached for dynsym. */
export function readSymbolTable(ctx: FileContext, section: ElfSection): ElfSymbol[] {
  const is64 = ctx.is64;
  const label = sectionLabel(section);
  const need = is64 ? 24 : 16;
  if (section.entsize < need) {
    throw new ElfError(
      "BAD_SYMBOL",
      `${label}: sh_entsize is ${section.entsize}, an ELF${is64 ? 64 : 32} symbol needs ${need} bytes`,
    );
  }
  const stride = section.entsize;
  if (section.size % stride !== 0) {
    throw new ElfError(
      "BAD_SYMBOL",
      `${label}: size ${hex(section.size)} is not a multiple of sh_entsize ${stride}`,
    );
  }
  const r = sectionReader(ctx, section);
  const count = r.length / stride;
  const strings = linkedStrings(ctx, section, "BAD_SYMBOL");

  let xindex: Reader | undefined;
  let xindexSection: ElfSection | undefined;
  for (const s of ctx.sections) {
    if (s.type === SHT.SYMTAB_SHNDX && s.link === section.index) {
      xindexSection = s;
      xindex = sectionReader(ctx, s);
      break;
    }
  }

  const shndx = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * stride;
    let ndx = r.u16(at + (is64 ? 6 : 14));
    if (ndx === SHN.XINDEX) {
      if (xindex === undefined || (i + 1) * 4 > xindex.length) {
        throw new ElfError(
          "BAD_SYMBOL",
          `symbol ${i} in ${label}: st_shndx is SHN_XINDEX but ${
            xindexSection === undefined
              ? "there is no SHT_SYMTAB_SHNDX section for it"
              : `${sectionLabel(xindexSection)} is too short`
          }`,
        );
      }
      ndx = xindex.u32(i * 4);
    }
    shndx[i] = ndx;
  }

  const versions =
    section.type === SHT.DYNSYM ? readSymbolVersions(ctx, section, count, (i) => shndx[i]!) : undefined;

  const out: ElfSymbol[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * stride;
    const nameOffset = r.u32(at);
    const name = strings.get(nameOffset);
    if (typeof name !== "string") throw stringError(name, `symbol ${i} in ${label}`, nameOffset, strings);
    let value: bigint;
    let size: number;
    let info: number;
    let other: number;
    if (is64) {
      info = r.u8(at + 4);
      other = r.u8(at + 5);
      value = r.u64(at + 8);
      size = r.u64n(at + 16);
      if (size < 0) {
        throw new ElfError(
          "BAD_SYMBOL",
          `symbol ${i} (${name}) in ${label}: st_size ${hex(r.u64(at + 16))} is too large`,
        );
      }
    } else {
      value = BigInt(r.u32(at + 4));
      size = r.u32(at + 8);
      info = r.u8(at + 12);
      other = r.u8(at + 13);
    }
    const type = info & 0xf;
    const bind = info >> 4;
    const visibility = other & 3;
    const version = versions?.[i];
    const sym: { -readonly [K in keyof ElfSymbol]: ElfSymbol[K] } = {
      index: i,
      name,
      value,
      size,
      type,
      typeName: symbolTypeName(type),
      bind,
      bindName: symbolBindName(bind),
      visibility,
      visibilityName: symbolVisibilityName(visibility),
      other,
      sectionIndex: shndx[i]!,
    };
    if (version !== undefined) sym.version = version;
    out[i] = sym;
  }
  return out;
}

/**
 * The name tools such as objdump and readelf print for a dynamic symbol: `name@@VERSION` for
 * the default version of a defined symbol, `name@VERSION` for a hidden (non-default) or a
 * needed (undefined) one, and the plain name when there is no version or the symbol is the
 * version's own marker symbol (an SHN_ABS symbol named like the version it defines).
 */
export function versionedName(symbol: ElfSymbol): string {
  const v = symbol.version;
  if (v === undefined) return symbol.name;
  if (v.source === "definition" && symbol.sectionIndex === SHN.ABS && symbol.name === v.name)
    return symbol.name;
  const sep = v.source === "definition" && !v.hidden && symbol.sectionIndex !== SHN.UNDEF ? "@@" : "@";
  return `${symbol.name}${sep}${v.name}`;
}
