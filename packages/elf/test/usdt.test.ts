// Acceptance 2: SystemTap SDT probes compiled now from <sys/sdt.h> agree with `readelf -n`
// (provider, name, location, base, semaphore, arguments); argument sizes and signs agree with
// the C types sdt.h saw; semaphores agree with the symbol table.
import { readFileSync } from "node:fs";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseElf, parseStapsdtNotes, parseUsdtArguments, type UsdtProbe } from "../src/index.ts";
import { requireSdtHeader, Scratch } from "./helpers/build.ts";
import { parseStapsdt, readelf } from "./helpers/readelf.ts";

const PROBES_C = `#include <sys/sdt.h>
#include <stdlib.h>
int global_counter = 5;
long long big = -3;
int main(int argc, char **argv) {
  signed char sc = (signed char)argc;
  unsigned short us = (unsigned short)(argc + 1);
  unsigned long ul = strtoul(argv[0], 0, 10);
  DTRACE_PROBE(app, start);
  STAP_PROBE2(app, two, argc, ul);
  STAP_PROBE6(app, types, sc, us, argc, ul, big, argv);
  STAP_PROBE3(app, consts, 5, -1, global_counter);
  DTRACE_PROBE1(app, dtrace_one, argv[0]);
  return (int)ul + global_counter;
}
`;

const SEMAPHORE_C = `#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
unsigned short semprov_hot_semaphore __attribute__((section(".probes"))) = 0;
unsigned short semprov_cold_semaphore __attribute__((section(".probes"))) = 0;
int hot(int a) {
  if (semprov_hot_semaphore) STAP_PROBE1(semprov, hot, a);
  if (semprov_cold_semaphore) STAP_PROBE2(semprov, cold, a, (long)a * 2);
  return a + 1;
}
`;

/** Size and sign sdt.h gives each argument of app:types (signed char, unsigned short, int, unsigned long, long long, pointer). */
const TYPES_SIZES = [
  { size: 1, signed: true },
  { size: 2, signed: false },
  { size: 4, signed: true },
  { size: 8, signed: false },
  { size: 8, signed: true },
  { size: 8, signed: false },
];

function checkAgainstReadelf(path: string): UsdtProbe[] {
  const elf = parseElf(readFileSync(path));
  const ours = parseStapsdtNotes(elf);
  const theirs = parseStapsdt(readelf(["-n", "-W"], path));
  expect(ours.length).toBe(theirs.length);
  expect(ours.length).toBeGreaterThan(0);
  expect(
    ours.map((p) => ({
      provider: p.provider,
      name: p.name,
      location: p.notePc,
      base: p.base,
      semaphore: p.noteSemaphore,
      args: p.arguments,
    })),
  ).toEqual(theirs);
  for (const p of ours) {
    // Not prelinked: the .stapsdt.base section is where the notes say.
    expect(p.adjustment).toBe(0n);
    expect(p.pc).toBe(p.notePc);
    // Every operand gcc emits on x86-64 is understood.
    for (const a of p.args) expect(a.kind, `${p.provider}:${p.name} ${a.text}`).not.toBe("other");
  }
  const symbols = new Map(elf.symbols().map((s) => [s.name, s]));
  for (const p of ours) {
    if (p.semaphore === 0n) continue;
    expect(p.semaphore).toBe(symbols.get(`${p.provider}_${p.name}_semaphore`)?.value);
  }
  return ours;
}

const sdt = requireSdtHeader();
const ok = requireTools("gcc", "readelf") && sdt;

describe.skipIf(!ok)("USDT probes from sys/sdt.h, compiled now with gcc", () => {
  const scratch = new Scratch("usdt");
  beforeAll(() => {
    scratch.write("probes.c", PROBES_C);
    scratch.write("sem.c", SEMAPHORE_C);
    scratch.run("gcc", ["-O0", "-o", "usdt-O0", "probes.c", "sem.c"]);
    scratch.run("gcc", ["-O2", "-o", "usdt-O2", "probes.c", "sem.c"]);
    scratch.run("gcc", ["-O2", "-no-pie", "-fno-pie", "-o", "usdt-nopie", "probes.c", "sem.c"]);
  });
  afterAll(() => scratch.cleanup());

  test.each(["usdt-O0", "usdt-O2", "usdt-nopie"])("%s agrees with readelf -n", (name) => {
    const probes = checkAgainstReadelf(scratch.path(name));
    expect(probes.map((p) => `${p.provider}:${p.name}`).sort()).toEqual(
      [
        "app:consts",
        "app:dtrace_one",
        "app:start",
        "app:two",
        "app:types",
        "semprov:cold",
        "semprov:hot",
      ].sort(),
    );
    const types = probes.find((p) => p.name === "types")!;
    expect(types.args.map((a) => ({ size: a.size, signed: a.signed }))).toEqual(TYPES_SIZES);
    const consts = probes.find((p) => p.name === "consts")!;
    expect(consts.args[0]).toMatchObject({ kind: "const", value: 5n, size: 4, signed: true });
    expect(consts.args[1]).toMatchObject({ kind: "const", value: -1n, size: 4, signed: true });
    expect(probes.find((p) => p.name === "start")!.args).toEqual([]);
    const hot = probes.find((p) => p.name === "hot")!;
    expect(hot.semaphore).not.toBe(0n);
  });

  test("memory operands: -O0 uses the frame (%rbp), -O2 reads a global %rip-relative", () => {
    const o0 = checkAgainstReadelf(scratch.path("usdt-O0"));
    const two = o0.find((p) => p.name === "two")!;
    expect(two.args[0]).toMatchObject({ kind: "mem", base: "rbp", size: 4, signed: true });
    const o2 = checkAgainstReadelf(scratch.path("usdt-O2"));
    const consts = o2.find((p) => p.name === "consts")!;
    expect(consts.args[2]).toMatchObject({ kind: "mem", base: "rip", symbol: "global_counter", size: 4 });
    const elf = parseElf(readFileSync(scratch.path("usdt-O2")));
    expect(elf.symbols().some((s) => s.name === "global_counter")).toBe(true);
  });

  test("prelink adjustment: moving .stapsdt.base shifts pc and non-zero semaphores", () => {
    const bytes = new Uint8Array(readFileSync(scratch.path("usdt-O2")));
    const elf = parseElf(bytes);
    const before = parseStapsdtNotes(elf);
    const base = elf.sectionByName(".stapsdt.base")!;
    // Rewrite sh_addr (ELF64 section header offset 16) as prelink would after moving the file.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const at = elf.header.shoff + base.index * elf.header.shentsize + 16;
    view.setBigUint64(at, base.addr + 0x10000n, true);
    const after = parseStapsdtNotes(parseElf(bytes));
    expect(after.length).toBe(before.length);
    for (let i = 0; i < after.length; i++) {
      const a = after[i]!;
      const b = before[i]!;
      expect(a.adjustment).toBe(0x10000n);
      expect(a.notePc).toBe(b.notePc);
      expect(a.pc).toBe(b.pc + 0x10000n);
      expect(a.semaphore).toBe(b.semaphore === 0n ? 0n : b.semaphore + 0x10000n);
    }
  });
});

const muslOk = requireTools("musl-gcc", "readelf") && sdt;

describe.skipIf(!muslOk)("USDT probes in a static musl program", () => {
  const scratch = new Scratch("usdt-musl");
  afterAll(() => scratch.cleanup());

  test("agrees with readelf -n", () => {
    scratch.write("probes.c", PROBES_C);
    scratch.write("sem.c", SEMAPHORE_C);
    scratch.run("musl-gcc", [
      "-O2",
      "-static",
      "-idirafter",
      "/usr/include/x86_64-linux-gnu",
      "-o",
      "usdt-musl",
      "probes.c",
      "sem.c",
    ]);
    const elf = parseElf(readFileSync(scratch.path("usdt-musl")));
    expect(elf.isStaticExecutable).toBe(true);
    expect(checkAgainstReadelf(scratch.path("usdt-musl")).length).toBe(7);
  });
});

describe("USDT argument strings", () => {
  test.each([
    ["-4@%eax", { kind: "reg", register: "eax", size: 4, signed: true, explicitSize: true }],
    ["8@%rbx", { kind: "reg", register: "rbx", size: 8, signed: false }],
    ["1@%sil", { kind: "reg", register: "sil", size: 1 }],
    ["8@-24(%rbp)", { kind: "mem", displacement: -24n, base: "rbp", scale: 1, size: 8 }],
    ["4@$5", { kind: "const", value: 5n, size: 4, signed: false }],
    ["-4@$-1", { kind: "const", value: -1n, size: 4, signed: true }],
    ["8@$0x10", { kind: "const", value: 16n }],
    ["8@foo(%rip)", { kind: "mem", displacement: 0n, symbol: "foo", base: "rip" }],
    ["-4@foo+8(%rip)", { kind: "mem", displacement: 8n, symbol: "foo", base: "rip" }],
    ["4@foo.bar-4(%rip)", { kind: "mem", displacement: -4n, symbol: "foo.bar", base: "rip" }],
    ["8@(%rax,%rbx,8)", { kind: "mem", displacement: 0n, base: "rax", index: "rbx", scale: 8 }],
    ["8@16(,%rcx,4)", { kind: "mem", displacement: 16n, index: "rcx", scale: 4 }],
    ["2@%fs:8", { kind: "mem", displacement: 8n, segment: "fs" }],
    ["4@0x10(%rax)", { kind: "mem", displacement: 16n, base: "rax" }],
    ["4@global", { kind: "mem", displacement: 0n, symbol: "global" }],
    ["%eax", { kind: "reg", register: "eax", size: 8, signed: false, explicitSize: false }],
    ["8@[sp, 8]", { kind: "other", operand: "[sp, 8]", size: 8 }],
    ["8@(%rax", { kind: "other" }],
    ["8@1(%rax,%rbx,3)", { kind: "other" }],
  ])("%s", (text, expected) => {
    const [arg] = parseUsdtArguments(text);
    expect(arg).toMatchObject({ text, ...expected });
  });

  test("other architectures: split only, operands are 'other'", () => {
    const args = parseUsdtArguments("8@x0 -4@[sp, 12] 4@#5", 8, "other");
    expect(args.map((a) => [a.operand, a.kind, a.size, a.signed])).toEqual([
      ["x0", "other", 8, false],
      ["[sp, 12]", "other", 4, true],
      ["#5", "other", 4, false],
    ]);
  });

  test("several arguments, extra spaces, empty string", () => {
    expect(parseUsdtArguments("  -4@%edi   8@%rsi ").map((a) => a.operand)).toEqual(["%edi", "%rsi"]);
    expect(parseUsdtArguments("")).toEqual([]);
    expect(parseUsdtArguments("%eax", 4)[0]!.size).toBe(4);
  });
});
