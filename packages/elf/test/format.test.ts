// Format details checked against readelf: extended section/segment numbering (gABI), files
// whose section headers were stripped, the dynamic section, and virtual address → file offset.
import { readFileSync, writeFileSync } from "node:fs";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, describe, expect, test } from "vitest";
import { PT, parseElf, SHT } from "../src/index.ts";
import { Scratch } from "./helpers/build.ts";
import { compareWithReadelf } from "./helpers/compare.ts";
import { fixture, fixturePath, put } from "./helpers/fixtures.ts";
import { readelf } from "./helpers/readelf.ts";

const ok = requireTools("readelf");

describe.skipIf(!ok)("format details agree with readelf", () => {
  const scratch = new Scratch("format");
  afterAll(() => scratch.cleanup());

  function save(name: string, bytes: Uint8Array): string {
    const p = scratch.path(name);
    writeFileSync(p, bytes);
    return p;
  }

  test("extended numbering: e_shnum = 0 and e_shstrndx = SHN_XINDEX read from section 0 (ELF32)", () => {
    const b = fixture("tiny32.o");
    const orig = parseElf(b);
    const shoff = orig.header.shoff;
    put(b, 48, 2, 0); // e_shnum
    put(b, 50, 2, 0xffff); // e_shstrndx
    put(b, shoff + 20, 4, orig.sections.length); // section 0 sh_size
    put(b, shoff + 24, 4, orig.header.shstrndx); // section 0 sh_link
    const { elf } = compareWithReadelf(save("ext32.o", b), b);
    expect(elf.header.shnum).toBe(orig.sections.length);
    expect(elf.header.shstrndx).toBe(orig.header.shstrndx);
    expect(elf.sections.slice(1)).toEqual(orig.sections.slice(1));
    expect(elf.symbols()).toEqual(orig.symbols());
  });

  test("extended numbering: e_phnum = PN_XNUM read from section 0's sh_info (ELF64)", () => {
    // gABI "Program Header": PN_XNUM means the count is in section 0's sh_info. readelf 2.40
    // does not implement this ("Too many program headers"), so compare with the original.
    const b = fixture("tiny64");
    const orig = parseElf(b);
    put(b, 56, 2, 0xffff); // e_phnum
    put(b, orig.header.shoff + 44, 4, orig.segments.length); // section 0 sh_info
    const elf = parseElf(b);
    expect(elf.header.phnum).toBe(orig.segments.length);
    expect(elf.segments).toEqual(orig.segments);
  });

  test("section headers stripped: segments, interpreter, notes from PT_NOTE, dynamic from PT_DYNAMIC", () => {
    const b = fixture("tiny64");
    const orig = parseElf(b);
    put(b, 40, 8, 0); // e_shoff
    put(b, 60, 2, 0); // e_shnum
    put(b, 62, 2, 0); // e_shstrndx
    const path = save("nosections", b);
    const { elf } = compareWithReadelf(path, b);
    expect(elf.sections).toEqual([]);
    expect(elf.interpreter()).toBe("/lib64/ld-linux-x86-64.so.2");
    const notes = elf.notes();
    const buildId = notes.find((n) => n.name === "GNU" && n.type === 3);
    expect(buildId?.segmentIndex).toBe(orig.segments.find((s) => s.type === PT.NOTE)?.index);
    const printed = /Build ID: ([0-9a-f]+)/.exec(readelf(["-n"], path))?.[1];
    expect(Buffer.from(buildId!.desc).toString("hex")).toBe(printed);
    expect(elf.dynamic()).toEqual(orig.dynamic());
    expect(elf.isPie).toBe(true);
  });

  test.each([
    fixturePath("tiny64"),
    fixturePath("tinylib.so"),
    "/bin/ls",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
  ])("dynamic section of %s agrees with readelf -d", (path) => {
    const elf = parseElf(readFileSync(path));
    const theirs: { tag: number; value?: bigint }[] = [];
    for (const line of readelf(["-d", "-W"], path).split("\n")) {
      const m = /^ 0x([0-9a-f]+) \((\w+)\)\s+(.*)$/.exec(line);
      if (m === null || m[2] === "NULL") continue;
      const value = /^0x([0-9a-f]+)$/.exec(m[3]!.trim());
      theirs.push(
        value === null
          ? { tag: Number.parseInt(m[1]!, 16) }
          : { tag: Number.parseInt(m[1]!, 16), value: BigInt(`0x${value[1]}`) },
      );
    }
    expect(
      elf
        .dynamic()
        .map((d, i) => (theirs[i]?.value === undefined ? { tag: d.tag } : { tag: d.tag, value: d.value })),
    ).toEqual(theirs);
  });
});

describe("sections and addresses", () => {
  test("every allocated section with file bytes maps back to its offset; .bss has no bytes", () => {
    const elf = parseElf(fixture("tiny64"));
    for (const s of elf.sections) {
      if ((s.flags & 2) === 0 || s.type === SHT.NOBITS || s.size === 0) continue;
      expect(elf.addressToOffset(s.addr), s.name).toBe(s.offset);
      expect(elf.sectionData(s).length).toBe(s.size);
    }
    const bss = elf.sectionByName(".bss")!;
    expect(elf.sectionData(bss).length).toBe(0);
    expect(elf.addressToOffset(bss.addr)).toBeUndefined();
    expect(elf.sectionsOfType(SHT.NOTE).map((s) => s.name)).toEqual([".note.gnu.build-id", ".note.stapsdt"]);
  });

  test("sectionData is a view into the input, not a copy", () => {
    const b = fixture("tiny64");
    const elf = parseElf(b);
    const text = elf.sectionData(elf.sectionByName(".text")!);
    expect(text.buffer).toBe(b.buffer);
  });
});
