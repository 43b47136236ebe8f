/**
 * Traps, IPIs and host calls with guest code (issue 4, acceptance 3): an INT3 handler that
 * emulates a CALL leaves the program's result unchanged; a single-stepped run counts exactly
 * the instructions executed; IPIs to all CPUs are acknowledged and charged; a VMCALL handler
 * sees and changes registers.
 */
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";
import { DEFAULT_PROFILE } from "../../src/cost.ts";
import { Perm } from "../../src/memory.ts";
import { assemble } from "../../src/precise/litmus.ts";
import { PreciseMachine, type Scheduler, type TrapResult } from "../../src/precise/machine.ts";
import { RandomScheduler } from "../../src/precise/schedule.ts";

const ok = requireTools("as", "ld");
const CODE = 0x10000;
const first: Scheduler = { choose: () => 0 };

function machine(asm: string[], cpus = 1): PreciseMachine {
  const m = new PreciseMachine({ cpus });
  m.load(CODE, assemble(asm, CODE, "test"), Perm.RX);
  for (let i = 0; i < cpus; i++) m.start(i, CODE, 0x7000000 + i * 0x100000);
  return m;
}

describe.skipIf(!ok)("traps, IPIs and host calls", () => {
  // f(x) = 3x + 1 called in a loop; the result in %rax.
  const program = [
    "  mov $10, %ecx",
    "  xor %eax, %eax",
    "loop:",
    "site:",
    "  call f",
    "  dec %ecx",
    "  jnz loop",
    "  hlt",
    "f:",
    "  lea 1(%rax,%rax,2), %rax",
    "  ret",
  ];

  test("an INT3 handler that emulates the CALL leaves the result unchanged", () => {
    const plain = machine(program);
    expect(plain.run(first)).toBe(true);
    const expected = plain.cpus[0]!.reg64(0);
    expect(expected).toBeGreaterThan(0);

    const m = machine(program);
    const callBytes = m.read(CODE + 7, 5); // mov $10,%ecx (5) + xor (2): the call is at +7
    expect(callBytes[0]).toBe(0xe8);
    const target = CODE + 7 + 5 + new DataView(callBytes.buffer, callBytes.byteOffset).getInt32(1, true);
    m.write(CODE + 7, Uint8Array.of(0xcc));
    let hits = 0;
    m.onTrap("bp", (ctx): TrapResult => {
      if (ctx.address !== CODE + 7) return "declined";
      hits++;
      const c = ctx.cpu;
      const ret = CODE + 7 + 5;
      const sp = c.reg64(4) - 8;
      m.mem.write64(sp, ret, 0);
      c.setReg64(4, sp);
      c.rip = target;
      return "handled";
    });
    expect(m.run(new RandomScheduler(7))).toBe(true);
    expect(m.ends()[0]).toBe("hlt");
    expect(hits).toBe(10);
    expect(m.cpus[0]!.reg64(0)).toBe(expected);
    // Each delivery and return is charged (1000 cycles in the default profile).
    expect(m.cpus[0]!.cycles).toBeGreaterThanOrEqual(10 * DEFAULT_PROFILE.events.int3RoundTrip);
  });

  test("a single-stepped run counts exactly the instructions executed", () => {
    const asm = [
      "  pushf",
      "  orq $0x100, (%rsp)",
      "  popf", // TF is set from the next instruction on
      "  mov $5, %ecx",
      "1:",
      "  dec %ecx",
      "  jnz 1b",
      "  pushf",
      "  andq $~0x100, (%rsp)",
      "  popf", // executes with TF set: trapped; TF clear afterwards
      "  nop",
      "  hlt",
    ];
    const m = machine(asm);
    let steps = 0;
    m.onTrap("db", () => {
      steps++;
      return "handled";
    });
    expect(m.run(first)).toBe(true);
    // mov (1) + 5 x (dec, jnz) (10) + pushf, andq, popf (3) = 14 instructions ran with TF set.
    expect(steps).toBe(14);
    expect(m.cpus[0]!.cycles).toBeGreaterThanOrEqual(14 * DEFAULT_PROFILE.events.singleStepRoundTrip);
  });

  test("IPIs to all CPUs are all acknowledged, run on each CPU, and are charged", () => {
    const m = machine(["1:", "  pause", "  jmp 1b"], 4);
    const seen: number[] = [];
    let batch: ReturnType<PreciseMachine["sendIpi"]> | undefined;
    m.setAgent(function* (mm) {
      batch = mm.sendIpi((cpu) => seen.push(cpu.id));
      yield { wait: () => batch!.acked === 4, why: "acks" };
      for (let i = 0; i < 4; i++) mm.idle(i);
    });
    const before = m.cpus.map((c) => c.cycles);
    m.run(new RandomScheduler(3), 20_000);
    expect(batch!.acked).toBe(4);
    expect(seen.sort()).toEqual([0, 1, 2, 3]);
    for (const [i, c] of m.cpus.entries())
      expect(c.cycles - before[i]!).toBeGreaterThanOrEqual(DEFAULT_PROFILE.events.ipi);
  });

  test("a VMCALL handler sees and changes registers", () => {
    const asm = ["  mov $42, %eax", "  mov $7, %edi", "  vmcall", "  mov %rax, %rbx", "  hlt"];
    const m = machine(asm);
    let sawRdi = -1;
    m.onHostCall(42, (ctx) => {
      sawRdi = ctx.cpu.reg64(7);
      ctx.cpu.setReg64(0, sawRdi * 100);
    });
    expect(m.run(first)).toBe(true);
    expect(sawRdi).toBe(7);
    expect(m.cpus[0]!.reg64(3)).toBe(700);
    expect(m.stats.hostCalls).toBe(1);
  });
});
