/**
 * The core: paged memory with permissions and faults, the decoded-instruction cache under
 * self-modifying code, the run loop's fault reporting, and the loader on real binaries.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  CodeCache,
  Cpu,
  GuestFault,
  HANDLERS,
  LinuxProcess,
  Machine,
  Memory,
  Perm,
  runCpu,
  Stop,
} from "../src/index.ts";

describe("memory", () => {
  test("mapped pages read and write little-endian; unmapped and forbidden accesses fault", () => {
    const m = new Memory(1 << 20);
    m.map(0x10000, 0x2000, Perm.RW);
    m.write32(0x10ffe, 0x11223344); // crosses a page boundary
    expect(m.read8(0x10ffe)).toBe(0x44);
    expect(m.read8(0x11001)).toBe(0x11);
    expect(m.read32(0x10ffe) >>> 0).toBe(0x11223344);
    m.write64(0x10100, 0xdeadbeef | 0, 0x01020304);
    expect(m.read64(0x10100) >>> 0).toBe(0xdeadbeef);
    expect(m.hi).toBe(0x01020304);
    expect(() => m.read8(0x20000)).toThrow(GuestFault);
    m.protect(0x10000, 0x1000, Perm.R);
    expect(() => m.write8(0x10000, 1)).toThrow(/protected/);
    // A faulting page-crossing store writes nothing.
    expect(() => m.write32(0x10ffe, 0)).toThrow(GuestFault);
    expect(m.read32(0x10ffe) >>> 0).toBe(0x11223344);
  });

  test("the size limit is enforced", () => {
    const m = new Memory(0x3000);
    m.map(0, 0x3000, Perm.RW);
    expect(() => m.map(0x10000, 0x1000, Perm.RW)).toThrow(/limit/);
  });
});

describe("decoded-instruction cache", () => {
  test("a write to cached code is seen by the next execution (self-modifying code)", () => {
    const mach = new Machine({ cpus: 1 });
    const mem = mach.mem;
    mem.map(0x400000, 0x1000, Perm.RWX);
    // mov $1,%eax ; jmp back to start  (B8 01 00 00 00 ; EB F9)
    mem.writeBytes(0x400000, Uint8Array.of(0xb8, 1, 0, 0, 0, 0xeb, 0xf9));
    const c = mach.cpus[0]!;
    c.rip = 0x400000;
    expect(runCpu(c, mach.cache, 4)).toBe(Stop.Budget);
    expect(c.regs[0]).toBe(1);
    // The guest rewrites the immediate (store through the normal path).
    mem.write8(0x400001, 7);
    c.rip = 0x400000;
    runCpu(c, mach.cache, 1);
    expect(c.regs[0]).toBe(7);
  });

  test("executing a non-executable page faults with RIP at the target", () => {
    const mach = new Machine({ cpus: 1 });
    mach.mem.map(0x500000, 0x1000, Perm.RW);
    const c = mach.cpus[0]!;
    c.rip = 0x500000;
    expect(runCpu(c, mach.cache, 10)).toBe(Stop.Fault);
    expect(c.fault).toBeInstanceOf(GuestFault);
    expect((c.fault as GuestFault).access).toBe("exec");
    expect(c.rip).toBe(0x500000);
  });

  test("an unimplemented instruction is a #UD naming it, with RIP at the instruction", () => {
    const mem = new Memory();
    mem.map(0x400000, 0x1000, Perm.RX);
    mem.writeBytes(0x400000, Uint8Array.of(0x90, 0x0f, 0x0b)); // nop; ud2
    const cache = new CodeCache(mem, { handler: (_f, n) => HANDLERS[n], cost: () => 1 });
    const c = new Cpu(0, mem);
    c.rip = 0x400000;
    expect(runCpu(c, cache, 10)).toBe(Stop.Fault);
    expect(c.rip).toBe(0x400001);
    expect(String(c.fault)).toMatch(/ud2/);
  });
});

describe("programs", () => {
  const hello = join(import.meta.dirname, "../../../apps/cli/examples/hello");
  test("the bundled static example runs to completion with its output", () => {
    const mach = new Machine({ cpus: 1 });
    let out = "";
    const p = new LinuxProcess(mach, readFileSync(hello), {
      argv: ["hello"],
      stdout: (d) => {
        out += Buffer.from(d).toString();
      },
    });
    expect(p.run()).toEqual({ code: 0, signal: 0 });
    expect(out).toBe("hello from xmc\n");
    expect(mach.cpus[0]!.instructions).toBeGreaterThan(5);
    expect(mach.cpus[0]!.cycles).toBeGreaterThan(0);
  });

  test("a dynamically linked program is refused with a clear message", () => {
    expect(() => new LinuxProcess(new Machine(), readFileSync("/bin/true"), { argv: ["true"] })).toThrow(
      /dynamically linked.*only static programs/,
    );
  });
});
