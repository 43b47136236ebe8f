// Acceptance 1: sections, segments, symbol tables and dynamic symbol versions agree with GNU
// readelf on real files of this machine and on programs compiled here at test time.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasTool, requireTools } from "@xmc/tooling/test-tools";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseElf, SHN, versionedName } from "../src/index.ts";
import { Scratch } from "./helpers/build.ts";
import { compareWithReadelf } from "./helpers/compare.ts";
import { parseSymbolTables, readelf } from "./helpers/readelf.ts";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures");

/** System files to compare; libc is required, the others are used when present. */
const LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const SYSTEM_FILES = [
  LIBC,
  "/bin/ls",
  "/usr/bin/gcc",
  "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
  "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
  "/usr/lib/x86_64-linux-gnu/crt1.o",
].filter((f, i) => i === 0 || existsSync(f));

const COMMITTED = ["bin/tiny64", "bin/tinylib.so", "bin/tiny32.o"].map((f) => join(fixtures, f));

const HELLO = `#include <stdio.h>
#include <string.h>
int counter;
static int hidden_helper(int x) { return x * 3; }
__thread int tls_value = 7;
int main(int argc, char **argv) {
  char buf[16];
  memcpy(buf, argv[0], 8);
  buf[8] = 0;
  counter = hidden_helper(argc) + tls_value;
  printf("%s %d\\n", buf, counter);
  return 0;
}
`;

const haveReadelf = requireTools("readelf");

describe.skipIf(!haveReadelf)("agrees with readelf on files of this machine", () => {
  test.each(SYSTEM_FILES)("%s", (path) => {
    compareWithReadelf(path);
  });

  test("libc.so.6 has versioned dynamic symbols, default and hidden ones", () => {
    const { elf } = compareWithReadelf(LIBC);
    const names = new Set(elf.dynamicSymbols().map(versionedName));
    expect([...names].some((n) => n.includes("@@GLIBC_"))).toBe(true);
    expect([...names].some((n) => /[^@]@GLIBC_/.test(n))).toBe(true);
  });

  test("versions agree with readelf --dyn-syms -W on libc.so.6", () => {
    const elf = parseElf(readFileSync(LIBC));
    const dyn = parseSymbolTables(readelf(["--dyn-syms", "-W"], LIBC)).get(".dynsym") ?? [];
    expect(dyn.length).toBe(elf.dynamicSymbols().length);
    const ours = elf.dynamicSymbols().map((s) => {
      const n = versionedName(s);
      return s.version?.source === "needed" && n !== s.name ? `${n} (${s.version.index})` : n;
    });
    expect(ours).toEqual(dyn.map((d) => d.name));
  });

  test.each(COMMITTED)("committed fixture %s", (path) => {
    compareWithReadelf(path);
  });
});

const haveGcc = hasTool("gcc") ? requireTools("gcc", "readelf") : requireTools("gcc");

describe.skipIf(!haveGcc || !haveReadelf)("agrees with readelf on programs compiled now", () => {
  const scratch = new Scratch("readelf");
  beforeAll(() => {
    scratch.write("hello.c", HELLO);
    scratch.run("gcc", ["-O1", "-o", "hello-pie", "hello.c"]);
    scratch.run("gcc", ["-O1", "-no-pie", "-fno-pie", "-o", "hello-nopie", "hello.c"]);
    scratch.run("gcc", ["-O1", "-static", "-o", "hello-static", "hello.c"]);
    scratch.run("gcc", ["-O1", "-static-pie", "-o", "hello-static-pie", "hello.c"]);
    scratch.run("gcc", ["-O1", "-c", "-o", "hello.o", "hello.c"]);
  });
  afterAll(() => scratch.cleanup());

  test("dynamic PIE", () => {
    const { elf } = compareWithReadelf(scratch.path("hello-pie"));
    expect(elf.isPie).toBe(true);
    expect(elf.isStaticExecutable).toBe(false);
    expect(elf.interpreter()).toMatch(/ld-linux-x86-64\.so\.2$/);
  });

  test("dynamic non-PIE executable", () => {
    const { elf } = compareWithReadelf(scratch.path("hello-nopie"));
    expect(elf.typeName).toBe("EXEC");
    expect(elf.isPie).toBe(false);
    expect(elf.isStaticExecutable).toBe(false);
  });

  test("static executable (gcc -static)", () => {
    const { elf } = compareWithReadelf(scratch.path("hello-static"));
    expect(elf.isStaticExecutable).toBe(true);
    expect(elf.isPie).toBe(false);
    expect(elf.interpreter()).toBeUndefined();
    expect(elf.symbols().length).toBeGreaterThan(500);
  });

  test("static-pie (gcc -static-pie): PT_DYNAMIC but no PT_INTERP", () => {
    const { elf } = compareWithReadelf(scratch.path("hello-static-pie"));
    expect(elf.segments.some((s) => s.typeName === "DYNAMIC")).toBe(true);
    expect(elf.isStaticExecutable).toBe(true);
    expect(elf.isPie).toBe(true);
  });

  test("relocatable object (gcc -c)", () => {
    const { elf } = compareWithReadelf(scratch.path("hello.o"));
    expect(elf.typeName).toBe("REL");
    expect(elf.segments).toEqual([]);
    expect(elf.isStaticExecutable).toBe(false);
  });

  test("libc.so.6 is neither a PIE nor a static executable", () => {
    const elf = parseElf(readFileSync(LIBC));
    expect(elf.isPie).toBe(false);
    expect(elf.isStaticExecutable).toBe(false);
  });
});

const haveAs = requireTools("as");

describe.skipIf(!haveAs || !haveReadelf)("ELF32 object assembled now with as --32", () => {
  const scratch = new Scratch("as32");
  afterAll(() => scratch.cleanup());

  test("sections and symbols agree with readelf", () => {
    scratch.run("as", ["--32", "-o", "tiny32.o", join(fixtures, "src/tiny32.s")]);
    const { elf } = compareWithReadelf(scratch.path("tiny32.o"));
    expect(elf.class).toBe(32);
    expect(elf.machineName).toBe("i386");
    expect(elf.symbols().find((s) => s.name === "common32")?.sectionIndex).toBe(SHN.COMMON);
    const note = elf.notes().find((n) => n.name === "tiny");
    expect(note?.type).toBe(7);
    expect([...(note?.desc ?? [])]).toEqual([0xef, 0xbe, 0xad, 0xde]);
  });
});

const haveMusl = requireTools("musl-gcc");

describe.skipIf(!haveMusl || !haveReadelf)("static musl program compiled now", () => {
  const scratch = new Scratch("musl");
  afterAll(() => scratch.cleanup());

  test("agrees with readelf and is a static executable", () => {
    scratch.write("hello.c", HELLO);
    scratch.run("musl-gcc", ["-O1", "-static", "-o", "hello-musl", "hello.c"]);
    const { elf } = compareWithReadelf(scratch.path("hello-musl"));
    expect(elf.isStaticExecutable).toBe(true);
  });
});
