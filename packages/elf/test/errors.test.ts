// Acceptance 3 (messages): the errors users will see name what is wrong and where. Inputs are
// the committed fixtures with one field changed.
import { describe, expect, test } from "vitest";
import { ElfError, parseElf, parseNotes, parseStapsdtNotes } from "../src/index.ts";
import { fixture, put } from "./helpers/fixtures.ts";

function thrown(fn: () => unknown): ElfError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ElfError) return e;
    throw e;
  }
  throw new Error("expected an ElfError, nothing was thrown");
}

/** File offset of a field of section header `index` (ELF64 layout). */
function shField(bytes: Uint8Array, index: number, fieldOffset: number): number {
  const elf = parseElf(bytes);
  return elf.header.shoff + index * elf.header.shentsize + fieldOffset;
}

describe("error messages", () => {
  test("not an ELF file: shows the magic found", () => {
    const e = thrown(() => parseElf(new TextEncoder().encode("#!/bin/sh\necho hi\n")));
    expect(e.code).toBe("NOT_ELF");
    expect(e.message).toBe("not an ELF file (magic is 7f 45 4c 46, found 23 21 2f 62)");
    expect(e.name).toBe("ElfError");
    expect(thrown(() => parseElf(new Uint8Array(0))).message).toBe("not an ELF file (the file is empty)");
    expect(thrown(() => parseElf(new Uint8Array([0x7f, 0x45]))).message).toBe(
      "not an ELF file (file is 2 bytes, too short for the magic 7f 45 4c 46, found 7f 45)",
    );
  });

  test("truncated header", () => {
    const e = thrown(() => parseElf(fixture("tiny64").slice(0, 40)));
    expect(e.code).toBe("TRUNCATED");
    expect(e.message).toBe("truncated ELF header: file is 40 bytes, an ELF64 header needs 64");
    expect(thrown(() => parseElf(fixture("tiny32.o").slice(0, 10))).message).toBe(
      "truncated ELF header: file is 10 bytes, the identification alone (e_ident) needs 16",
    );
  });

  test("bad class and byte order", () => {
    const b = fixture("tiny64");
    b[4] = 3;
    const e = thrown(() => parseElf(b));
    expect(e.code).toBe("BAD_CLASS");
    expect(e.message).toBe(
      "bad ELF class 3 at offset 0x4 (e_ident[EI_CLASS]): expected 1 (ELFCLASS32) or 2 (ELFCLASS64)",
    );
    const c = fixture("tiny64");
    c[5] = 0;
    expect(thrown(() => parseElf(c)).code).toBe("BAD_ENDIAN");
  });

  test("section past end of file names the section, its offset and size, and the file size", () => {
    const b = fixture("tiny64");
    const text = parseElf(b).sectionByName(".text")!;
    put(b, shField(b, text.index, 32), 8, 0x99999);
    const e = thrown(() => parseElf(b));
    expect(e.code).toBe("BAD_SECTION");
    expect(e.message).toBe(
      `section header ${text.index} (.text): offset 0x${text.offset.toString(16)} + size 0x99999 runs past end of file (size 0x${b.length.toString(16)})`,
    );
  });

  test("section header table past end of file", () => {
    const b = fixture("tiny64");
    const shoff = parseElf(b).header.shoff;
    const e = thrown(() => parseElf(b.slice(0, shoff + 100)));
    expect(e.code).toBe("BAD_SECTION");
    expect(e.message).toMatch(
      /^section header table at offset 0x[0-9a-f]+ \(25 entries of 64 bytes\) runs past end of file \(size 0x[0-9a-f]+\)$/,
    );
  });

  test("bad string index in a symbol name", () => {
    const b = fixture("tiny64");
    const elf = parseElf(b);
    const symtab = elf.sectionByName(".symtab")!;
    const strtab = elf.sectionByName(".strtab")!;
    put(b, symtab.offset + 1 * 24, 4, 0x9999); // st_name of symbol 1
    const e = thrown(() => parseElf(b).symbols());
    expect(e.code).toBe("BAD_STRING");
    expect(e.message).toBe(
      `symbol 1 in section ${symtab.index} (.symtab): name offset 0x9999 is past the end of string table section ${strtab.index} (.strtab) (size 0x${strtab.size.toString(16)})`,
    );
  });

  test("bad string index in a section name", () => {
    const b = fixture("tiny32.o");
    const elf = parseElf(b);
    const shstrtab = elf.sections[elf.header.shstrndx]!;
    put(b, elf.header.shoff + 3 * elf.header.shentsize, 4, 0x1234);
    const e = thrown(() => parseElf(b));
    expect(e.code).toBe("BAD_STRING");
    expect(e.message).toBe(
      `section header 3: name offset 0x1234 is past the end of string table section ${shstrtab.index} (.shstrtab) (size 0x${shstrtab.size.toString(16)})`,
    );
  });

  test("unterminated string", () => {
    const b = fixture("tiny64");
    const elf = parseElf(b);
    const strtab = elf.sectionByName(".strtab")!;
    b.fill(0x41, strtab.offset + 1, strtab.offset + strtab.size); // no NUL after the leading empty name
    const e = thrown(() => parseElf(b).symbols());
    expect(e.code).toBe("BAD_STRING");
    expect(e.message).toMatch(
      /^symbol 1 in section \d+ \(\.symtab\): string at offset 0x[0-9a-f]+ in string table section \d+ \(\.strtab\) \(size 0x[0-9a-f]+\) has no terminating NUL$/,
    );
  });

  test("e_shstrndx out of range", () => {
    const b = fixture("tiny64");
    put(b, 62, 2, 200);
    const e = thrown(() => parseElf(b));
    expect(e.code).toBe("BAD_SECTION");
    expect(e.message).toBe(
      "e_shstrndx 200 (section name string table) is out of range: the file has 25 sections",
    );
  });

  test("zero sh_entsize in a symbol table", () => {
    const b = fixture("tiny64");
    const symtab = parseElf(b).sectionByName(".symtab")!;
    put(b, shField(b, symtab.index, 56), 8, 0);
    const e = thrown(() => parseElf(b).symbols());
    expect(e.code).toBe("BAD_SYMBOL");
    expect(e.message).toBe(
      `section ${symtab.index} (.symtab): sh_entsize is 0, an ELF64 symbol needs 24 bytes`,
    );
  });

  test("symbol table linked to a section that is not a string table", () => {
    const b = fixture("tiny64");
    const symtab = parseElf(b).sectionByName(".symtab")!;
    put(b, shField(b, symtab.index, 40), 4, symtab.index);
    const e = thrown(() => parseElf(b).symbols());
    expect(e.code).toBe("BAD_SYMBOL");
    expect(e.message).toBe(
      `section ${symtab.index} (.symtab): sh_link ${symtab.index} names section ${symtab.index} (.symtab), which is a SYMTAB section, not a string table (STRTAB)`,
    );
  });

  test("segment past end of file", () => {
    const b = fixture("tiny64");
    const elf = parseElf(b);
    const load = elf.segments.find((s) => s.typeName === "LOAD")!;
    put(b, elf.header.phoff + load.index * elf.header.phentsize + 32, 8, 0x123456);
    const e = thrown(() => parseElf(b));
    expect(e.code).toBe("BAD_SEGMENT");
    expect(e.message).toBe(
      `program header ${load.index} (LOAD): offset 0x${load.offset.toString(16)} + filesz 0x123456 runs past end of file (size 0x${b.length.toString(16)})`,
    );
  });

  test("note running past its section", () => {
    const b = fixture("tiny64");
    const elf = parseElf(b);
    const stapsdt = elf.sectionByName(".note.stapsdt")!;
    put(b, stapsdt.offset + 4, 4, 0x7000); // descsz of the first note
    const e = thrown(() => parseStapsdtNotes(parseElf(b)));
    expect(e.code).toBe("BAD_NOTE");
    expect(e.message).toBe(
      `section ${stapsdt.index} (.note.stapsdt): note at offset 0x${stapsdt.offset.toString(16)}: description size 0x7000 runs past the end of the area (size 0x${stapsdt.size.toString(16)})`,
    );
    expect(thrown(() => parseNotes(new Uint8Array(5))).message).toBe(
      "note area: note at offset 0x0: header needs 12 bytes, only 5 left",
    );
  });

  test("a stapsdt note too short for its addresses", () => {
    const note = new Uint8Array(12 + 8 + 8);
    put(note, 0, 4, 8); // namesz "stapsdt\0"
    put(note, 4, 4, 8); // descsz: one address only
    put(note, 8, 4, 3);
    note.set(new TextEncoder().encode("stapsdt\0"), 12);
    const source = {
      class: 64 as const,
      endian: "little" as const,
      machine: 62,
      notes: () => parseNotes(note, { baseOffset: 0x100 }),
      sectionByName: () => undefined,
    };
    const e = thrown(() => parseStapsdtNotes(source));
    expect(e.code).toBe("BAD_NOTE");
    expect(e.message).toBe(
      "stapsdt note at offset 0x100: description is 8 bytes, too short for pc, base and semaphore (24 bytes)",
    );
  });

  test("a section from another file", () => {
    const a = parseElf(fixture("tiny64"));
    const b = parseElf(fixture("tiny32.o"));
    const e = thrown(() => b.sectionData(a.sectionByName(".dynsym")!));
    expect(e.code).toBe("BAD_ARGUMENT");
    expect(e.message).toBe(
      `section ${a.sectionByName(".dynsym")!.index} (.dynsym) is not a section of this file`,
    );
  });
});
