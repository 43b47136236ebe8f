/**
 * Block dispatch (exec/block.ts), tier 1 (the handlers from one loop) and tier 2 (generated
 * functions), against single-step dispatch: the same handlers in the same order, so registers,
 * RIP, instruction counts and modeled cycles are identical — through self-modifying code inside
 * a hot block, faults in the middle of a block (and of a later iteration of a loop block), and
 * whole programs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { GuestFault, LinuxProcess, Machine, Perm, runCpu, Stop } from "../src/index.ts";

interface Outcome {
  stops: Stop[];
  regs: number[];
  rip: number;
  instructions: number;
  cycles: number;
  fault: unknown;
  blocks: number;
}

/**
 * Dispatch modes: single-step only, blocks in tier 1 only, blocks in tier 2 at once (generated
 * handler calls), and fast mode's translation at once.
 */
type Mode = "off" | "tier1" | "tier2" | "fast";
const MODES: Mode[] = ["off", "tier1", "tier2", "fast"];

function machine(mode: Mode): Machine {
  const m = new Machine({ cpus: 1, mode: mode === "fast" ? "fast" : "interp" });
  setMode(m, mode);
  return m;
}

function setMode(m: Machine, mode: Mode): void {
  if (mode === "off") m.cache.blockThreshold = 0;
  else if (mode === "tier1") m.cache.jitThreshold = 0;
  else {
    m.cache.blockThreshold = 2;
    m.cache.jitThreshold = 1;
    m.cache.jitNext = 1;
  }
}

/** Run raw code at 0x400000 (data page RW at 0x401000) in quanta of `quantum` instructions. */
function runCode(code: number[], mode: Mode, quantum: number, total: number): Outcome {
  const m = machine(mode);
  m.mem.map(0x400000, 0x1000, Perm.RWX);
  m.mem.map(0x401000, 0x1000, Perm.RW);
  m.mem.writeBytes(0x400000, Uint8Array.from(code));
  const c = m.cpus[0]!;
  c.rip = 0x400000;
  const stops: Stop[] = [];
  while (c.instructions < total) {
    const s = runCpu(c, m.cache, quantum);
    stops.push(s);
    if (s === Stop.Fault) break;
  }
  let nblocks = 0;
  for (let ip = 0x400000; ip < 0x400000 + code.length; ip++) {
    const b = m.cache.peek(ip)?.blk;
    if (b && (mode === "tier1" || b.run !== null)) nblocks++;
  }
  return {
    stops,
    regs: Array.from(c.regs),
    rip: c.rip,
    instructions: c.instructions,
    cycles: c.cycles,
    fault: c.fault,
    blocks: nblocks,
  };
}

// mov $200,%ecx; xor %ebx,%ebx
// loop: mov $0x401000,%edi; mov $patch+1,%edx; cmp $100,%ecx; cmovb %edx,%edi; mov %ecx,(%rdi)
// patch: mov $0,%eax; add %eax,%ebx; dec %ecx; jnz loop; ud2
const SMC = [
  0xb9, 0xc8, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xbf, 0x00, 0x10, 0x40, 0x00, 0xba, 0x1a, 0x00, 0x40, 0x00, 0x83,
  0xf9, 0x64, 0x0f, 0x42, 0xfa, 0x89, 0x0f, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xe3,
  0x0f, 0x0b,
];

// mov $0x401000,%esi; xor %ebx,%ebx; xor %ecx,%ecx
// loop: mov (%rsi),%eax; add %eax,%ebx; add $8,%rsi; mov %rsi,8(%rsi); inc %ecx; imul $3,%ebx,%edx;
//       xor %edx,%ebx; jmp loop
const FAULT = [
  0xbe, 0x00, 0x10, 0x40, 0x00, 0x31, 0xdb, 0x31, 0xc9, 0x8b, 0x06, 0x01, 0xc3, 0x48, 0x83, 0xc6, 0x08, 0x48,
  0x89, 0x76, 0x08, 0xff, 0xc1, 0x6b, 0xd3, 0x03, 0x31, 0xd3, 0xeb, 0xeb,
];

// mov $0x402000,%esp; mov $100,%ecx; xor %eax,%eax
// loop: mov $0x400800,%edx; cmp $50,%ecx; cmovb %rdx,%rsp; call f; dec %ecx; jnz loop; ud2
// f: add $1,%eax; ret          (from 49 down, the stack is on the code page: CALL's push drops it)
const CALL_SMC = [
  0xbc, 0x00, 0x20, 0x40, 0x00, 0xb9, 0x64, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xba, 0x00, 0x08, 0x40, 0x00, 0x83,
  0xf9, 0x32, 0x48, 0x0f, 0x42, 0xe2, 0xe8, 0x06, 0x00, 0x00, 0x00, 0xff, 0xc9, 0x75, 0xeb, 0x0f, 0x0b, 0x83,
  0xc0, 0x01, 0xc3,
];

// mov $0x401000,%edx; xor %eax,%eax; mov $1,%ebx
// loop: mov %edx,%edi; mov %ebx,%ecx; rep stosb; add $64,%ebx; jmp loop
// (the count grows until REP STOSB runs off the data page: a fault inside a handler that adds
// its elements' cycles itself)
const REP_FAULT = [
  0xba, 0x00, 0x10, 0x40, 0x00, 0x31, 0xc0, 0xbb, 0x01, 0x00, 0x00, 0x00, 0x89, 0xd7, 0x89, 0xd9, 0xf3, 0xaa,
  0x83, 0xc3, 0x40, 0xeb, 0xf5,
];

describe("block dispatch", () => {
  test("a fault inside REP STOS in a block: cycles of the elements done, as single-stepped", () => {
    for (const quantum of [10_000, 100]) {
      const off = runCode(REP_FAULT, "off", quantum, 1e7);
      expect(off.fault).toBeInstanceOf(GuestFault);
      expect(off.rip).toBe(0x400010);
      for (const mode of MODES) {
        const on = runCode(REP_FAULT, mode, quantum, 1e7);
        expect(on, `${mode} ${quantum}`).toEqual({ ...off, blocks: on.blocks });
        if (mode !== "off") expect(on.blocks, mode).toBeGreaterThan(0);
      }
    }
  });

  test("a CALL followed inside a block whose push drops the block's code goes to its target", () => {
    for (const quantum of [10_000, 30]) {
      const off = runCode(CALL_SMC, "off", quantum, 1e6);
      expect(off.regs[0]).toBe(100);
      expect(off.rip).toBe(0x400021);
      for (const mode of MODES) {
        const on = runCode(CALL_SMC, mode, quantum, 1e6);
        expect(on, `${mode} ${quantum}`).toEqual({ ...off, blocks: on.blocks });
      }
    }
  });

  test("a store into the rest of a hot block is seen by the next instruction", () => {
    for (const quantum of [10_000, 30]) {
      const off = runCode(SMC, "off", quantum, 1e6);
      // 200..100 add the original immediate 0; 99..1 add the patched one.
      expect(off.regs[6]).toBe((99 * 100) / 2);
      expect(off.rip).toBe(0x400024);
      for (const mode of MODES) {
        const on = runCode(SMC, mode, quantum, 1e6);
        expect(on, `${mode} ${quantum}`).toEqual({ ...off, blocks: on.blocks });
      }
    }
  });

  test("a fault in the middle of a block: RIP, counts and cycles as single-stepped", () => {
    for (const quantum of [10_000, 100, 7, 1]) {
      const off = runCode(FAULT, "off", quantum, 1e6);
      expect(off.fault).toBeInstanceOf(GuestFault);
      expect((off.fault as GuestFault).address).toBe(0x402000);
      expect(off.rip).toBe(0x400011);
      for (const mode of MODES) {
        const on = runCode(FAULT, mode, quantum, 1e6);
        expect(on, `${mode} ${quantum}`).toEqual({ ...off, blocks: on.blocks });
        if (quantum === 100 && mode !== "off") expect(on.blocks, mode).toBeGreaterThan(0);
      }
    }
  });

  test("fixture programs: same output, instructions and cycles in every dispatch mode", () => {
    const bin = join(import.meta.dirname, "fixtures/bin");
    for (const name of ["intwork", "qsortstr", "printffp", "setjmp", "signals", "jit", "smc"]) {
      const results = MODES.map((mode) => {
        const m = machine(mode);
        let out = "";
        const p = new LinuxProcess(m, readFileSync(join(bin, name)), {
          argv: [name],
          seed: 1,
          stdout: (d) => {
            out += Buffer.from(d).toString();
          },
        });
        const exit = p.run();
        const c = m.cpus[0]!;
        return { exit, out, instructions: c.instructions, cycles: c.cycles };
      });
      expect(results[1], `${name} tier1`).toEqual(results[0]);
      expect(results[2], `${name} tier2`).toEqual(results[0]);
      expect(results[3], `${name} fast`).toEqual(results[0]);
    }
  });
});
