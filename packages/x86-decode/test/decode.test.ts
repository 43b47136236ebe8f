/**
 * Decoder facts the patching layers rely on, on encodings whose meaning is fixed by the SDM,
 * and bad input as results (never exceptions).
 */
import { describe, expect, test } from "vitest";
import { Br, DecodeError, decode, formatAtt, Instruction, instructionLength } from "../src/index.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ""), "hex"));
function d(s: string, ip = 0x1000, mode: 16 | 32 | 64 = 64): Instruction {
  const i = new Instruction();
  decode(hex(s), 0, ip, mode, i);
  return i;
}

describe("instruction facts", () => {
  test("branch kinds and direct targets", () => {
    expect(d("e8 10 00 00 00").branch).toBe(Br.Call);
    expect(d("e8 10 00 00 00").target).toBe(0x1000 + 5 + 0x10);
    expect(d("eb fe").target).toBe(0x1000);
    expect(d("0f 84 00 01 00 00").branch).toBe(Br.Jcc);
    expect(d("ff d0").branch).toBe(Br.CallInd);
    expect(d("ff 24 c5 00 00 00 00").branch).toBe(Br.JmpInd);
    expect(d("c3").branch).toBe(Br.Ret);
    expect(d("e2 fe").branch).toBe(Br.Loop);
    expect(d("e3 fe").branch).toBe(Br.Jrcxz);
    expect(d("cc").branch).toBe(Br.Int3);
    expect(d("cd 80").branch).toBe(Br.Int);
    expect(d("0f 0b").branch).toBe(Br.Ud);
    expect(d("0f 05").branch).toBe(Br.Syscall);
    expect(d("ff 1c 24").branch).toBe(Br.CallFar);
    expect(d("c3").stopsFlow).toBe(true);
    expect(d("e9 00 00 00 00").stopsFlow).toBe(true);
    expect(d("e8 00 00 00 00").stopsFlow).toBe(false);
    expect(d("74 00").stopsFlow).toBe(false);
  });

  test("RIP-relative displacement and immediate positions", () => {
    const lea = d("48 8d 05 78 56 34 12");
    expect(lea.ripRelative).toBe(true);
    expect(lea.ripDispOffset).toBe(3);
    expect(lea.dispSize).toBe(4);
    expect(lea.memDisp).toBe(0x12345678);
    const movImm = d("48 c7 05 10 00 00 00 2a 00 00 00");
    expect(movImm.ripDispOffset).toBe(3);
    expect(movImm.immOffset).toBe(7);
    expect(movImm.immSize).toBe(4);
    expect(d("8b 05 00 00 00 00", 0, 32).ripRelative).toBe(false);
  });

  test("serializing, privileged, lock and rep", () => {
    expect(d("0f a2").serializing).toBe(true);
    expect(d("cf").serializing).toBe(true);
    expect(d("0f ae e8").serializing).toBe(false); // LFENCE is not serializing
    expect(d("0f 01 f8").privileged).toBe(true);
    expect(d("f4").privileged).toBe(true);
    expect(d("fa").changesIF).toBe(true);
    expect(d("f0 0f c1 0f").lock).toBe(true);
    expect(d("f3 a4").rep).toBe(true);
    expect(d("f3 c3").rep).toBe(false);
  });

  test("bad input is a result, never an exception", () => {
    const i = new Instruction();
    expect(decode(hex("48 8b"), 0, 0, 64, i)).toBe(0);
    expect(i.error).toBe(DecodeError.Truncated);
    expect(decode(hex("f0 90"), 0, 0, 64, i)).toBe(0); // LOCK NOP
    expect(i.error).toBe(DecodeError.Invalid);
    expect(decode(hex(`${"66".repeat(15)}90`), 0, 0, 64, i)).toBe(0);
    expect(i.error).toBe(DecodeError.TooLong);
    expect(decode(hex("06"), 0, 0, 64, i)).toBe(0); // PUSH ES is invalid in 64-bit mode
    expect(decode(hex("06"), 0, 0, 32, i)).toBe(1);
    expect(formatAtt(i)).toBe("push   %es");
    expect(instructionLength(hex("48 8b"), 0, 64)).toBe(-DecodeError.Truncated);
    expect(instructionLength(hex("0f 0b"), 0, 64)).toBe(2);
    expect(decode(new Uint8Array(0), 0, 0, 64, i)).toBe(0);
    expect(decode(hex("90"), 5, 0, 64, i)).toBe(0);
  });
});
