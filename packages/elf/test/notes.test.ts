// Notes agree with `readelf -n` (owner, size, type, build ID) on real files, including the
// 8-byte aligned .note.gnu.property; parseNotes handles both alignments and odd names.
import { readFileSync } from "node:fs";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseElf, parseNotes } from "../src/index.ts";
import { Scratch } from "./helpers/build.ts";
import { fixturePath } from "./helpers/fixtures.ts";
import { readelf } from "./helpers/readelf.ts";

/** readelf's note type descriptions for the types these files carry. */
const TYPE_NAMES: Record<string, number> = {
  NT_GNU_ABI_TAG: 1,
  NT_GNU_HWCAP: 2,
  NT_GNU_BUILD_ID: 3,
  NT_GNU_GOLD_VERSION: 4,
  NT_GNU_PROPERTY_TYPE_0: 5,
  NT_STAPSDT: 3,
  NT_VERSION: 1,
};

interface ReNote {
  owner: string;
  size: number;
  type: number | undefined;
  buildId?: string;
}

function readelfNotes(path: string): ReNote[] {
  const out: ReNote[] = [];
  for (const line of readelf(["-n", "-W"], path).split("\n")) {
    const m = /^ {2}(\S+)\s+0x([0-9a-f]+)\t(\S+)/.exec(line);
    if (m === null || m[1] === "Owner") continue;
    const unknown = /Unknown note type: \(0x([0-9a-f]+)\)/.exec(line);
    const type = unknown !== null ? Number.parseInt(unknown[1]!, 16) : TYPE_NAMES[m[3]!];
    const buildId = /Build ID: ([0-9a-f]+)/.exec(line)?.[1];
    const note: ReNote = { owner: m[1]!, size: Number.parseInt(m[2]!, 16), type };
    if (buildId !== undefined) note.buildId = buildId;
    out.push(note);
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const ok = requireTools("readelf", "gcc");

describe.skipIf(!ok)("notes agree with readelf -n", () => {
  const scratch = new Scratch("notes");
  beforeAll(() => {
    scratch.write("p.c", "int main(void) { return 0; }\n");
    scratch.run("gcc", ["-static", "-o", "p-static", "p.c"]);
  });
  afterAll(() => scratch.cleanup());

  const files = [
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/bin/ls",
    fixturePath("tiny64"),
    fixturePath("tiny32.o"),
  ];
  test.each([...files, "p-static"])("%s", (name) => {
    const path = name.startsWith("/") ? name : scratch.path(name);
    const ours = parseElf(readFileSync(path)).notes();
    const theirs = readelfNotes(path);
    expect(theirs.length).toBeGreaterThan(0);
    expect(
      ours.map((n) => {
        const note: ReNote = { owner: n.name, size: n.desc.length, type: n.type };
        if (n.name === "GNU" && n.type === 3) note.buildId = hex(n.desc);
        return note;
      }),
    ).toEqual(theirs);
    const property = ours.find((n) => n.section === ".note.gnu.property");
    if (property !== undefined) expect(property.desc.length % 8).toBe(0);
  });
});

describe("parseNotes", () => {
  function note(name: string, type: number, desc: number[], align: 4 | 8): number[] {
    const nameBytes = [...new TextEncoder().encode(name), 0];
    const pad = (n: number) => Math.ceil(n / align) * align - n;
    const out = [nameBytes.length, desc.length, type].flatMap((v) => [
      v & 0xff,
      (v >> 8) & 0xff,
      (v >> 16) & 0xff,
      v >>> 24,
    ]);
    out.push(...nameBytes, ...new Array(pad(12 + nameBytes.length)).fill(0));
    out.push(...desc, ...new Array(pad(desc.length)).fill(0));
    return out;
  }

  test("4- and 8-byte alignment, offsets, labels", () => {
    const area4 = new Uint8Array([...note("xmc", 1, [1, 2, 3, 4, 5], 4), ...note("GNU", 3, [9, 9], 4)]);
    const n4 = parseNotes(area4, { baseOffset: 0x40, section: ".note.test" });
    expect(n4.map((n) => [n.name, n.type, [...n.desc], n.offset, n.section])).toEqual([
      ["xmc", 1, [1, 2, 3, 4, 5], 0x40, ".note.test"],
      ["GNU", 3, [9, 9], 0x40 + 24, ".note.test"],
    ]);
    const area8 = new Uint8Array([
      ...note("GNUX", 5, [1, 2, 3, 4, 5, 6, 7, 8, 9], 8),
      ...note("A", 2, [], 8),
    ]);
    const n8 = parseNotes(area8, { align: 8 });
    expect(n8.map((n) => [n.name, n.type, n.desc.length, n.offset])).toEqual([
      ["GNUX", 5, 9, 0],
      ["A", 2, 0, 40],
    ]);
  });

  test("empty area, empty name, name without NUL, big-endian header", () => {
    expect(parseNotes(new Uint8Array(0))).toEqual([]);
    const noName = new Uint8Array([0, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 1, 2, 3, 4]);
    expect(parseNotes(noName)[0]).toMatchObject({ name: "", type: 7 });
    const noNul = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x41, 0x42, 0, 0]);
    expect(parseNotes(noNul)[0]!.name).toBe("AB");
    const be = new Uint8Array([0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9, 0x41, 0, 0, 0]);
    expect(parseNotes(be, { endian: "big" })[0]).toMatchObject({ name: "A", type: 9 });
  });
});
