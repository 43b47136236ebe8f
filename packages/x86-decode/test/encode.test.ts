/** The patch encoder: every encoding decodes back (ours and objdump's) to what was asked. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";
import {
  Br,
  decode,
  EncodeError,
  encodeCall32,
  encodeInt3,
  encodeJcc8,
  encodeJcc32,
  encodeJmp,
  encodeJmp8,
  encodeJmp32,
  encodeNop,
  encodeNopFill,
  encodeRet,
  formatAtt,
  Instruction,
} from "../src/index.ts";

function dec(b: Uint8Array, ip: number): Instruction {
  const i = new Instruction();
  expect(decode(b, 0, ip, 64, i)).toBe(b.length);
  return i;
}

describe("encoder", () => {
  test("jmp/call/jcc reach their targets", () => {
    const from = 0x401000;
    expect(dec(encodeJmp8(from, from + 0x7f + 2), from).target).toBe(from + 0x81);
    expect(dec(encodeJmp32(from, 0x400000), from).target).toBe(0x400000);
    expect(dec(encodeCall32(from, from + 0x12345678), from).branch).toBe(Br.Call);
    expect(dec(encodeCall32(from, from + 0x12345678), from).target).toBe(from + 0x12345678);
    const j = dec(encodeJcc32("ne", from, from - 0x1000), from);
    expect(j.branch).toBe(Br.Jcc);
    expect(formatAtt(j)).toBe(`jne    0x${(from - 0x1000).toString(16)}`);
    expect(formatAtt(dec(encodeJcc8(4, from, from + 2), from))).toBe(`je     0x${(from + 2).toString(16)}`);
    expect(encodeJmp(from, from + 10).length).toBe(2);
    expect(encodeJmp(from, from + 1000).length).toBe(5);
    expect(dec(encodeInt3(), 0).branch).toBe(Br.Int3);
    expect(dec(encodeRet(), 0).branch).toBe(Br.Ret);
  });

  test("out-of-range targets are refused with a typed error", () => {
    expect(() => encodeJmp8(0x1000, 0x1000 + 2 + 128)).toThrow(EncodeError);
    expect(() => encodeJmp8(0x1000, 0x1000 + 2 - 129)).toThrow(/does not fit in rel8/);
    expect(() => encodeJmp32(0, 2 ** 40)).toThrow(/rel32/);
    expect(() => encodeCall32(2 ** 33, 0)).toThrow(EncodeError);
    expect(() => encodeJcc8("zz", 0, 0)).toThrow(/unknown condition/);
    expect(() => encodeNop(0)).toThrow(EncodeError);
    expect(() => encodeNop(12)).toThrow(/1 to 11/);
  });

  test("NOPs of 1..11 bytes are single instructions; fills cover any length", () => {
    for (let n = 1; n <= 11; n++) {
      const b = encodeNop(n);
      expect(b.length).toBe(n);
      const i = dec(b, 0);
      expect(i.branch).toBe(Br.None);
      expect(formatAtt(i)).toMatch(/nop|xchg {3}%ax,%ax/);
    }
    for (const n of [0, 1, 12, 23, 64]) {
      const b = encodeNopFill(n);
      expect(b.length).toBe(n);
      let p = 0;
      const i = new Instruction();
      while (p < n) {
        const l = decode(b, p, p, 64, i);
        expect(l).toBeGreaterThan(0);
        p += l;
      }
      expect(p).toBe(n);
    }
  });

  const ok = requireTools("objdump");
  test.skipIf(!ok)("objdump reads the encodings the same way", () => {
    const cases = [
      encodeJmp32(0, 0x1234),
      encodeCall32(0, 0x40),
      encodeJcc32("g", 0, 0x100),
      encodeNop(9),
      encodeNop(11),
    ];
    const dir = mkdtempSync(join(tmpdir(), "xmc-enc-"));
    for (const b of cases) {
      const f = join(dir, "x.bin");
      writeFileSync(f, b);
      const out = execFileSync("objdump", ["-D", "-b", "binary", "-m", "i386:x86-64", f], {
        encoding: "utf8",
      });
      const line = out.split("\n").find((l) => /^\s+0:\t/.test(l))!;
      const text = line.split("\t")[2]!.trimEnd();
      expect(formatAtt(dec(b, 0))).toBe(text);
    }
  });
});
