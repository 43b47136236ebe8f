/**
 * Numeric constants of the ELF format and their names.
 *
 * Values are from the System V ABI, generic part (gABI, "Object Files" chapter), the
 * AMD64/x86-64 psABI, and the GNU extensions as documented in the Linux Standard Base
 * (symbol versioning, GNU_* section and segment types). Names drop the C prefix
 * (`SHT_PROGBITS` is `SHT.PROGBITS` and is named "PROGBITS").
 */

/** Object file types (`e_type`). */
export const ET = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;

/** A few machine numbers (`e_machine`); {@link machineName} knows more. */
export const EM = {
  NONE: 0,
  I386: 3,
  ARM: 40,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243,
} as const;

/** Section header types (`sh_type`). */
export const SHT = {
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
  SYMTAB_SHNDX: 18,
  RELR: 19,
  GNU_ATTRIBUTES: 0x6ffffff5,
  GNU_HASH: 0x6ffffff6,
  GNU_LIBLIST: 0x6ffffff7,
  CHECKSUM: 0x6ffffff8,
  GNU_VERDEF: 0x6ffffffd,
  GNU_VERNEED: 0x6ffffffe,
  GNU_VERSYM: 0x6fffffff,
  X86_64_UNWIND: 0x70000001,
} as const;

/** Section flags (`sh_flags`), bit masks. */
export const SHF = {
  WRITE: 0x1,
  ALLOC: 0x2,
  EXECINSTR: 0x4,
  MERGE: 0x10,
  STRINGS: 0x20,
  INFO_LINK: 0x40,
  LINK_ORDER: 0x80,
  OS_NONCONFORMING: 0x100,
  GROUP: 0x200,
  TLS: 0x400,
  COMPRESSED: 0x800,
  GNU_RETAIN: 0x200000,
  X86_64_LARGE: 0x10000000,
  EXCLUDE: 0x80000000,
} as const;

/** Special section indices (`st_shndx` and `e_shstrndx` values). */
export const SHN = {
  UNDEF: 0,
  LORESERVE: 0xff00,
  ABS: 0xfff1,
  COMMON: 0xfff2,
  XINDEX: 0xffff,
} as const;

/** Segment types (`p_type`). */
export const PT = {
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
} as const;

/** Segment permission flags (`p_flags`), bit masks. */
export const PF = { X: 0x1, W: 0x2, R: 0x4 } as const;

/** Symbol types (low 4 bits of `st_info`). */
export const STT = {
  NOTYPE: 0,
  OBJECT: 1,
  FUNC: 2,
  SECTION: 3,
  FILE: 4,
  COMMON: 5,
  TLS: 6,
  GNU_IFUNC: 10,
} as const;

/** Symbol bindings (high 4 bits of `st_info`). */
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2, GNU_UNIQUE: 10 } as const;

/** Symbol visibilities (low 2 bits of `st_other`). */
export const STV = { DEFAULT: 0, INTERNAL: 1, HIDDEN: 2, PROTECTED: 3 } as const;

/** Dynamic section tags (`d_tag`). */
export const DT = {
  NULL: 0,
  NEEDED: 1,
  PLTRELSZ: 2,
  PLTGOT: 3,
  HASH: 4,
  STRTAB: 5,
  SYMTAB: 6,
  RELA: 7,
  RELASZ: 8,
  RELAENT: 9,
  STRSZ: 10,
  SYMENT: 11,
  INIT: 12,
  FINI: 13,
  SONAME: 14,
  RPATH: 15,
  SYMBOLIC: 16,
  REL: 17,
  RELSZ: 18,
  RELENT: 19,
  PLTREL: 20,
  DEBUG: 21,
  TEXTREL: 22,
  JMPREL: 23,
  BIND_NOW: 24,
  INIT_ARRAY: 25,
  FINI_ARRAY: 26,
  INIT_ARRAYSZ: 27,
  FINI_ARRAYSZ: 28,
  RUNPATH: 29,
  FLAGS: 30,
  PREINIT_ARRAY: 32,
  PREINIT_ARRAYSZ: 33,
  SYMTAB_SHNDX: 34,
  RELRSZ: 35,
  RELR: 36,
  RELRENT: 37,
  GNU_HASH: 0x6ffffef5,
  VERSYM: 0x6ffffff0,
  RELACOUNT: 0x6ffffff9,
  RELCOUNT: 0x6ffffffa,
  FLAGS_1: 0x6ffffffb,
  VERDEF: 0x6ffffffc,
  VERDEFNUM: 0x6ffffffd,
  VERNEED: 0x6ffffffe,
  VERNEEDNUM: 0x6fffffff,
} as const;

/** `DT_FLAGS_1` bit set by GNU ld for position-independent executables. */
export const DF_1_PIE = 0x08000000;

/** Note type of SystemTap SDT probe descriptors (owner "stapsdt"). */
export const NT_STAPSDT = 3;

function reverse(table: Readonly<Record<string, number>>): Map<number, string> {
  const map = new Map<number, string>();
  for (const [name, value] of Object.entries(table)) if (!map.has(value)) map.set(value, name);
  return map;
}

const ET_NAMES = reverse(ET);
const SHT_NAMES = reverse(SHT);
const PT_NAMES = reverse(PT);
const STT_NAMES = reverse(STT);
const STB_NAMES = reverse(STB);
const STV_NAMES = reverse(STV);
const DT_NAMES = reverse(DT);

/** Machine names, as people say them (gABI `e_machine` list). */
const MACHINE_NAMES = new Map<number, string>([
  [0, "none"],
  [2, "SPARC"],
  [3, "i386"],
  [4, "m68k"],
  [8, "MIPS"],
  [20, "PowerPC"],
  [21, "PowerPC64"],
  [22, "S/390"],
  [40, "ARM"],
  [42, "SuperH"],
  [43, "SPARC v9"],
  [50, "IA-64"],
  [62, "x86-64"],
  [183, "AArch64"],
  [243, "RISC-V"],
  [247, "BPF"],
  [258, "LoongArch"],
]);

/** Names of values 0..15 from `map` (symbol type, bind and visibility fields are 4 bits or less). */
function small(map: Map<number, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) out.push(map.get(i) ?? unknown(i));
  return out;
}

const STT_SMALL = small(STT_NAMES);
const STB_SMALL = small(STB_NAMES);
const STV_SMALL = small(STV_NAMES);

function unknown(value: number): string {
  return `0x${value.toString(16)}`;
}

/** Name of an object file type, e.g. "EXEC", "DYN"; unknown values as hex. */
export function fileTypeName(type: number): string {
  return ET_NAMES.get(type) ?? unknown(type);
}

/** Name of a machine, e.g. "x86-64", "i386"; unknown values as hex. */
export function machineName(machine: number): string {
  return MACHINE_NAMES.get(machine) ?? unknown(machine);
}

/** Name of a section type, e.g. "PROGBITS", "GNU_VERSYM"; unknown values as hex. */
export function sectionTypeName(type: number): string {
  return SHT_NAMES.get(type) ?? unknown(type);
}

/** Name of a segment type, e.g. "LOAD", "GNU_STACK"; unknown values as hex. */
export function segmentTypeName(type: number): string {
  return PT_NAMES.get(type) ?? unknown(type);
}

/** Name of a symbol type, e.g. "FUNC", "GNU_IFUNC"; unknown values as hex. */
export function symbolTypeName(type: number): string {
  return STT_SMALL[type] ?? STT_NAMES.get(type) ?? unknown(type);
}

/** Name of a symbol binding, e.g. "GLOBAL", "GNU_UNIQUE"; unknown values as hex. */
export function symbolBindName(bind: number): string {
  return STB_SMALL[bind] ?? STB_NAMES.get(bind) ?? unknown(bind);
}

/** Name of a symbol visibility: "DEFAULT", "INTERNAL", "HIDDEN" or "PROTECTED". */
export function symbolVisibilityName(visibility: number): string {
  return STV_SMALL[visibility] ?? STV_NAMES.get(visibility) ?? unknown(visibility);
}

/** Name of a dynamic tag, e.g. "NEEDED", "FLAGS_1"; unknown values as hex. */
export function dynamicTagName(tag: number): string {
  return DT_NAMES.get(tag) ?? unknown(tag);
}
