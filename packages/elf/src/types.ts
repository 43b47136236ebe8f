/**
 * The plain data shapes this package returns. All offsets and sizes are in bytes and are
 * numbers (a file that fits in memory has offsets below 2^53); addresses are `bigint` so
 * that 64-bit values are exact.
 */

/** The ELF file header (gABI "ELF Header"), with extended numbering already resolved. */
export interface ElfHeader {
  /** 32 for ELFCLASS32, 64 for ELFCLASS64. */
  readonly class: 32 | 64;
  /** Byte order of the file's data (EI_DATA). */
  readonly endian: "little" | "big";
  /** `e_ident[EI_OSABI]` (0 = System V, 3 = GNU/Linux). */
  readonly osabi: number;
  /** `e_ident[EI_ABIVERSION]`. */
  readonly abiVersion: number;
  /** `e_type` (see `ET`). */
  readonly type: number;
  /** `e_machine` (see `EM`). */
  readonly machine: number;
  /** `e_version` (1 for the current version). */
  readonly version: number;
  /** `e_entry`: the entry point virtual address, 0 when there is none. */
  readonly entry: bigint;
  /** `e_phoff`: file offset of the program header table, 0 when there is none. */
  readonly phoff: number;
  /** `e_shoff`: file offset of the section header table, 0 when there is none. */
  readonly shoff: number;
  /** `e_flags`: processor-specific flags. */
  readonly flags: number;
  /** `e_ehsize`: size of this header in bytes, as the file says. */
  readonly ehsize: number;
  /** `e_phentsize`: size of one program header in bytes. */
  readonly phentsize: number;
  /** Number of program headers (from `e_phnum`, or section 0's `sh_info` when `e_phnum` is PN_XNUM). */
  readonly phnum: number;
  /** `e_shentsize`: size of one section header in bytes. */
  readonly shentsize: number;
  /** Number of section headers (from `e_shnum`, or section 0's `sh_size` when `e_shnum` is 0). */
  readonly shnum: number;
  /** Index of the section name string table (from `e_shstrndx`, or section 0's `sh_link` when SHN_XINDEX); 0 = none. */
  readonly shstrndx: number;
}

/** One section header (gABI "Sections"), with its name resolved. */
export interface ElfSection {
  /** Index in the section header table. */
  readonly index: number;
  /** Name from the section name string table ("" when the file has none). */
  readonly name: string;
  /** `sh_name`: offset of the name in the section name string table. */
  readonly nameOffset: number;
  /** `sh_type` (see `SHT`). */
  readonly type: number;
  /** Name of `type`, e.g. "PROGBITS". */
  readonly typeName: string;
  /** `sh_flags` (see `SHF`). */
  readonly flags: number;
  /** `sh_addr`: virtual address when loaded, 0 when not allocated. */
  readonly addr: bigint;
  /** `sh_offset`: file offset of the contents. */
  readonly offset: number;
  /** `sh_size`: size in bytes (in memory; SHT_NOBITS occupies no file bytes). */
  readonly size: number;
  /** `sh_link`: a section index whose meaning depends on the type. */
  readonly link: number;
  /** `sh_info`: extra information whose meaning depends on the type. */
  readonly info: number;
  /** `sh_addralign`: alignment in bytes (0 or 1 = none). */
  readonly addralign: number;
  /** `sh_entsize`: size of one entry for tables, else 0. */
  readonly entsize: number;
}

/** One program header (gABI "Program Header"). */
export interface ElfSegment {
  /** Index in the program header table. */
  readonly index: number;
  /** `p_type` (see `PT`). */
  readonly type: number;
  /** Name of `type`, e.g. "LOAD". */
  readonly typeName: string;
  /** `p_flags` (see `PF`). */
  readonly flags: number;
  /** `p_flags` has PF_R. */
  readonly readable: boolean;
  /** `p_flags` has PF_W. */
  readonly writable: boolean;
  /** `p_flags` has PF_X. */
  readonly executable: boolean;
  /** `p_offset`: file offset of the first byte. */
  readonly offset: number;
  /** `p_vaddr`: virtual address of the first byte in memory. */
  readonly vaddr: bigint;
  /** `p_paddr`: physical address (usually equal to vaddr). */
  readonly paddr: bigint;
  /** `p_filesz`: bytes in the file. */
  readonly filesz: number;
  /** `p_memsz`: bytes in memory (the part past filesz is zero-filled). */
  readonly memsz: number;
  /** `p_align`: alignment in bytes. */
  readonly align: number;
}

/** The GNU symbol version attached to a dynamic symbol (via `.gnu.version`). */
export interface ElfSymbolVersion {
  /** Version name, e.g. "GLIBC_2.14". */
  readonly name: string;
  /** Version index (the `.gnu.version` entry without the hidden bit); 2 or more. */
  readonly index: number;
  /**
   * The hidden bit (0x8000) of the `.gnu.version` entry: the symbol is not the default
   * version of its name. Tools print a defined default version as `name@@VERSION` and a
   * hidden one as `name@VERSION`.
   */
  readonly hidden: boolean;
  /** "definition" when the version comes from `.gnu.version_d` (defined here), "needed" from `.gnu.version_r`. */
  readonly source: "definition" | "needed";
  /** For "needed" versions: the file that must provide it (e.g. "libc.so.6"). */
  readonly file?: string;
}

/** One symbol table entry (gABI "Symbol Table"). */
export interface ElfSymbol {
  /** Index in its symbol table. */
  readonly index: number;
  /** Name from the linked string table ("" when unnamed). */
  readonly name: string;
  /** `st_value`: an address (executables, shared objects) or a section offset (relocatable files). */
  readonly value: bigint;
  /** `st_size`: size in bytes, 0 when unknown. */
  readonly size: number;
  /** Symbol type (see `STT`). */
  readonly type: number;
  /** Name of `type`, e.g. "FUNC". */
  readonly typeName: string;
  /** Symbol binding (see `STB`). */
  readonly bind: number;
  /** Name of `bind`, e.g. "GLOBAL". */
  readonly bindName: string;
  /** Symbol visibility (see `STV`). */
  readonly visibility: number;
  /** Name of `visibility`, e.g. "DEFAULT". */
  readonly visibilityName: string;
  /** `st_other` as stored. */
  readonly other: number;
  /**
   * Section index: `st_shndx`, or the `SHT_SYMTAB_SHNDX` entry when `st_shndx` is
   * SHN_XINDEX. Special values: SHN_UNDEF (0), SHN_ABS (0xfff1), SHN_COMMON (0xfff2).
   */
  readonly sectionIndex: number;
  /** GNU symbol version (dynamic symbols only, when the file has version tables and the index is 2 or more). */
  readonly version?: ElfSymbolVersion;
}

/** One note (gABI "Note Section"). */
export interface ElfNote {
  /** Owner name without the terminating NUL, e.g. "GNU", "stapsdt". */
  readonly name: string;
  /** Note type; its meaning depends on the owner. */
  readonly type: number;
  /** Description bytes (a view into the file, not a copy). */
  readonly desc: Uint8Array;
  /** File offset of the note header (or offset within the area given to `parseNotes`). */
  readonly offset: number;
  /** Name of the SHT_NOTE section holding the note, when read from a section. */
  readonly section?: string;
  /** Index of the PT_NOTE segment holding the note, when it was found only through a segment. */
  readonly segmentIndex?: number;
}

/** One dynamic section entry (gABI "Dynamic Section"). */
export interface ElfDynamicEntry {
  /** `d_tag` (see `DT`). */
  readonly tag: number;
  /** Name of `tag`, e.g. "NEEDED". */
  readonly tagName: string;
  /** `d_val` / `d_ptr`. */
  readonly value: bigint;
}
