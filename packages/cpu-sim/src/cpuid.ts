/**
 * CPUID: reports exactly what the interpreter implements. Extensions are listed in
 * {@link FEATURES}; add a feature here only together with its instructions and their
 * conformance tests. Bits from the Intel SDM Vol. 2A, CPUID, tables 3-8 to 3-10.
 * @module
 */
import type { Cpu } from "./cpu.ts";

/** Feature bits reported, by leaf and register. */
export const FEATURES: {
  leaf1Edx: number;
  leaf1Ecx: number;
  leaf7Ebx: number;
  leaf7Ecx: number;
  leaf7Edx: number;
  ext1Ecx: number;
  ext1Edx: number;
} = {
  /** Leaf 1 EDX: FPU(0) TSC(4) CX8(8) CMOV(15) CLFSH(19) FXSR(24) SSE(25) SSE2(26). */
  leaf1Edx: (1 << 0) | (1 << 4) | (1 << 8) | (1 << 15) | (1 << 19) | (1 << 24) | (1 << 25) | (1 << 26),
  /**
   * Leaf 1 ECX: CMPXCHG16B(13) MOVBE(22) POPCNT(23). (SSE3 etc. are added with their
   * instructions. CRC32 is executed but SSE4.2(20) is not claimed: it needs the vector part.)
   */
  leaf1Ecx: (1 << 13) | (1 << 22) | (1 << 23),
  /** Leaf 7 subleaf 0 EBX: BMI1(3) BMI2(8) ADX(19); and ECX, EDX. */
  leaf7Ebx: (1 << 3) | (1 << 8) | (1 << 19),
  leaf7Ecx: 0,
  leaf7Edx: 0,
  /** Leaf 0x80000001 ECX: LAHF/SAHF in 64-bit mode (0), LZCNT/ABM (5). */
  ext1Ecx: (1 << 0) | (1 << 5),
  /** Leaf 0x80000001 EDX: SYSCALL(11) NX(20) LM(29). */
  ext1Edx: (1 << 11) | (1 << 20) | (1 << 29),
};

const VENDOR = "XmcSimulated"; // 12 bytes: EBX, EDX, ECX order
const BRAND = "xmc simulated x86-64 CPU".padEnd(48, "\0");

function str4(s: string, at: number): number {
  return (
    s.charCodeAt(at) |
    (s.charCodeAt(at + 1) << 8) |
    (s.charCodeAt(at + 2) << 16) |
    (s.charCodeAt(at + 3) << 24) |
    0
  );
}

function set(c: Cpu, a: number, b: number, cx: number, d: number): void {
  const r = c.regs;
  r[0] = a | 0;
  r[1] = 0;
  r[6] = b | 0;
  r[7] = 0;
  r[2] = cx | 0;
  r[3] = 0;
  r[4] = d | 0;
  r[5] = 0;
}

/** Execute CPUID on `c` (leaf in EAX, subleaf in ECX). `ncpus` is the machine's CPU count. */
export function cpuid(c: Cpu, ncpus: number): void {
  const leaf = c.regs[0]! >>> 0;
  const sub = c.regs[2]! >>> 0;
  switch (leaf) {
    case 0:
      set(c, 7, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4));
      return;
    case 1:
      // Family 6, model 0, stepping 0; CLFLUSH line 8*8 = 64 bytes; logical CPUs; APIC id = CPU id.
      set(
        c,
        0x600,
        (8 << 8) | (Math.min(ncpus, 255) << 16) | ((c.id & 0xff) << 24),
        FEATURES.leaf1Ecx,
        FEATURES.leaf1Edx,
      );
      return;
    case 7:
      if (sub === 0) set(c, 0, FEATURES.leaf7Ebx, FEATURES.leaf7Ecx, FEATURES.leaf7Edx);
      else set(c, 0, 0, 0, 0);
      return;
    case 0x80000000:
      set(c, 0x80000004, 0, 0, 0);
      return;
    case 0x80000001:
      set(c, 0, 0, FEATURES.ext1Ecx, FEATURES.ext1Edx);
      return;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      set(c, str4(BRAND, o), str4(BRAND, o + 4), str4(BRAND, o + 8), str4(BRAND, o + 12));
      return;
    }
    default:
      // Leaves above the maximum return zeros (SDM: the highest basic leaf's data on Intel;
      // zeros are what a program that checks the maximum leaf first never sees).
      set(c, 0, 0, 0, 0);
  }
}
