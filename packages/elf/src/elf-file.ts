/**
 * `parseElf` and the `ElfFile` it returns: headers, sections and segments are read and
 * checked when the file is parsed; symbol tables, notes and the dynamic section are read on
 * first use and cached.
 */
import { DF_1_PIE, DT, dynamicTagName, ET, fileTypeName, machineName, PT, SHT, STT } from "./constants.ts";
import { type FileContext, sectionLabel } from "./context.ts";
import { ElfError, hex } from "./errors.ts";
import { readHeader } from "./header.ts";
import { parseNotes } from "./notes.ts";
import { hasFileBytes, readSections } from "./sections.ts";
import { readSegments } from "./segments.ts";
import { decodeString } from "./strtab.ts";
import { Symbolizer } from "./symbolizer.ts";
import { readSymbolTable } from "./symbols.ts";
import type { ElfDynamicEntry, ElfHeader, ElfNote, ElfSection, ElfSegment, ElfSymbol } from "./types.ts";

/** Options for {@link ElfFile.symbolizer}. */
export interface SymbolizerOptions {
  /** Symbol types to include (see `STT`); default FUNC and GNU_IFUNC. */
  readonly types?: readonly number[];
  /** Only symbols whose section index is this (for relocatable objects, where values are section offsets). */
  readonly sectionIndex?: number;
  /** Also use `.dynsym` (default true); at equal addresses the usual preference applies, then `.symtab` first. */
  readonly dynamic?: boolean;
}

/**
 * A parsed ELF file. Create it with {@link parseElf}. All byte arrays it returns are views into
 * the input (no copies): do not modify the input while using them.
 */
export class ElfFile {
  /** The whole file. */
  readonly bytes: Uint8Array;
  /** The ELF header, with extended numbering resolved. */
  readonly header: ElfHeader;
  /** 32 (ELFCLASS32) or 64 (ELFCLASS64). */
  readonly class: 32 | 64;
  /** Byte order of the file. */
  readonly endian: "little" | "big";
  /** `e_type` (see `ET`). */
  readonly type: number;
  /** Name of `type`: "REL", "EXEC", "DYN", "CORE", ... */
  readonly typeName: string;
  /** `e_machine` (see `EM`). */
  readonly machine: number;
  /** Name of `machine`, e.g. "x86-64", "i386". */
  readonly machineName: string;
  /** Entry point virtual address (0n when none). */
  readonly entry: bigint;
  /** Every section header, in table order (index 0 is the null section when there is a table). */
  readonly sections: readonly ElfSection[];
  /** Every program header, in table order. */
  readonly segments: readonly ElfSegment[];

  private readonly ctx: FileContext;
  private byName: Map<string, ElfSection> | undefined;
  private symtabCache: readonly ElfSymbol[] | undefined;
  private dynsymCache: readonly ElfSymbol[] | undefined;
  private notesCache: readonly ElfNote[] | undefined;
  private dynamicCache: readonly ElfDynamicEntry[] | undefined;

  /** Use {@link parseElf}. */
  constructor(bytes: Uint8Array, header: ElfHeader, sections: ElfSection[], segments: ElfSegment[]) {
    this.bytes = bytes;
    this.header = header;
    this.class = header.class;
    this.endian = header.endian;
    this.type = header.type;
    this.typeName = fileTypeName(header.type);
    this.machine = header.machine;
    this.machineName = machineName(header.machine);
    this.entry = header.entry;
    this.sections = sections;
    this.segments = segments;
    this.ctx = {
      is64: header.class === 64,
      little: header.endian === "little",
      sections,
      data: (s) => this.sectionData(s),
    };
  }

  /** The first section with this name, or undefined. */
  sectionByName(name: string): ElfSection | undefined {
    if (this.byName === undefined) {
      const map = new Map<string, ElfSection>();
      for (const s of this.sections) if (!map.has(s.name)) map.set(s.name, s);
      this.byName = map;
    }
    return this.byName.get(name);
  }

  /** Every section of this type (see `SHT`), in table order. */
  sectionsOfType(type: number): ElfSection[] {
    return this.sections.filter((s) => s.type === type);
  }

  /**
   * The section's bytes in the file: a view of `size` bytes at `offset`, empty for SHT_NOBITS
   * and SHT_NULL. Compressed sections (SHF_COMPRESSED) are returned as stored.
   *
   * @throws {@link ElfError} `BAD_ARGUMENT` when `section` is not one of this file's sections.
   */
  sectionData(section: ElfSection): Uint8Array {
    const own = this.sections[section.index];
    if (
      own === undefined ||
      own.offset !== section.offset ||
      own.size !== section.size ||
      own.type !== section.type
    ) {
      throw new ElfError("BAD_ARGUMENT", `${sectionLabel(section)} is not a section of this file`);
    }
    if (!hasFileBytes(own.type)) return this.bytes.subarray(0, 0);
    // SAFETY: readSections checked offset + size <= file size for every section with file bytes.
    return this.bytes.subarray(own.offset, own.offset + own.size);
  }

  /**
   * The segment's bytes in the file: a view of `filesz` bytes at `offset` (the memory image is
   * `memsz` bytes; the rest is zero).
   *
   * @throws {@link ElfError} `BAD_ARGUMENT` when `segment` is not one of this file's segments.
   */
  segmentData(segment: ElfSegment): Uint8Array {
    const own = this.segments[segment.index];
    if (own === undefined || own.offset !== segment.offset || own.filesz !== segment.filesz) {
      throw new ElfError("BAD_ARGUMENT", `program header ${segment.index} is not a segment of this file`);
    }
    if (own.type === PT.NULL) return this.bytes.subarray(0, 0);
    // SAFETY: readSegments checked offset + filesz <= file size.
    return this.bytes.subarray(own.offset, own.offset + own.filesz);
  }

  /**
   * The file offset holding the byte at virtual address `vaddr`, through the PT_LOAD segments,
   * or undefined when no segment has a file byte there (e.g. in .bss).
   */
  addressToOffset(vaddr: bigint): number | undefined {
    for (const s of this.segments) {
      if (s.type !== PT.LOAD || vaddr < s.vaddr) continue;
      const delta = vaddr - s.vaddr;
      if (delta < BigInt(s.filesz)) return s.offset + Number(delta);
    }
    return undefined;
  }

  /**
   * Symbols of the first SHT_SYMTAB section (`.symtab`), index 0 included; empty when the
   * file has none (e.g. stripped). Cached.
   *
   * @throws {@link ElfError} `BAD_SYMBOL` for a malformed table, `BAD_STRING` for a bad name.
   */
  symbols(): readonly ElfSymbol[] {
    if (this.symtabCache === undefined) {
      const s = this.sections.find((x) => x.type === SHT.SYMTAB);
      this.symtabCache = s === undefined ? [] : readSymbolTable(this.ctx, s);
    }
    return this.symtabCache;
  }

  /**
   * Symbols of the first SHT_DYNSYM section (`.dynsym`), index 0 included, each with its GNU
   * version when the file has `.gnu.version`; empty when there is none. Cached.
   *
   * @throws {@link ElfError} `BAD_SYMBOL` for a malformed table or version table,
   *   `BAD_STRING` for a bad name.
   */
  dynamicSymbols(): readonly ElfSymbol[] {
    if (this.dynsymCache === undefined) {
      const s = this.sections.find((x) => x.type === SHT.DYNSYM);
      this.dynsymCache = s === undefined ? [] : readSymbolTable(this.ctx, s);
    }
    return this.dynsymCache;
  }

  /**
   * The program interpreter named by PT_INTERP (e.g. "/lib64/ld-linux-x86-64.so.2"), or
   * undefined when there is none.
   *
   * @throws {@link ElfError} `BAD_SEGMENT` when the PT_INTERP string is not NUL-terminated.
   */
  interpreter(): string | undefined {
    const seg = this.segments.find((s) => s.type === PT.INTERP);
    if (seg === undefined) return undefined;
    const data = this.segmentData(seg);
    const end = data.indexOf(0);
    if (end < 0) {
      throw new ElfError(
        "BAD_SEGMENT",
        `program header ${seg.index} (INTERP): the interpreter path at offset ${hex(seg.offset)} (filesz ${hex(seg.filesz)}) has no terminating NUL`,
      );
    }
    return decodeString(data, 0, end);
  }

  /**
   * Entries of the dynamic section (the SHT_DYNAMIC section, else the PT_DYNAMIC segment), up
   * to and without the terminating DT_NULL; empty when there is none. Cached.
   *
   * @throws {@link ElfError} `BAD_DYNAMIC` when the table ends inside an entry with no DT_NULL.
   */
  dynamic(): readonly ElfDynamicEntry[] {
    if (this.dynamicCache !== undefined) return this.dynamicCache;
    let data: Uint8Array | undefined;
    let where = "";
    const sec = this.sections.find((s) => s.type === SHT.DYNAMIC);
    if (sec !== undefined) {
      data = this.sectionData(sec);
      where = sectionLabel(sec);
    } else {
      const seg = this.segments.find((s) => s.type === PT.DYNAMIC);
      if (seg !== undefined) {
        data = this.segmentData(seg);
        where = `program header ${seg.index} (DYNAMIC)`;
      }
    }
    const out: ElfDynamicEntry[] = [];
    if (data !== undefined) {
      const is64 = this.class === 64;
      const size = is64 ? 16 : 8;
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const little = this.endian === "little";
      let off = 0;
      for (; off + size <= data.length; off += size) {
        const tagBig = is64 ? view.getBigInt64(off, little) : BigInt(view.getInt32(off, little));
        const value = is64 ? view.getBigUint64(off + 8, little) : BigInt(view.getUint32(off + 4, little));
        const tag = Number(tagBig);
        if (tag === DT.NULL) break;
        out.push({ tag, tagName: dynamicTagName(tag), value });
      }
      if (off + size > data.length && data.length % size !== 0) {
        throw new ElfError(
          "BAD_DYNAMIC",
          `${where}: size ${hex(data.length)} is not a whole number of ${size}-byte entries and has no DT_NULL`,
        );
      }
    }
    this.dynamicCache = out;
    return out;
  }

  /**
   * True for a position-independent executable: ET_DYN with DF_1_PIE in DT_FLAGS_1 (set by GNU
   * ld and lld), or, for files linked without that flag, ET_DYN with a PT_INTERP and no
   * DT_SONAME. A static-pie is a PIE without PT_INTERP.
   *
   * @throws {@link ElfError} `BAD_DYNAMIC` as {@link dynamic} does.
   */
  get isPie(): boolean {
    if (this.type !== ET.DYN) return false;
    let soname = false;
    for (const d of this.dynamic()) {
      if (d.tag === DT.FLAGS_1 && (d.value & BigInt(DF_1_PIE)) !== 0n) return true;
      if (d.tag === DT.SONAME) soname = true;
    }
    return !soname && this.segments.some((s) => s.type === PT.INTERP);
  }

  /**
   * True for an executable the kernel starts without a dynamic loader: no PT_INTERP, and either
   * ET_EXEC or a PIE (static-pie, which does have PT_DYNAMIC for its self-relocation). Shared
   * libraries, relocatable objects and core files are not static executables.
   *
   * @throws {@link ElfError} `BAD_DYNAMIC` as {@link dynamic} does (for ET_DYN files).
   */
  get isStaticExecutable(): boolean {
    if (this.segments.some((s) => s.type === PT.INTERP)) return false;
    if (this.type === ET.EXEC) return true;
    return this.type === ET.DYN && this.isPie;
  }

  /**
   * Every note of the file: those of SHT_NOTE sections, then those of PT_NOTE segments that
   * no SHT_NOTE section covers (e.g. when section headers were stripped). Cached.
   *
   * @throws {@link ElfError} `BAD_NOTE` for a malformed note.
   */
  notes(): readonly ElfNote[] {
    if (this.notesCache !== undefined) return this.notesCache;
    const out: ElfNote[] = [];
    const noteSections = this.sections.filter((s) => s.type === SHT.NOTE);
    // Note areas of a real file do not overlap, so their total is at most the file size; a
    // crafted file could point thousands of headers at one big area. Stop that early.
    let budget = this.bytes.length + 4096;
    const spend = (size: number, where: string): void => {
      budget -= size;
      if (budget < 0) {
        throw new ElfError(
          "BAD_NOTE",
          `${where}: note areas add up to more than the file size (${hex(this.bytes.length)}); sections or segments overlap`,
        );
      }
    };
    for (const s of noteSections) {
      spend(s.size, sectionLabel(s));
      out.push(
        ...parseNotes(this.sectionData(s), {
          align: s.addralign === 8 ? 8 : 4,
          endian: this.endian,
          baseOffset: s.offset,
          where: sectionLabel(s),
          section: s.name,
        }),
      );
    }
    for (const seg of this.segments) {
      if (seg.type !== PT.NOTE) continue;
      const end = seg.offset + seg.filesz;
      const covered = noteSections.some(
        (s) => s.size > 0 && s.offset < end && s.offset + s.size > seg.offset,
      );
      if (covered) continue;
      spend(seg.filesz, `program header ${seg.index} (NOTE)`);
      out.push(
        ...parseNotes(this.segmentData(seg), {
          align: seg.align === 8 ? 8 : 4,
          endian: this.endian,
          baseOffset: seg.offset,
          where: `program header ${seg.index} (NOTE)`,
          segmentIndex: seg.index,
        }),
      );
    }
    this.notesCache = out;
    return out;
  }

  /**
   * An address → symbol map over the defined function symbols (by default) of `.symtab` and
   * `.dynsym`; see {@link Symbolizer} for how ties are broken.
   *
   * @throws whatever {@link symbols} and {@link dynamicSymbols} throw.
   */
  symbolizer(options: SymbolizerOptions = {}): Symbolizer {
    const types = options.types ?? [STT.FUNC, STT.GNU_IFUNC];
    const candidates = [...this.symbols()];
    if (options.dynamic ?? true) candidates.push(...this.dynamicSymbols());
    const wanted = candidates.filter(
      (s) =>
        types.includes(s.type) &&
        (options.sectionIndex === undefined || s.sectionIndex === options.sectionIndex),
    );
    return new Symbolizer(wanted);
  }
}

/**
 * Parses an ELF32 or ELF64 file of either byte order: the ELF header, the section header
 * table (with names) and the program header table, checking that every table and every
 * section's and segment's file bytes lie inside `bytes`. Symbols, notes and the dynamic
 * section are read later, on demand. Does not copy `bytes`.
 *
 * @throws {@link ElfError} `NOT_ELF`, `TRUNCATED`, `BAD_CLASS`, `BAD_ENDIAN`, `BAD_HEADER`,
 *   `BAD_SECTION`, `BAD_SEGMENT` or `BAD_STRING`, with a message saying what and where.
 */
export function parseElf(bytes: Uint8Array): ElfFile {
  const { header: raw, reader } = readHeader(bytes);
  const { header, sections } = readSections(reader, raw);
  const segments = readSegments(reader, header);
  return new ElfFile(bytes, header, sections, segments);
}
