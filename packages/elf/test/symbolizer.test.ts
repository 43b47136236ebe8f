// The address → symbol map agrees with GNU objdump's own attribution: every instruction
// objdump lists under a `<symbol>:` label is mapped by our symbolizer to a symbol starting at
// that label's address, and every label's name is one of our symbols there.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ElfSymbol, parseElf, STT, Symbolizer } from "../src/index.ts";
import { Scratch } from "./helpers/build.ts";
import { fixturePath } from "./helpers/fixtures.ts";

const C = `#include <stdio.h>
static int helper(int x) { return x * 7; }
int main(int argc, char **argv) { printf("%d %s\\n", helper(argc), argv[0]); return 0; }
`;

function objdump(path: string): string {
  return execFileSync("objdump", ["-d", "--no-show-raw-insn", path], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, LC_ALL: "C" },
  });
}

function checkAgainstObjdump(path: string): number {
  const elf = parseElf(readFileSync(path));
  const sectionNames = new Set(elf.sections.map((s) => s.name));
  const z = elf.symbolizer({ types: [STT.NOTYPE, STT.OBJECT, STT.FUNC, STT.GNU_IFUNC] });
  const byAddress = new Map<bigint, Set<string>>();
  for (const s of [...elf.symbols(), ...elf.dynamicSymbols()]) {
    const set = byAddress.get(s.value) ?? new Set<string>();
    set.add(s.name);
    byAddress.set(s.value, set);
  }
  let label: bigint | undefined;
  let checked = 0;
  const mismatches: string[] = [];
  for (const line of objdump(path).split("\n")) {
    const head = /^([0-9a-f]+) <(.+)>:$/.exec(line);
    if (head !== null) {
      const name = head[2]!;
      // objdump labels a section start with the section's name when no symbol is there, and
      // prints synthetic `name@plt` entries; neither is a symbol of the file.
      label = sectionNames.has(name) || name.includes("@plt") ? undefined : BigInt(`0x${head[1]}`);
      if (label !== undefined && !byAddress.get(label)?.has(name.replace(/@.*$/, ""))) {
        mismatches.push(`label ${name} at ${head[1]} is not one of our symbols there`);
      }
      continue;
    }
    const insn = /^\s+([0-9a-f]+):\t/.exec(line);
    if (insn === null || label === undefined) continue;
    const address = BigInt(`0x${insn[1]}`);
    const found = z.lookup(address);
    checked++;
    if (found?.symbol.value !== label) {
      mismatches.push(
        `${insn[1]}: objdump says <${label.toString(16)}>, we say ${found?.symbol.name}@${found?.symbol.value.toString(16)}`,
      );
    }
  }
  expect(mismatches.slice(0, 10)).toEqual([]);
  return checked;
}

const ok = requireTools("objdump", "gcc");

describe.skipIf(!ok)("symbolizer agrees with objdump -d", () => {
  const scratch = new Scratch("symbolizer");
  beforeAll(() => {
    scratch.write("p.c", C);
    scratch.run("gcc", ["-O1", "-static", "-o", "p-static", "p.c"]);
  });
  afterAll(() => scratch.cleanup());

  test("static glibc program (thousands of functions)", () => {
    expect(checkAgainstObjdump(scratch.path("p-static"))).toBeGreaterThan(50_000);
  });

  test("committed fixture tiny64", () => {
    expect(checkAgainstObjdump(fixturePath("tiny64"))).toBeGreaterThan(5);
  });
});

describe("Symbolizer", () => {
  const sym = (name: string, value: bigint, size: number, bind = 1): ElfSymbol => ({
    index: 0,
    name,
    value,
    size,
    type: STT.FUNC,
    typeName: "FUNC",
    bind,
    bindName: "",
    visibility: 0,
    visibilityName: "DEFAULT",
    other: 0,
    sectionIndex: 1,
  });

  test("nearest preceding, inside or past the end, below the first", () => {
    const z = new Symbolizer([
      sym("b", 0x2000n, 0x10),
      sym("a", 0x1000n, 0x100),
      sym("c", 0xffff_ffff_0000_0000n, 0),
    ]);
    expect(z.lookup(0xfffn)).toBeUndefined();
    expect(z.lookup(0x1000n)).toMatchObject({ symbol: { name: "a" }, offset: 0n, inside: true });
    expect(z.lookup(0x10ffn)).toMatchObject({ symbol: { name: "a" }, offset: 0xffn, inside: true });
    expect(z.lookup(0x1100n)).toMatchObject({ symbol: { name: "a" }, offset: 0x100n, inside: false });
    expect(z.lookup(0x2005)).toMatchObject({ symbol: { name: "b" }, offset: 5n, inside: true });
    expect(z.lookup(0xffff_ffff_0000_0000n)).toMatchObject({ symbol: { name: "c" }, inside: true });
    expect(z.lookup(0xffff_ffff_ffff_ffffn)).toMatchObject({ symbol: { name: "c" }, inside: false });
    expect(z.indexOf(0x1fff)).toBe(0);
    expect(z.size).toBe(3);
  });

  test("at one address: GLOBAL over WEAK over LOCAL, then sized, then first", () => {
    const z = new Symbolizer([
      sym("local", 0x10n, 4, 0),
      sym("weak", 0x10n, 4, 2),
      sym("global0", 0x10n, 0, 1),
      sym("global", 0x10n, 4, 1),
    ]);
    expect(z.size).toBe(1);
    expect(z.lookup(0x10n)?.symbol.name).toBe("global");
  });

  test("undefined symbols are ignored", () => {
    const z = new Symbolizer([{ ...sym("u", 0n, 0), sectionIndex: 0 }]);
    expect(z.size).toBe(0);
    expect(z.lookup(0n)).toBeUndefined();
  });
});
