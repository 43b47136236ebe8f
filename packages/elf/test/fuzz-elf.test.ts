// Acceptance 3 (and issue 12): malformed input. Every case either parses or throws ElfError:
// never another exception, never a hang. Cases are derived from real files with fixed seeds,
// so every machine runs the same inputs: ~45,000 systematic ones (truncation at every length,
// flips, every header field set to boundary values) and 100,000 from the shared mutation
// fuzzer (`@xmc/tooling/fuzz`: random field values, note and string-table damage, byte
// mutations, splices) over this package's fixtures and three musl programs of cpu-sim's
// fixtures. `pnpm fuzz` runs the mutation part with XMC_FUZZ_CASES cases. Inputs that once
// broke the property stay in `fuzz-elf.regressions/`.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FuzzRng,
  fuzzCases,
  fuzzSeed,
  fuzzTimeoutMs,
  INTERESTING,
  mutateMany,
  runFuzz,
} from "@xmc/tooling/fuzz";
import { describe, expect, test } from "vitest";
import { ElfError, parseElf, parseStapsdtNotes, SHT, versionedName } from "../src/index.ts";
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

/** Where a field mutation may write: [offset, width] of every header and table field. */
interface Target {
  bytes: Uint8Array;
  fields: [number, 1 | 2 | 4 | 8][];
  /** [start, end) of note areas and string tables. */
  notes: [number, number][];
  strings: [number, number][];
  /** Values worth writing: offsets, sizes and indexes of this file, and boundaries. */
  values: bigint[];
}

const CPU_SIM_BINS = join(import.meta.dirname, "../../cpu-sim/test/fixtures/bin");

function target(bytes: Uint8Array): Target {
  const elf = parseElf(bytes);
  const is64 = elf.class === 64;
  const fields: [number, 1 | 2 | 4 | 8][] = [];
  const w = is64 ? 8 : 4;
  // e_type .. e_shstrndx
  const hdr: [number, 1 | 2 | 4 | 8][] = is64
    ? [
        [16, 2],
        [18, 2],
        [24, 8],
        [32, 8],
        [40, 8],
        [52, 2],
        [54, 2],
        [56, 2],
        [58, 2],
        [60, 2],
        [62, 2],
      ]
    : [
        [16, 2],
        [18, 2],
        [24, 4],
        [28, 4],
        [32, 4],
        [40, 2],
        [42, 2],
        [44, 2],
        [46, 2],
        [48, 2],
        [50, 2],
      ];
  fields.push(...hdr);
  const shFields: [number, 1 | 2 | 4 | 8][] = is64
    ? [
        [0, 4],
        [4, 4],
        [8, 8],
        [16, 8],
        [24, 8],
        [32, 8],
        [40, 4],
        [44, 4],
        [48, 8],
        [56, 8],
      ]
    : [
        [0, 4],
        [4, 4],
        [8, 4],
        [12, 4],
        [16, 4],
        [20, 4],
        [24, 4],
        [28, 4],
        [32, 4],
        [36, 4],
      ];
  for (const s of elf.sections) {
    const at = elf.header.shoff + s.index * elf.header.shentsize;
    for (const [o, n] of shFields) fields.push([at + o, n]);
  }
  const phFields: [number, 1 | 2 | 4 | 8][] = is64
    ? [
        [0, 4],
        [4, 4],
        [8, 8],
        [16, 8],
        [32, 8],
        [40, 8],
        [48, 8],
      ]
    : [
        [0, 4],
        [4, 4],
        [8, 4],
        [16, 4],
        [20, 4],
        [24, 4],
        [28, 4],
      ];
  for (const p of elf.segments) {
    const at = elf.header.phoff + p.index * elf.header.phentsize;
    for (const [o, n] of phFields) fields.push([at + o, n]);
  }
  const notes: [number, number][] = [];
  const strings: [number, number][] = [];
  for (const s of elf.sections) {
    const end = s.offset + s.size;
    if (s.type === SHT.NOTE) notes.push([s.offset, end]);
    if (s.type === SHT.STRTAB) strings.push([s.offset, end]);
  }
  const values = [
    ...INTERESTING.map(BigInt),
    ...elf.sections.flatMap((s) => [BigInt(s.offset), BigInt(s.size), BigInt(s.index)]),
    BigInt(bytes.length - 1),
    BigInt(bytes.length),
    BigInt(bytes.length + 1),
    0xffffffffffffffffn,
    0x8000000000000000n,
    1n << 40n,
    BigInt(w),
  ];
  return { bytes, fields, notes, strings, values };
}

/** One ELF-aware mutation: a field set to a chosen value, note or string damage, or bytes. */
function mutateElf(rng: FuzzRng, t: Target, corpus: readonly Uint8Array[]): Uint8Array {
  const k = rng.below(10);
  if (k < 4) {
    const b = t.bytes.slice();
    const n = 1 + rng.below(3);
    for (let i = 0; i < n; i++) {
      const [at, width] = rng.pick(t.fields);
      const v = rng.pick(t.values);
      put(b, at, width, width === 8 ? v : v & ((1n << BigInt(width * 8)) - 1n));
    }
    return b;
  }
  if (k < 6 && t.notes.length > 0) {
    // Note damage: n_namesz / n_descsz / n_type of a note, or bytes inside (stapsdt operands).
    const b = t.bytes.slice();
    const [start, end] = rng.pick(t.notes);
    if (end > b.length || start >= end) return b;
    const at = start + 4 * rng.below(Math.max(1, Math.floor((end - start) / 4)));
    if (rng.chance(0.5) && at + 4 <= end) put(b, at, 4, rng.pick(t.values) & 0xffffffffn);
    else b[start + rng.below(end - start)] = rng.chance(0.3) ? 0 : rng.next() & 0xff;
    return b;
  }
  if (k < 7 && t.strings.length > 0) {
    // String-table damage: remove terminators, add NULs, random bytes.
    const b = t.bytes.slice();
    const [start, end] = rng.pick(t.strings);
    if (end > b.length || start >= end) return b;
    const n = 1 + rng.below(8);
    for (let i = 0; i < n; i++)
      b[start + rng.below(end - start)] = rng.pick([0, 0x41, 0xff, rng.next() & 0xff]);
    return b;
  }
  if (k < 8) {
    // Truncation near a structure boundary.
    const [at] = rng.pick(t.fields);
    return t.bytes.slice(0, Math.max(0, at + rng.below(16) - 8));
  }
  return mutateMany(rng, t.bytes, corpus, 6, t.bytes.length + 4096);
}

test("regression inputs parse or throw ElfError", () => {
  const dir = join(import.meta.dirname, "fuzz-elf.regressions");
  const files = readdirSync(dir).filter((f) => f.endsWith(".elf"));
  const tally = newTally();
  for (const f of files) exercise(tally, new Uint8Array(readFileSync(join(dir, f))), f);
  expect(tally.cases).toBe(files.length);
});

test(
  "fuzz: 100,000 mutated real files (fields, notes, string tables, bytes) parse or throw ElfError",
  () => {
    const originals = [
      fixture("tiny64"),
      fixture("tinylib.so"),
      fixture("tiny32.o"),
      ...["hello", "syscalls", "threads"].map((n) => new Uint8Array(readFileSync(join(CPU_SIM_BINS, n)))),
    ];
    const targets = originals.map(target);
    const stapsdtTarget = targets[0]!;
    expect(parseStapsdtNotes(parseElf(stapsdtTarget.bytes)).length).toBeGreaterThan(0);
    const cases = fuzzCases(100_000);
    const tally = newTally();
    const result = runFuzz({
      name: "elf",
      seed: fuzzSeed(0xe1f0012),
      cases,
      caseMs: 500,
      // The small fixtures (and so the USDT notes of tiny64) get most of the cases: they are cheap.
      generate: (rng) =>
        mutateElf(rng, rng.chance(0.75) ? targets[rng.below(3)]! : rng.pick(targets), originals),
      check: (bytes) => {
        const before = tally.codes.size === 0 ? 0 : [...tally.codes.values()].reduce((a, b) => a + b, 0);
        const parsedBefore = tally.parsed;
        exercise(tally, bytes, "mutated");
        const after = [...tally.codes.values()].reduce((a, b) => a + b, 0);
        return tally.parsed > parsedBefore
          ? after > before
            ? "parsed, some readers ElfError"
            : "parsed"
          : "ElfError";
      },
    });
    expect(result.cases).toBe(cases);
    expect(tally.parsed).toBeGreaterThan(cases / 10);
    for (const code of ["TRUNCATED", "BAD_SECTION", "BAD_SEGMENT", "BAD_SYMBOL", "BAD_STRING", "BAD_NOTE"])
      expect(tally.codes.get(code) ?? 0, `outcome ${code}`).toBeGreaterThan(0);
  },
  fuzzTimeoutMs(),
);
