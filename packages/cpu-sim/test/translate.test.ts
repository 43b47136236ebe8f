/**
 * Fast mode's translation (exec/translate.ts) against single-stepped handlers on seeded random
 * loops of the translated forms mixed with forms that call their handlers (NEG, NOT, ADC, SBB,
 * BSWAP): flags kept in locals and read by the next instructions (Jcc side exits, SETcc, CMOVcc,
 * INC/DEC's CF, ADC/SBB after a translated producer), byte registers (AH..DH), memory operands,
 * PUSH/POP. Registers, every RFLAGS bit, memory, RIP, instruction counts and modeled cycles must
 * be identical, in quanta that end blocks anywhere.
 */
import { describe, expect, test } from "vitest";
import { Machine, Perm, runCpu, Stop } from "../src/index.ts";

/** xorshift32 */
function rng(seed: number): () => number {
  let s = seed | 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

// Registers the random code may write: rax rcx rdx rsi rdi rbp r8-r14 (rbx: data base; rsp; r15: counter).
const REGS = [0, 1, 2, 6, 7, 5, 8, 9, 10, 11, 12, 13, 14];

/** One random instruction's bytes. */
function insn(r: () => number): number[] {
  const pick = <T>(xs: readonly T[]): T => xs[r() % xs.length]!;
  const reg = (): number => pick(REGS);
  const w = r() & 1; // 64-bit
  const rex = (regField: number, rm: number, wide: number): number[] => {
    const b = 0x40 | (wide << 3) | ((regField >> 3) << 2) | (rm >> 3);
    return b === 0x40 ? [] : [b];
  };
  const rr = (op: number[], d: number, s: number, wide: number): number[] => [
    ...rex(s, d, wide),
    ...op,
    0xc0 | ((s & 7) << 3) | (d & 7),
  ];
  const disp = (): number => (r() % 16) * 8 + (r() % 4); // disp8 is signed: 0..127
  const m = (op: number[], g: number, wide: number): number[] => [
    ...rex(g, 3, wide),
    ...op,
    0x43 | ((g & 7) << 3),
    disp(),
  ];
  const imm8 = (): number => pick([0, 1, 2, 3, 31, 63, 0x7f, 0x80, 0xff, r() & 0xff]);
  const imm32 = (): number[] => {
    const v = pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, r()]);
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  };
  switch (r() % 24) {
    case 0:
    case 1:
      return rr([pick([0x01, 0x29, 0x39, 0x21, 0x09, 0x31, 0x85])], reg(), reg(), w);
    case 2:
      return [...rr([0x83], reg(), pick([0, 5, 7, 4, 1, 6]), w), imm8()];
    case 3: {
      // byte ALU on AL CL DL AH CH DH (not BL/BH: RBX is the base)
      const b = [0, 1, 2, 4, 5, 6];
      return [pick([0x00, 0x28, 0x38, 0x20, 0x08, 0x30, 0x84]), 0xc0 | (pick(b) << 3) | pick(b)];
    }
    case 4:
      return [...rr([0xff], reg(), r() & 1, w)];
    case 5:
      return [...rr([0xc1], reg(), pick([4, 5, 7]), w), pick([0, 1, 7, 31, 32, 33, 63, r() & 63])];
    case 6:
      return rr([0x0f, 0xaf], reg(), reg(), 0);
    case 7:
      return [...rr([0x6b], reg(), reg(), 0), imm8()];
    case 8:
      return rr([0x89], reg(), reg(), w);
    case 9: {
      const d = reg();
      return [...rex(0, d, w), 0xc7, 0xc0 | (d & 7), ...imm32()];
    }
    case 10:
      return rr([0x0f, pick([0xb6, 0xb7, 0xbe, 0xbf])], reg(), pick([0, 1, 2]), w);
    case 11: {
      // lea d, [b + i*s + disp8]
      const d = reg();
      const b = pick([...REGS, 3]);
      const i = reg();
      return [
        0x48 | ((d >> 3) << 2) | ((i >> 3) << 1) | (b >> 3),
        0x8d,
        0x44 | ((d & 7) << 3),
        (pick([0, 1, 2, 3]) << 6) | ((i & 7) << 3) | (b & 7),
        r() & 0xff,
      ];
    }
    case 12:
      return m([pick([0x89, 0x8b, 0x01, 0x03, 0x29, 0x2b, 0x39, 0x3b, 0x31, 0x21, 0x85])], reg(), w);
    case 13:
      return [0x80, 0x7b, disp(), imm8()]; // cmp byte [rbx+d], imm8
    case 14: {
      const d = pick([0, 1, 2]);
      return [0x0f, 0x90 | (r() & 15), 0xc0 | d]; // setcc
    }
    case 15:
      return rr([0x0f, 0x40 | (r() & 15)], reg(), reg(), w);
    case 16:
      // handler-called forms: neg, not, adc, sbb, bswap
      switch (r() % 5) {
        case 0:
          return rr([0xf7], reg(), 3, w);
        case 1:
          return rr([0xf7], reg(), 2, w);
        case 2:
          return rr([0x11], reg(), reg(), w);
        case 3:
          return rr([0x19], reg(), reg(), w);
        default: {
          const d = reg();
          return [...rex(0, d, w), 0x0f, 0xc8 | (d & 7)];
        }
      }
    case 17: {
      const x = reg();
      return [...rex(0, x, 0), 0x50 | (x & 7), ...rex(0, x, 0), 0x58 | (x & 7)];
    }
    case 18:
      // a conditional jump over a 3-byte ADD (a side exit in the block)
      return [0x70 | (r() & 15), 0x03, 0x48, 0x01, 0xc8];
    case 19:
      return m([0x0f, pick([0xb6, 0xbe])], reg(), w); // movzx/movsx from memory
    case 20:
      return [...(w ? [0x48] : []), 0x83, 0x43 | (pick([0, 5, 7, 4, 1, 6]) << 3), disp(), imm8()]; // ALU [rbx+d], imm8
    default:
      return rr([pick([0x01, 0x29, 0x31])], reg(), reg(), w);
  }
}

/** A loop: r15 = n; loop: random body; dec r15; jnz loop; ud2 */
function program(seed: number, n: number): Uint8Array {
  const r = rng(seed);
  const body: number[] = [];
  const count = 4 + (r() % 28);
  for (let k = 0; k < count; k++) body.push(...insn(r));
  const head = [0x49, 0xc7, 0xc7, n & 0xff, (n >> 8) & 0xff, 0, 0]; // mov r15, n
  const tail = [0x49, 0xff, 0xcf]; // dec r15
  const back = -(body.length + tail.length + 2);
  let jnz: number[];
  if (back >= -128) jnz = [0x75, back & 0xff];
  else {
    const d = -(body.length + tail.length + 6);
    jnz = [0x0f, 0x85, d & 0xff, (d >> 8) & 0xff, (d >> 16) & 0xff, (d >> 24) & 0xff];
  }
  return Uint8Array.from([...head, ...body, ...tail, ...jnz, 0x0f, 0x0b]);
}

function run(code: Uint8Array, seed: number, fast: boolean, quantum: number) {
  const m = new Machine({ cpus: 1, mode: fast ? "fast" : "interp" });
  if (fast) {
    m.cache.blockThreshold = 2;
    m.cache.jitThreshold = 1;
    m.cache.jitNext = 1;
  } else m.cache.blockThreshold = 0;
  m.mem.map(0x400000, 0x1000, Perm.RX);
  m.mem.map(0x600000, 0x1000, Perm.RW);
  m.mem.map(0x7f0000, 0x10000, Perm.RW);
  m.mem.writeBytes(0x400000, code);
  const r = rng(seed ^ 0x9e3779b9);
  const data = new Uint8Array(0x1000).map(() => r() & 0xff);
  m.mem.writeBytes(0x600000, data);
  const c = m.cpus[0]!;
  for (let i = 0; i < 32; i++) c.regs[i] = r() | 0;
  c.setReg64(3, 0x600000);
  c.setReg64(4, 0x7f8000);
  c.setFlags(r() & 0x8d5);
  c.rip = 0x400000;
  let stop = Stop.Budget;
  for (let k = 0; k < 10000 && stop !== Stop.Fault; k++) stop = runCpu(c, m.cache, quantum);
  return {
    regs: Array.from(c.regs),
    flags: c.getFlags(),
    rip: c.rip,
    instructions: c.instructions,
    cycles: c.cycles,
    fault: String(c.fault),
    data: Buffer.from(m.mem.readBytes(0x600000, 0x1000)).toString("hex"),
    stack: Buffer.from(m.mem.readBytes(0x7f7f00, 0x100)).toString("hex"),
    translated: fast ? m.cache.jitted : -1,
  };
}

describe("translated blocks vs single-stepped handlers", () => {
  test("600 random loops, quanta 10000 and 13", () => {
    let translated = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const code = program(seed, 40);
      for (const q of [10_000, 13]) {
        const want = run(code, seed, false, q);
        const got = run(code, seed, true, q);
        translated += got.translated;
        expect(
          { ...got, translated: -1 },
          `seed ${seed} quantum ${q}: ${Buffer.from(code).toString("hex")}`,
        ).toEqual(want);
      }
    }
    expect(translated).toBeGreaterThan(600);
  });
});
