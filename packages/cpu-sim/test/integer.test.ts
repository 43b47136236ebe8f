/**
 * Focused tests of tricky integer semantics (the conformance suite checks the same against the
 * real CPU with random operands; these pin the edge cases by name and run without gcc).
 */
import { describe, expect, it } from "vitest";
import {
  type Cpu,
  CpuException,
  cpuid,
  FEATURES,
  FL,
  GuestFault,
  Machine,
  Perm,
  runCpu,
  Stop,
  Vec,
} from "../src/index.ts";

const CODE = 0x1000;
const DATA = 0x10000;

/** Run the instruction bytes `code` (one or more instructions) after `setup`; returns the CPU and fault. */
function exec(
  code: number[],
  setup: (c: Cpu, m: Machine) => void = () => {},
): { c: Cpu; m: Machine; fault: unknown } {
  const m = new Machine({ cpus: 1 });
  m.mem.map(CODE, 0x1000, Perm.RX);
  m.mem.map(DATA, 0x10000, Perm.RW);
  m.mem.writeBytes(CODE, Uint8Array.from(code));
  const c = m.cpus[0]!;
  c.rip = CODE;
  c.setReg64(4, DATA + 0x8000);
  setup(c, m);
  let fault: unknown;
  for (let i = 0; i < 1000 && c.rip !== CODE + code.length; i++) {
    if (runCpu(c, m.cache, 1) === Stop.Fault) {
      fault = c.fault;
      break;
    }
  }
  return { c, m, fault };
}

const hex = (c: Cpu, r: number): string => c.reg64n(r).toString(16);

describe("shifts and rotates", () => {
  it("a count of 0 leaves every flag alone but still zero-extends a 32-bit register", () => {
    // stc; cmp al,al (ZF=1, CF=0) would materialize; use sahf to set a known pattern instead.
    const { c } = exec([0xc1, 0xe0, 0x00], (c) => {
      c.setFlags(0x202 | FL.CF | FL.OF | FL.SF | FL.PF);
      c.setReg64n(0, 0xdeadbeef_12345678n);
    });
    expect(c.getFlags() & FL.ARITH).toBe(FL.CF | FL.OF | FL.SF | FL.PF);
    expect(hex(c, 0)).toBe("12345678");
  });

  it("the count is masked to 5 bits (6 with REX.W): shl eax, 32 is a no-op on flags", () => {
    const { c } = exec([0xb1, 0x20, 0xd3, 0xe0], (c) => {
      c.setFlags(0x202 | FL.ZF);
      c.setReg64(0, 1);
    });
    expect(c.getFlags() & FL.ARITH).toBe(FL.ZF);
    expect(hex(c, 0)).toBe("1");
  });

  it("shl rax, 63 / shr / sar give CF as the last bit out; OF for a count of 1", () => {
    let r = exec([0x48, 0xc1, 0xe0, 0x3f], (c) => c.setReg64n(0, 3n)); // shl rax,63
    expect(hex(r.c, 0)).toBe("8000000000000000");
    expect(r.c.getFlags() & FL.CF).toBe(FL.CF);
    r = exec([0x48, 0xd1, 0xe0], (c) => c.setReg64n(0, 0x4000000000000000n)); // shl rax,1
    expect(r.c.getFlags() & (FL.CF | FL.OF)).toBe(FL.OF);
    r = exec([0x48, 0xc1, 0xf8, 0x04], (c) => c.setReg64n(0, 0x8000000000000018n)); // sar rax,4
    expect(hex(r.c, 0)).toBe("f800000000000001");
    expect(r.c.getFlags() & FL.CF).toBe(FL.CF);
    expect(r.c.cond(0x2)).toBe(true); // jb sees CF from the lazy record
  });

  it("rcl/rcr rotate through CF (8-bit counts modulo 9)", () => {
    const { c } = exec([0xf9, 0xc0, 0xd0, 0x09], (c) => c.setReg64(0, 0x81)); // stc; rcl al,9
    expect(c.regs[0]! & 0xff).toBe(0x81);
    expect(c.getFlags() & FL.CF).toBe(FL.CF);
  });

  it("shld/shrd 64-bit", () => {
    const { c } = exec([0x48, 0x0f, 0xa4, 0xd8, 0x08], (c) => {
      c.setReg64n(0, 0x0123456789abcdefn);
      c.setReg64n(3, 0xfedcba9876543210n);
    });
    expect(hex(c, 0)).toBe("23456789abcdeffe");
  });
});

describe("multiply and divide", () => {
  it("mul rcx: the full 128-bit product in RDX:RAX", () => {
    const { c } = exec([0x48, 0xf7, 0xe1], (c) => {
      c.setReg64n(0, 0xffffffffffffffffn);
      c.setReg64n(1, 0xffffffffffffffffn);
    });
    expect(hex(c, 0)).toBe("1");
    expect(hex(c, 2)).toBe("fffffffffffffffe");
    expect(c.getFlags() & (FL.CF | FL.OF)).toBe(FL.CF | FL.OF);
  });

  it("imul rax, rcx flags overflow of the signed product", () => {
    const { c } = exec([0x48, 0x0f, 0xaf, 0xc1], (c) => {
      c.setReg64n(0, 0x100000000n);
      c.setReg64n(1, 0x80000000n);
    });
    expect(hex(c, 0)).toBe("8000000000000000");
    expect(c.getFlags() & (FL.CF | FL.OF)).toBe(FL.CF | FL.OF);
  });

  it("div rcx: 128-by-64 division", () => {
    const { c } = exec([0x48, 0xf7, 0xf1], (c) => {
      c.setReg64n(2, 0x1234n);
      c.setReg64n(0, 0x56789abcdef01234n);
      c.setReg64n(1, 0x123456789n);
    });
    const n = (0x1234n << 64n) | 0x56789abcdef01234n;
    expect(c.reg64n(0)).toBe(n / 0x123456789n);
    expect(c.reg64n(2)).toBe(n % 0x123456789n);
  });

  it("idiv: quotient overflow and division by zero raise #DE with RIP on the instruction", () => {
    for (const setup of [
      (c: Cpu) => {
        c.setReg64n(0, 0x80000000n); // idiv ecx: -2^31 / -1 overflows
        c.setReg64n(2, 0xffffffffn);
        c.setReg64n(1, 0xffffffffn);
      },
      (c: Cpu) => c.setReg64n(1, 0n),
    ]) {
      const { c, fault } = exec([0xf7, 0xf9], setup);
      expect(fault).toBeInstanceOf(CpuException);
      expect((fault as CpuException).vector).toBe(Vec.DE);
      expect(c.rip).toBe(CODE);
    }
  });

  it("div ecx with EDX >= ECX is #DE; EDX < ECX divides the 64-bit dividend", () => {
    const five = (c: Cpu): void => {
      c.setReg64(2, 5);
      c.setReg64(1, 5);
    };
    expect(exec([0xf7, 0xf1], five).fault).toBeInstanceOf(CpuException);
    const { c } = exec([0xf7, 0xf1], (c) => {
      c.setReg64(2, 4);
      c.setReg64(0, 0x12345678);
      c.setReg64(1, 5);
    });
    const n = 4n * 2n ** 32n + 0x12345678n;
    expect(c.reg64n(0)).toBe(n / 5n);
    expect(c.reg64n(2)).toBe(n % 5n);
  });
});

describe("exchanges", () => {
  it("cmpxchg16b needs a 16-byte aligned operand (#GP otherwise)", () => {
    const { fault } = exec([0x48, 0x0f, 0xc7, 0x0f], (c) => c.setReg64(7, DATA + 8));
    expect(fault).toBeInstanceOf(CpuException);
    expect((fault as CpuException).vector).toBe(Vec.GP);
  });

  it("cmpxchg16b swaps when RDX:RAX matches and loads when it does not", () => {
    const { c, m } = exec([0xf0, 0x48, 0x0f, 0xc7, 0x0f, 0xf0, 0x48, 0x0f, 0xc7, 0x0f], (c, m) => {
      c.setReg64(7, DATA + 16);
      m.mem.write64(DATA + 16, 1, 0);
      m.mem.write64(DATA + 24, 2, 0);
      c.setReg64(0, 1);
      c.setReg64(2, 2);
      c.setReg64(3, 7);
      c.setReg64(1, 8);
    });
    // The first one stores RCX:RBX; the second then fails and loads it into RDX:RAX.
    expect(m.mem.read64(DATA + 16)).toBe(7);
    expect(hex(c, 0)).toBe("7");
    expect(hex(c, 2)).toBe("8");
    expect(c.getFlags() & FL.ZF).toBe(0);
  });

  it("xadd with the source register as the memory base uses the old address", () => {
    const { c, m } = exec([0x48, 0x0f, 0xc1, 0x00], (c, m) => {
      c.setReg64(0, DATA);
      m.mem.write64(DATA, 5, 0);
    });
    expect(m.mem.read64(DATA)).toBe(DATA + 5);
    expect(c.reg64(0)).toBe(5);
  });
});

describe("string instructions", () => {
  it("REP with RCX=0 does nothing", () => {
    const { c, m } = exec([0xf3, 0xa4], (c) => {
      c.setReg64(1, 0);
      c.setReg64(6, DATA);
      c.setReg64(7, DATA + 0x100);
    });
    expect(c.reg64(6)).toBe(DATA);
    expect(c.reg64(7)).toBe(DATA + 0x100);
    expect(m.mem.read8(DATA + 0x100)).toBe(0);
  });

  it("DF=1 runs downward (std; rep stosq)", () => {
    const { c, m } = exec([0xfd, 0xf3, 0x48, 0xab], (c) => {
      c.setReg64(1, 3);
      c.setReg64(7, DATA + 0x100);
      c.setReg64(0, 0x11);
    });
    expect(c.reg64(7)).toBe(DATA + 0x100 - 24);
    expect(c.reg64(1)).toBe(0);
    for (const o of [0x100, 0xf8, 0xf0]) expect(m.mem.read64(DATA + o)).toBe(0x11);
    expect(m.mem.read64(DATA + 0xe8)).toBe(0);
  });

  it("a huge REP count completes through re-execution, charging cycles per element", () => {
    const { c, m } = exec([0xf3, 0xaa], (c) => {
      c.setReg64(1, 0xf000);
      c.setReg64(7, DATA);
      c.setReg64(0, 0xab);
    });
    expect(c.reg64(1)).toBe(0);
    expect(m.mem.read8(DATA + 0xefff)).toBe(0xab);
    expect(c.cycles).toBeGreaterThan(0xf000 - 1);
  });

  it("overlapping forward rep movsb replicates the pattern, byte by byte", () => {
    const { m } = exec([0xf3, 0xa4], (c, m) => {
      m.mem.write16(DATA, 0x0201);
      c.setReg64(1, 64);
      c.setReg64(6, DATA);
      c.setReg64(7, DATA + 2);
    });
    for (let i = 0; i < 66; i++) expect(m.mem.read8(DATA + i)).toBe(i % 2 ? 2 : 1);
  });

  it("repe cmpsb stops at the first difference", () => {
    const { c } = exec([0xf3, 0xa6], (c, m) => {
      m.mem.writeBytes(DATA, Uint8Array.of(1, 2, 3, 4));
      m.mem.writeBytes(DATA + 0x100, Uint8Array.of(1, 2, 9, 4));
      c.setReg64(1, 4);
      c.setReg64(6, DATA);
      c.setReg64(7, DATA + 0x100);
    });
    expect(c.reg64(1)).toBe(1);
    expect(c.reg64(6)).toBe(DATA + 3);
    expect(c.getFlags() & FL.ZF).toBe(0);
  });

  it("a fault in the middle of REP leaves RSI/RDI/RCX at the faulting element", () => {
    const { c, fault } = exec([0xf3, 0xa4], (c) => {
      c.setReg64(1, 32);
      c.setReg64(6, DATA + 0x10000 - 16);
      c.setReg64(7, DATA);
    });
    expect(fault).toBeInstanceOf(GuestFault);
    expect(c.reg64(1)).toBe(16);
    expect(c.reg64(6)).toBe(DATA + 0x10000);
    expect(c.rip).toBe(CODE);
  });
});

describe("bit instructions", () => {
  it("bts with a memory operand and a negative register bit offset addresses below the operand", () => {
    const { c, m } = exec([0x48, 0x0f, 0xab, 0x07], (c) => {
      c.setReg64(7, DATA + 0x100);
      c.setReg64n(0, BigInt.asUintN(64, -9n)); // byte -2, bit 7
    });
    expect(m.mem.read8(DATA + 0xfe)).toBe(0x80);
    expect(c.getFlags() & FL.CF).toBe(0);
  });

  it("bt with a large positive bit offset reads far beyond the operand; an immediate offset is masked", () => {
    let r = exec([0x0f, 0xa3, 0x07], (c, m) => {
      m.mem.write8(DATA + 0x1000 + 0x200, 0x04);
      c.setReg64(7, DATA + 0x1000);
      c.setReg64(0, 0x200 * 8 + 2);
    });
    expect(r.c.getFlags() & FL.CF).toBe(FL.CF);
    r = exec([0x0f, 0xba, 0x27, 0x22], (c, m) => {
      m.mem.write8(DATA, 0x04);
      c.setReg64(7, DATA);
    }); // bt dword [rdi], 34 → bit 2
    expect(r.c.getFlags() & FL.CF).toBe(FL.CF);
  });

  it("bsf of zero sets ZF and leaves the destination", () => {
    const { c } = exec([0x48, 0x0f, 0xbc, 0xc1], (c) => {
      c.setReg64n(0, 0x1234n);
      c.setReg64n(1, 0n);
    });
    expect(hex(c, 0)).toBe("1234");
    expect(c.getFlags() & FL.ZF).toBe(FL.ZF);
  });

  it("tzcnt/lzcnt/popcnt", () => {
    const src = (c: Cpu): void => c.setReg64n(1, 0x00f0000000000000n);
    expect(exec([0xf3, 0x48, 0x0f, 0xbc, 0xc1], src).c.reg64(0)).toBe(52);
    expect(exec([0xf3, 0x48, 0x0f, 0xbd, 0xc1], src).c.reg64(0)).toBe(8);
    expect(exec([0xf3, 0x48, 0x0f, 0xb8, 0xc1], src).c.reg64(0)).toBe(4);
    const z = exec([0xf3, 0x0f, 0xbc, 0xc1], (c) => c.setReg64(1, 0)).c;
    expect(z.reg64(0)).toBe(32);
    expect(z.getFlags() & (FL.CF | FL.ZF)).toBe(FL.CF);
  });
});

describe("addressing", () => {
  it("a negative 64-bit index register addresses below the base (exactly, no rounding)", () => {
    const { m, fault } = exec([0xc6, 0x04, 0x0e, 0x5a], (c) => {
      c.setReg64(6, DATA + 0x1ac); // movb $0x5a, (%rsi,%rcx,1)
      c.setReg64n(1, BigInt.asUintN(64, -8n));
    });
    expect(fault).toBeUndefined();
    expect(m.mem.read8(DATA + 0x1a4)).toBe(0x5a);
  });

  it("32-bit address size ignores the upper halves of base and index (LEA too)", () => {
    const { c } = exec([0x67, 0x48, 0x8d, 0x04, 0x0e], (c) => {
      c.setReg64n(6, 0x12345678_fffffff0n); // lea (%esi,%ecx,1), %rax
      c.setReg64n(1, 0xabcdef00_00000020n);
    });
    expect(hex(c, 0)).toBe("10");
  });
});

describe("registers", () => {
  it("byte register 4-7 is AH..BH without REX and SPL..DIL with it", () => {
    const set = (c: Cpu): void => {
      c.setReg64n(0, 0x1122n);
      c.setReg64n(4, 0x10033n);
    };
    expect(exec([0x88, 0xe0], set).c.regs[0]! & 0xff).toBe(0x11); // mov al, ah
    expect(exec([0x40, 0x88, 0xe0], set).c.regs[0]! & 0xff).toBe(0x33); // mov al, spl
    const r = exec([0x41, 0x88, 0xe0], set).c; // mov r8b, spl
    expect(r.regs[16]! & 0xff).toBe(0x33);
  });

  it("pushf/popf round trip the status flags and DF", () => {
    const { c } = exec([0x9c, 0x48, 0x81, 0x34, 0x24, 0xd5, 0x0c, 0x00, 0x00, 0x9d], (c) =>
      c.setFlags(0x202),
    );
    // xor qword [rsp], 0xcd5 flips CF PF AF ZF SF DF OF.
    expect(c.getFlags() & 0xcd5).toBe(0xcd5);
  });

  it("enter with a nesting level copies the frame pointers", () => {
    const { c, m } = exec([0xc8, 0x10, 0x00, 0x02], (c, m) => {
      c.setReg64(5, DATA + 0x9000);
      m.mem.write64(DATA + 0x9000 - 8, 0x77, 0);
    });
    const frame = DATA + 0x8000 - 8;
    expect(c.reg64(5)).toBe(frame);
    expect(m.mem.read64(frame)).toBe(DATA + 0x9000); // old RBP
    expect(m.mem.read64(frame - 8)).toBe(0x77); // copied frame pointer
    expect(m.mem.read64(frame - 16)).toBe(frame); // the new frame pointer
    expect(c.reg64(4)).toBe(frame - 16 - 0x10);
  });
});

describe("CPUID", () => {
  it("advertises the integer extensions that are implemented, and not SSE4.2", () => {
    const { c } = exec([], () => {});
    c.setReg64(0, 1);
    cpuid(c, 1);
    const ecx = c.regs[2]!;
    expect(ecx & (1 << 13)).not.toBe(0); // CMPXCHG16B
    expect(ecx & (1 << 23)).not.toBe(0); // POPCNT
    expect(ecx & (1 << 20)).toBe(0); // SSE4.2
    expect(FEATURES.leaf7Ebx & ((1 << 3) | (1 << 8))).toBe((1 << 3) | (1 << 8)); // BMI1, BMI2
  });

  it("an unimplemented instruction is a clean #UD naming it (RDRAND is not offered)", () => {
    const { fault } = exec([0x0f, 0xc7, 0xf0]);
    expect(fault).toBeInstanceOf(CpuException);
    expect((fault as CpuException).message).toMatch(/rdrand/);
  });
});
