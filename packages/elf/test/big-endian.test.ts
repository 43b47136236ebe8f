// Big-endian files: no big-endian toolchain is installed here, so the test byte-swaps real
// little-endian files (helpers/swap.ts) and checks the result against readelf, which reads
// either byte order, and against our own parse of the original.
import { readFileSync, writeFileSync } from "node:fs";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, describe, expect, test } from "vitest";
import { parseElf, parseStapsdtNotes, versionedName } from "../src/index.ts";
import { Scratch } from "./helpers/build.ts";
import { compareWithReadelf } from "./helpers/compare.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { toBigEndian } from "./helpers/swap.ts";

const FILES = [fixturePath("tiny64"), fixturePath("tinylib.so"), fixturePath("tiny32.o"), "/bin/ls"];

const ok = requireTools("readelf");

describe.skipIf(!ok)("big-endian twins of real files", () => {
  const scratch = new Scratch("be");
  afterAll(() => scratch.cleanup());

  test.each(FILES)("%s", (path) => {
    const le = new Uint8Array(readFileSync(path));
    const be = toBigEndian(le);
    const bePath = scratch.path(`${path.replaceAll("/", "_")}.be`);
    writeFileSync(bePath, be);
    const { elf } = compareWithReadelf(bePath, be);
    expect(elf.endian).toBe("big");

    const orig = parseElf(le);
    expect(elf.sections).toEqual(orig.sections);
    expect(elf.segments).toEqual(orig.segments);
    expect(elf.symbols()).toEqual(orig.symbols());
    expect(elf.dynamicSymbols().map(versionedName)).toEqual(orig.dynamicSymbols().map(versionedName));
    expect(elf.dynamic()).toEqual(orig.dynamic());
    expect(elf.notes().map((n) => [n.name, n.type, n.desc.length, n.offset])).toEqual(
      orig.notes().map((n) => [n.name, n.type, n.desc.length, n.offset]),
    );
    expect(parseStapsdtNotes(elf)).toEqual(parseStapsdtNotes(orig));
    expect(elf.interpreter()).toBe(orig.interpreter());
  });
});
