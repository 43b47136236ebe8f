/**
 * The program header table (gABI "Program Header") (internal).
 *
 * Program header layout, byte offsets for ELF32 / ELF64:
 * p_type 0/0, p_offset 4/8, p_vaddr 8/16, p_paddr 12/24, p_filesz 16/32, p_memsz 20/40,
 * p_flags 24/4, p_align 28/48; size 32/56.
 */
import { PF, segmentTypeName } from "./constants.ts";
import { ElfError, hex } from "./errors.ts";
import type { Reader } from "./reader.ts";
import type { ElfHeader, ElfSegment } from "./types.ts";

/** Reads the program header table and checks that every segment's file bytes are inside the file. */
export function readSegments(r: Reader, header: ElfHeader): ElfSegment[] {
  const is64 = header.class === 64;
  const len = r.length;
  const segments: ElfSegment[] = [];
  if (header.phoff === 0 || header.phnum === 0) return segments;
  const minEntry = is64 ? 56 : 32;
  if (header.phentsize < minEntry) {
    throw new ElfError(
      "BAD_HEADER",
      `e_phentsize is ${header.phentsize}, an ELF${header.class} program header needs at least ${minEntry} bytes`,
    );
  }
  if (header.phoff > len || header.phnum * header.phentsize > len - header.phoff) {
    throw new ElfError(
      "BAD_SEGMENT",
      `program header table at offset ${hex(header.phoff)} (${header.phnum} entries of ${header.phentsize} bytes) runs past end of file (size ${hex(len)})`,
    );
  }
  for (let i = 0; i < header.phnum; i++) {
    const at = header.phoff + i * header.phentsize;
    const num = (value: number, field: string, fieldAt: number): number => {
      if (value < 0) {
        throw new ElfError(
          "BAD_SEGMENT",
          `program header ${i}: ${field} ${hex(r.u64(fieldAt))} is too large`,
        );
      }
      return value;
    };
    const type = r.u32(at);
    let flags: number;
    let offset: number;
    let vaddr: bigint;
    let paddr: bigint;
    let filesz: number;
    let memsz: number;
    let align: number;
    if (is64) {
      flags = r.u32(at + 4);
      offset = num(r.u64n(at + 8), "p_offset", at + 8);
      vaddr = r.u64(at + 16);
      paddr = r.u64(at + 24);
      filesz = num(r.u64n(at + 32), "p_filesz", at + 32);
      memsz = num(r.u64n(at + 40), "p_memsz", at + 40);
      align = num(r.u64n(at + 48), "p_align", at + 48);
    } else {
      offset = r.u32(at + 4);
      vaddr = BigInt(r.u32(at + 8));
      paddr = BigInt(r.u32(at + 12));
      filesz = r.u32(at + 16);
      memsz = r.u32(at + 20);
      flags = r.u32(at + 24);
      align = r.u32(at + 28);
    }
    const typeName = segmentTypeName(type);
    if (type !== 0 && offset + filesz > len) {
      throw new ElfError(
        "BAD_SEGMENT",
        `program header ${i} (${typeName}): offset ${hex(offset)} + filesz ${hex(filesz)} runs past end of file (size ${hex(len)})`,
      );
    }
    segments.push({
      index: i,
      type,
      typeName,
      flags,
      readable: (flags & PF.R) !== 0,
      writable: (flags & PF.W) !== 0,
      executable: (flags & PF.X) !== 0,
      offset,
      vaddr,
      paddr,
      filesz,
      memsz,
      align,
    });
  }
  return segments;
}
