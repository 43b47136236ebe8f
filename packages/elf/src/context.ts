/**
 * What the table readers need from a parsed file (internal): class, byte order, sections and
 * their bounds-checked bytes, and the linked string table of a section.
 */
import { SHT, sectionTypeName } from "./constants.ts";
import { ElfError, type ElfErrorCode } from "./errors.ts";
import { Reader } from "./reader.ts";
import { StringTable } from "./strtab.ts";
import type { ElfSection } from "./types.ts";

/** A parsed file as the table readers see it. */
export interface FileContext {
  readonly is64: boolean;
  readonly little: boolean;
  readonly sections: readonly ElfSection[];
  /** The section's file bytes (empty for SHT_NOBITS); SAFETY: extents were checked at parse time. */
  data(section: ElfSection): Uint8Array;
}

/** "section 12 (.text)", or "section 12" for an unnamed section. */
export function sectionLabel(section: ElfSection): string {
  return section.name === "" ? `section ${section.index}` : `section ${section.index} (${section.name})`;
}

/** A reader over one section's bytes, in the file's byte order. */
export function sectionReader(ctx: FileContext, section: ElfSection): Reader {
  return new Reader(ctx.data(section), ctx.little);
}

/**
 * The string table named by `section.sh_link`; `code` is the error code to use when the link
 * is not a string table.
 */
export function linkedStrings(ctx: FileContext, section: ElfSection, code: ElfErrorCode): StringTable {
  const target = ctx.sections[section.link];
  if (target === undefined || section.link === 0) {
    throw new ElfError(
      code,
      `${sectionLabel(section)}: sh_link ${section.link} should name its string table, but the file has ${ctx.sections.length} sections`,
    );
  }
  if (target.type !== SHT.STRTAB) {
    throw new ElfError(
      code,
      `${sectionLabel(section)}: sh_link ${section.link} names ${sectionLabel(target)}, which is a ${sectionTypeName(target.type)} section, not a string table (STRTAB)`,
    );
  }
  return new StringTable(ctx.data(target), sectionLabel(target));
}
