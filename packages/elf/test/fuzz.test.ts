// Acceptance 3: malformed input. Every case either parses or throws ElfError: never another
// exception, never a hang. Cases are derived from the committed fixtures with a fixed seed, so
// every machine runs the same ~24,000 inputs.
import { describe, expect, test } from "vitest";
import { ElfError, parseElf, parseStapsdtNotes, versionedName } from "../src/index.ts";
import { fixture, put, Rng } from "./helpers/fixtures.ts";

const FIXTURES = ["tiny64", "tinylib.so", "tiny32.o"] as const;

interface Tally {
  cases: number;
  parsed: number;
  codes: Map<string, number>;
  slowestMs: number;
}

function newTally(): Tally {
  return { cases: 0, parsed: 0, codes: new Map(), slowestMs: 0 };
}

/** Runs one API step; ElfError is an accepted outcome, anything else fails the test. */
function step(tally: Tally, what: string, fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof ElfError) {
      tally.codes.set(e.code, (tally.codes.get(e.code) ?? 0) + 1);
      return false;
    }
    throw new Error(`${what} threw a non-ElfError: ${(e as Error)?.stack ?? String(e)}`);
  }
}

/** Parses `bytes` and drives every reader of the API over the result. */
function exercise(tally: Tally, bytes: Uint8Array, label: string): void {
  const start = performance.now();
  tally.cases++;
  let elf: ReturnType<typeof parseElf> | undefined;
  if (
    step(tally, `${label} parseElf`, () => {
      elf = parseElf(bytes);
    })
  ) {
    tally.parsed++;
    const f = elf!;
    step(tally, `${label} sectionData`, () => {
      for (const s of f.sections) f.sectionData(s);
      f.sectionByName(".text");
    });
    step(tally, `${label} segmentData`, () => {
      for (const s of f.segments) f.segmentData(s);
      f.addressToOffset(f.entry);
    });
    step(tally, `${label} symbols`, () => f.symbols());
    step(tally, `${label} dynamicSymbols`, () => f.dynamicSymbols().map(versionedName));
    step(tally, `${label} notes`, () => f.notes());
    step(tally, `${label} stapsdt`, () => parseStapsdtNotes(f));
    step(tally, `${label} dynamic`, () => f.dynamic());
    step(tally, `${label} interpreter`, () => f.interpreter());
    step(tally, `${label} isPie`, () => [f.isPie, f.isStaticExecutable]);
    step(tally, `${label} symbolizer`, () => {
      const z = f.symbolizer({ types: [0, 1, 2, 3, 4, 5, 6, 10] });
      z.lookup(f.entry);
      z.lookup(0n);
      z.lookup(0xffffffffffffffffn);
    });
  }
  const ms = performance.now() - start;
  if (ms > tally.slowestMs) tally.slowestMs = ms;
}

/** Interesting values for 32- and 64-bit fields. */
function interesting(fileSize: number, extra: readonly number[]): bigint[] {
  const base = [
    0,
    1,
    2,
    7,
    8,
    0x7f,
    0xff,
    0xffff,
    0x10000,
    0x7fffffff,
    0xffffffff,
    fileSize - 1,
    fileSize,
    fileSize + 1,
  ];
  return [...base, ...extra]
    .map((v) => BigInt(Math.max(0, v)))
    .concat([0xffffffffffffffffn, 0x20000000000000n, 1n << 40n]);
}

/** Targeted cases: each header field and each section/program header field set to interesting values. */
function* structured(name: string, original: Uint8Array): Generator<[Uint8Array, string]> {
  const elf = parseElf(original);
  const is64 = elf.class === 64;
  const w = is64 ? 8 : 4;
  const sectionOffsets = elf.sections.map((s) => s.offset);
  // ELF header fields: [offset, width, name]
  const header: [number, 1 | 2 | 4 | 8, string][] = is64
    ? [
        [4, 1, "EI_CLASS"],
        [5, 1, "EI_DATA"],
        [32, 8, "e_phoff"],
        [40, 8, "e_shoff"],
        [54, 2, "e_phentsize"],
        [56, 2, "e_phnum"],
        [58, 2, "e_shentsize"],
        [60, 2, "e_shnum"],
        [62, 2, "e_shstrndx"],
      ]
    : [
        [4, 1, "EI_CLASS"],
        [5, 1, "EI_DATA"],
        [28, 4, "e_phoff"],
        [32, 4, "e_shoff"],
        [42, 2, "e_phentsize"],
        [44, 2, "e_phnum"],
        [46, 2, "e_shentsize"],
        [48, 2, "e_shnum"],
        [50, 2, "e_shstrndx"],
      ];
  const values = interesting(original.length, [...sectionOffsets, ...elf.sections.map((s) => s.index)]);
  for (const [at, width, field] of header) {
    for (const v of values) {
      const b = original.slice();
      put(b, at, width, width === 8 ? v : v & ((1n << BigInt(width * 8)) - 1n));
      yield [b, `${name} ${field}=${v}`];
    }
  }
  // Extended numbering: e_shnum = 0 with a huge count in section 0's sh_size, e_shstrndx = SHN_XINDEX.
  for (const v of values) {
    const b = original.slice();
    put(b, is64 ? 60 : 48, 2, 0);
    put(b, elf.header.shoff + (is64 ? 32 : 20), w, is64 ? v : v & 0xffffffffn);
    yield [b, `${name} extended shnum=${v}`];
    const c = original.slice();
    put(c, is64 ? 62 : 50, 2, 0xffff);
    put(c, elf.header.shoff + (is64 ? 40 : 24), 4, v & 0xffffffffn);
    yield [c, `${name} extended shstrndx=${v}`];
  }
  // Section header fields: name, type, offset, size, link, info, entsize.
  const fields: [number, number, string][] = is64
    ? [
        [0, 4, "sh_name"],
        [4, 4, "sh_type"],
        [24, 8, "sh_offset"],
        [32, 8, "sh_size"],
        [40, 4, "sh_link"],
        [44, 4, "sh_info"],
        [56, 8, "sh_entsize"],
      ]
    : [
        [0, 4, "sh_name"],
        [4, 4, "sh_type"],
        [16, 4, "sh_offset"],
        [20, 4, "sh_size"],
        [24, 4, "sh_link"],
        [28, 4, "sh_info"],
        [36, 4, "sh_entsize"],
      ];
  const typeValues = [0n, 2n, 3n, 7n, 8n, 11n, 18n, 0x6ffffffdn, 0x6ffffffen, 0x6fffffffn];
  for (const s of elf.sections) {
    const at = elf.header.shoff + s.index * elf.header.shentsize;
    for (const [off, width, field] of fields) {
      const vs = field === "sh_type" ? typeValues : values;
      for (const v of vs) {
        const b = original.slice();
        put(b, at + off, width as 4 | 8, width === 8 ? v : v & 0xffffffffn);
        yield [b, `${name} section ${s.index} ${field}=${v}`];
      }
    }
  }
  // Program header offset / filesz / type.
  for (const p of elf.segments) {
    const at = elf.header.phoff + p.index * elf.header.phentsize;
    const pf: [number, number, string][] = is64
      ? [
          [0, 4, "p_type"],
          [8, 8, "p_offset"],
          [32, 8, "p_filesz"],
          [48, 8, "p_align"],
        ]
      : [
          [0, 4, "p_type"],
          [4, 4, "p_offset"],
          [16, 4, "p_filesz"],
          [28, 4, "p_align"],
        ];
    for (const [off, width, field] of pf) {
      const vs = field === "p_type" ? [0n, 1n, 2n, 3n, 4n, 7n] : values;
      for (const v of vs) {
        const b = original.slice();
        put(b, at + off, width as 4 | 8, width === 8 ? v : v & 0xffffffffn);
        yield [b, `${name} segment ${p.index} ${field}=${v}`];
      }
    }
  }
}

/**
 * tiny64 with `extra` appended at offset `tiny64.length` and `added` section headers (64-byte
 * ELF64 headers) placed after the original ones in a new table at the end.
 */
function withSections(extra: Uint8Array, added: readonly Uint8Array[]): Uint8Array {
  const orig = fixture("tiny64");
  const elf = parseElf(orig);
  const oldTable = orig.subarray(elf.header.shoff, elf.header.shoff + elf.header.shnum * 64);
  const shoff = orig.length + extra.length;
  const out = new Uint8Array(shoff + oldTable.length + added.length * 64);
  out.set(orig);
  out.set(extra, orig.length);
  out.set(oldTable, shoff);
  for (let i = 0; i < added.length; i++) out.set(added[i]!, shoff + oldTable.length + i * 64);
  put(out, 40, 8, shoff);
  put(out, 60, 2, elf.header.shnum + added.length);
  return out;
}

/** A 64-byte ELF64 section header with the given type, offset, size, link and entsize. */
function sectionHeader(
  type: number,
  offset: number,
  size: number,
  link: number,
  entsize: number,
): Uint8Array {
  const h = new Uint8Array(64);
  put(h, 4, 4, type);
  put(h, 24, 8, offset);
  put(h, 32, 8, size);
  put(h, 40, 4, link);
  put(h, 56, 8, entsize);
  return h;
}

function timed(fn: () => unknown): { error: unknown; ms: number } {
  const t0 = performance.now();
  try {
    fn();
    return { error: undefined, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

describe("crafted inputs that would make a naive reader quadratic finish quickly", () => {
  test("100,000 symbols naming different suffixes of one 2 MiB string", () => {
    const tiny = parseElf(fixture("tiny64"));
    const count = 100_000;
    const strBytes = 2 << 20;
    const extra = new Uint8Array(strBytes + count * 24);
    extra.fill(0x61, 0, strBytes - 1); // "aaaa...a\0"
    for (let i = 1; i < count; i++) put(extra, strBytes + i * 24, 4, i); // st_name = i
    const at = tiny.bytes.length;
    const bytes = withSections(extra, [
      sectionHeader(3, at, strBytes, 0, 0), // index shnum: the string table
      sectionHeader(2, at + strBytes, count * 24, tiny.header.shnum, 24), // its symbol table
    ]);
    // Make the crafted table the first SHT_SYMTAB: the fixture's own .symtab becomes PROGBITS.
    const symtab = tiny.sectionByName(".symtab")!;
    put(bytes, parseElf(bytes).header.shoff + symtab.index * 64 + 4, 4, 1);
    const { error, ms } = timed(() => parseElf(bytes).symbols());
    expect(error).toBeInstanceOf(ElfError);
    expect((error as ElfError).code).toBe("BAD_STRING");
    expect((error as ElfError).message).toMatch(/names overlap far more than any linker produces/);
    expect(ms).toBeLessThan(2000);
  });

  test("20,000 note sections over one 1 MiB area of empty notes", () => {
    const area = new Uint8Array(12 * 87_381); // 87,381 empty 12-byte notes (almost 1 MiB)
    const at = fixture("tiny64").length;
    const bytes = withSections(area, new Array(20_000).fill(sectionHeader(7, at, area.length, 0, 0)));
    const elf = parseElf(bytes);
    const { error, ms } = timed(() => elf.notes());
    expect(error).toBeInstanceOf(ElfError);
    expect((error as ElfError).code).toBe("BAD_NOTE");
    expect((error as ElfError).message).toMatch(/note areas add up to more than the file size/);
    expect(ms).toBeLessThan(2000);
  });
});

describe("fuzz: every malformed input parses or throws ElfError", () => {
  const total = newTally();

  test.each(FIXTURES)("%s: truncated at every length", (name) => {
    const original = fixture(name);
    for (let len = 0; len <= original.length; len++)
      exercise(total, original.slice(0, len), `${name}[0:${len}]`);
  });

  test.each(FIXTURES)("%s: random byte flips in the headers and tables", (name) => {
    const original = fixture(name);
    const elf = parseElf(original);
    const regions: [number, number][] = [[0, elf.class === 64 ? 64 : 52]];
    if (elf.header.phnum > 0) regions.push([elf.header.phoff, elf.header.phnum * elf.header.phentsize]);
    regions.push([elf.header.shoff, elf.header.shnum * elf.header.shentsize]);
    const rng = new Rng(0x5eed0000 + original.length);
    for (let i = 0; i < 2500; i++) {
      const b = original.slice();
      const [start, len] = regions[rng.below(regions.length)]!;
      const flips = 1 + rng.below(4);
      for (let j = 0; j < flips; j++) b[start + rng.below(len)] = rng.below(256);
      exercise(total, b, `${name} header flip #${i}`);
    }
  });

  test.each(FIXTURES)("%s: random byte flips anywhere (symbols, strings, notes, versions)", (name) => {
    const original = fixture(name);
    const rng = new Rng(0xf1f00000 + original.length);
    for (let i = 0; i < 1500; i++) {
      const b = original.slice();
      const flips = 1 + rng.below(8);
      for (let j = 0; j < flips; j++) b[rng.below(b.length)] = rng.below(256);
      exercise(total, b, `${name} flip #${i}`);
    }
  });

  test.each(FIXTURES)(
    "%s: huge counts and offsets, overlapping string tables, zero entsize, bad e_shstrndx",
    (name) => {
      for (const [b, label] of structured(name, fixture(name))) exercise(total, b, label);
    },
  );

  test("summary: enough cases, both outcomes, no slow case", () => {
    expect(total.cases).toBeGreaterThanOrEqual(20_000);
    expect(total.parsed).toBeGreaterThan(1000);
    for (const code of [
      "NOT_ELF",
      "TRUNCATED",
      "BAD_SECTION",
      "BAD_SEGMENT",
      "BAD_SYMBOL",
      "BAD_STRING",
      "BAD_NOTE",
    ]) {
      expect(total.codes.get(code) ?? 0, `outcome ${code}`).toBeGreaterThan(0);
    }
    // A hang would show up here long before the test timeout; 1 s is generous on a shared machine.
    expect(total.slowestMs).toBeLessThan(1000);
  });
});
