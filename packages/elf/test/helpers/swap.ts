// Builds a big-endian twin of a little-endian ELF file by byte-swapping every structure this
// package reads (headers, section and program headers, symbol tables, GNU version tables,
// notes and the SDT addresses in them, the dynamic section). Code and other section contents
// are left alone. Used to check big-endian parsing against readelf, which reads either order.
import { parseElf, SHT } from "../../src/index.ts";

export function toBigEndian(le: Uint8Array): Uint8Array {
  const elf = parseElf(le);
  if (elf.endian !== "little") throw new Error("swap helper: input must be little-endian");
  const out = le.slice();
  const src = new DataView(le.buffer, le.byteOffset, le.byteLength);
  const is64 = elf.class === 64;
  const w = is64 ? 8 : 4;
  const swap = (at: number, width: number): void => {
    for (let i = 0; i < width; i++) out[at + i] = le[at + width - 1 - i]!;
  };
  const fields = (at: number, widths: readonly number[]): void => {
    let o = at;
    for (const width of widths) {
      swap(o, width);
      o += width;
    }
  };
  out[5] = 2; // ELFDATA2MSB
  fields(16, [2, 2, 4, w, w, w, 4, 2, 2, 2, 2, 2, 2]);
  const sh = is64 ? [4, 4, 8, 8, 8, 8, 4, 4, 8, 8] : [4, 4, 4, 4, 4, 4, 4, 4, 4, 4];
  for (let i = 0; i < elf.header.shnum; i++) fields(elf.header.shoff + i * elf.header.shentsize, sh);
  const ph = is64 ? [4, 4, 8, 8, 8, 8, 8, 8] : [4, 4, 4, 4, 4, 4, 4, 4];
  for (let i = 0; i < elf.header.phnum; i++) fields(elf.header.phoff + i * elf.header.phentsize, ph);

  for (const s of elf.sections) {
    const base = s.offset;
    const end = s.offset + s.size;
    if (s.type === SHT.SYMTAB || s.type === SHT.DYNSYM) {
      const sym = is64 ? [4, 1, 1, 2, 8, 8] : [4, 4, 4, 1, 1, 2];
      for (let o = base; o < end; o += s.entsize) fields(o, sym);
    } else if (s.type === SHT.GNU_VERSYM) {
      for (let o = base; o < end; o += 2) swap(o, 2);
    } else if (s.type === SHT.SYMTAB_SHNDX) {
      for (let o = base; o < end; o += 4) swap(o, 4);
    } else if (s.type === SHT.GNU_VERDEF) {
      let o = base;
      for (let n = 0; n < s.info; n++) {
        const cnt = src.getUint16(o + 6, true);
        const aux = src.getUint32(o + 12, true);
        const next = src.getUint32(o + 16, true);
        fields(o, [2, 2, 2, 2, 4, 4, 4]);
        let a = o + aux;
        for (let j = 0; j < cnt; j++) {
          const anext = src.getUint32(a + 4, true);
          fields(a, [4, 4]);
          a += anext;
        }
        if (next === 0) break;
        o += next;
      }
    } else if (s.type === SHT.GNU_VERNEED) {
      let o = base;
      for (let n = 0; n < s.info; n++) {
        const cnt = src.getUint16(o + 2, true);
        const aux = src.getUint32(o + 8, true);
        const next = src.getUint32(o + 12, true);
        fields(o, [2, 2, 4, 4, 4]);
        let a = o + aux;
        for (let j = 0; j < cnt; j++) {
          const anext = src.getUint32(a + 12, true);
          fields(a, [4, 2, 2, 4, 4]);
          a += anext;
        }
        if (next === 0) break;
        o += next;
      }
    } else if (s.type === SHT.DYNAMIC) {
      for (let o = base; o + 2 * w <= end; o += 2 * w) fields(o, [w, w]);
    }
  }
  for (const n of elf.notes()) {
    fields(n.offset, [4, 4, 4]);
    if (n.name === "stapsdt" && n.type === 3) {
      const descAt = n.desc.byteOffset - le.byteOffset;
      fields(descAt, [w, w, w]);
    }
  }
  return out;
}
