/**
 * `@xmc/elf`: a small, bounds-checked reader for ELF32 and ELF64 files (either byte order):
 * headers, sections, segments, symbols with GNU versions, notes, SystemTap SDT probes, and an
 * address → symbol map. Every problem in the input is an {@link ElfError}.
 *
 * @packageDocumentation
 */
export {
  DF_1_PIE,
  DT,
  dynamicTagName,
  EM,
  ET,
  fileTypeName,
  machineName,
  NT_STAPSDT,
  PF,
  PT,
  SHF,
  SHN,
  SHT,
  STB,
  STT,
  STV,
  sectionTypeName,
  segmentTypeName,
  symbolBindName,
  symbolTypeName,
  symbolVisibilityName,
} from "./constants.ts";
export { ElfFile, parseElf, type SymbolizerOptions } from "./elf-file.ts";
export { ElfError, type ElfErrorCode } from "./errors.ts";
export { type ParseNotesOptions, parseNotes } from "./notes.ts";
export {
  parseStapsdtNotes,
  parseUsdtArguments,
  parseUsdtOperand,
  type StapsdtSource,
  type UsdtArgument,
  type UsdtOperand,
  type UsdtProbe,
} from "./stapsdt.ts";
export { Symbolizer, type SymbolLookup } from "./symbolizer.ts";
export { versionedName } from "./symbols.ts";
export type {
  ElfDynamicEntry,
  ElfHeader,
  ElfNote,
  ElfSection,
  ElfSegment,
  ElfSymbol,
  ElfSymbolVersion,
} from "./types.ts";
