/**
 * The ELF header (gABI "ELF Header", "ELF Identification") (internal).
 *
 * Layout, byte offsets for ELF32 / ELF64:
 * e_ident 0 (16 bytes: magic 7f 'E' 'L' 'F', EI_CLASS 4, EI_DATA 5, EI_VERSION 6,
 * EI_OSABI 7, EI_ABIVERSION 8), e_type 16, e_machine 18, e_version 20, e_entry 24/24,
 * e_phoff 28/32, e_shoff 32/40, e_flags 36/48, e_ehsize 40/52, e_phentsize 42/54,
 * e_phnum 44/56, e_shentsize 46/58, e_shnum 48/60, e_shstrndx 50/62; size 52/64.
 */
import { ElfError, hex } from "./errors.ts";
import { Reader } from "./reader.ts";

const MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** The header fields as stored, before extended numbering (section 0) is applied. */
export interface RawHeader {
  readonly class: 32 | 64;
  readonly endian: "little" | "big";
  readonly osabi: number;
  readonly abiVersion: number;
  readonly type: number;
  readonly machine: number;
  readonly version: number;
  readonly entry: bigint;
  readonly phoff: number;
  readonly shoff: number;
  readonly flags: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

function bytesHex(bytes: Uint8Array, start: number, count: number): string {
  const parts: string[] = [];
  for (let i = start; i < start + count && i < bytes.length; i++) {
    parts.push(bytes[i]!.toString(16).padStart(2, "0"));
  }
  return parts.join(" ");
}

/** Checks the identification bytes and reads the header; returns it with a reader in the file's byte order. */
export function readHeader(bytes: Uint8Array): { header: RawHeader; reader: Reader } {
  const len = bytes.length;
  const magicOk = len >= 4 && MAGIC.every((b, i) => bytes[i] === b);
  if (!magicOk) {
    if (len === 0) throw new ElfError("NOT_ELF", "not an ELF file (the file is empty)");
    if (len < 4 && MAGIC.slice(0, len).every((b, i) => bytes[i] === b)) {
      throw new ElfError(
        "NOT_ELF",
        `not an ELF file (file is ${len} bytes, too short for the magic 7f 45 4c 46, found ${bytesHex(bytes, 0, len)})`,
      );
    }
    throw new ElfError("NOT_ELF", `not an ELF file (magic is 7f 45 4c 46, found ${bytesHex(bytes, 0, 4)})`);
  }
  if (len < 16) {
    throw new ElfError(
      "TRUNCATED",
      `truncated ELF header: file is ${len} bytes, the identification alone (e_ident) needs 16`,
    );
  }
  const eiClass = bytes[4]!;
  if (eiClass !== 1 && eiClass !== 2) {
    throw new ElfError(
      "BAD_CLASS",
      `bad ELF class ${eiClass} at offset 0x4 (e_ident[EI_CLASS]): expected 1 (ELFCLASS32) or 2 (ELFCLASS64)`,
    );
  }
  const eiData = bytes[5]!;
  if (eiData !== 1 && eiData !== 2) {
    throw new ElfError(
      "BAD_ENDIAN",
      `bad ELF data encoding ${eiData} at offset 0x5 (e_ident[EI_DATA]): expected 1 (little-endian) or 2 (big-endian)`,
    );
  }
  const is64 = eiClass === 2;
  const size = is64 ? 64 : 52;
  if (len < size) {
    throw new ElfError(
      "TRUNCATED",
      `truncated ELF header: file is ${len} bytes, an ELF${is64 ? 64 : 32} header needs ${size}`,
    );
  }
  const r = new Reader(bytes, eiData === 1);
  const phoff = r.word(is64 ? 32 : 28, is64);
  const shoff = r.word(is64 ? 40 : 32, is64);
  if (phoff < 0 || shoff < 0) {
    const which = phoff < 0 ? "e_phoff" : "e_shoff";
    const at = phoff < 0 ? 32 : 40;
    throw new ElfError("BAD_HEADER", `${which} ${hex(r.u64(at))} is past end of file (size ${hex(len)})`);
  }
  const o = is64 ? 48 : 36;
  const header: RawHeader = {
    class: is64 ? 64 : 32,
    endian: eiData === 1 ? "little" : "big",
    osabi: bytes[7]!,
    abiVersion: bytes[8]!,
    type: r.u16(16),
    machine: r.u16(18),
    version: r.u32(20),
    entry: r.addr(24, is64),
    phoff,
    shoff,
    flags: r.u32(o),
    ehsize: r.u16(o + 4),
    phentsize: r.u16(o + 6),
    phnum: r.u16(o + 8),
    shentsize: r.u16(o + 10),
    shnum: r.u16(o + 12),
    shstrndx: r.u16(o + 14),
  };
  return { header, reader: r };
}
