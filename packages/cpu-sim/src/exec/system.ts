/**
 * System and miscellaneous instructions available to user programs: SYSCALL, CPUID, RDTSC(P),
 * INT3, UD0/1/2, HLT (privileged → #GP), fences, XGETBV, FS/GS base access.
 * @module
 */
import { CpuException, Vec } from "../errors.ts";
import { readOp, writeOp } from "../ops.ts";
import type { Handler } from "../uop.ts";

const syscall: Handler = (c) => {
  if (!c.host) throw new CpuException(Vec.UD, "syscall with no operating system attached");
  c.host.syscall(c);
};

/** VMCALL: our hypercall (outside a VM it would be #UD): the host function registered under EAX. */
const vmcall: Handler = (c) => {
  if (!c.host?.hostcall?.(c)) throw new CpuException(Vec.UD, `vmcall ${c.regs[0]} has no host function`);
};

const cpuid: Handler = (c) => {
  if (!c.host) throw new CpuException(Vec.UD, "cpuid with no machine attached");
  c.host.cpuid(c);
};

/** RDTSC: the CPU's modeled cycles (its TSC). */
const rdtsc: Handler = (c) => {
  const t = Math.floor(c.cycles);
  c.regs[0] = t | 0;
  c.regs[1] = 0;
  c.regs[4] = Math.floor(t / 4294967296) | 0;
  c.regs[5] = 0;
};

const rdtscp: Handler = (c, u) => {
  rdtsc(c, u);
  c.regs[2] = c.id; // IA32_TSC_AUX: the CPU number, as Linux sets it
  c.regs[3] = 0;
};

const int3: Handler = () => {
  throw new CpuException(Vec.BP, "int3");
};
const ud: Handler = () => {
  throw new CpuException(Vec.UD, "ud2");
};
const privileged: Handler = (_c, u) => {
  throw new CpuException(Vec.GP, `privileged instruction at 0x${u.ip.toString(16)}`);
};
const fence: Handler = () => {};

/** XGETBV with ECX=0: XCR0 says x87 and SSE state are enabled (no AVX). */
const xgetbv: Handler = (c) => {
  if (c.regs[2] !== 0) throw new CpuException(Vec.GP, "xgetbv: only XCR0 exists");
  c.regs[0] = 3;
  c.regs[1] = 0;
  c.regs[4] = 0;
  c.regs[5] = 0;
};

const rdfsbase: Handler = (c, u) => writeOp(c, u, 0, c.fsBase | 0, Math.floor(c.fsBase / 4294967296) | 0);
const rdgsbase: Handler = (c, u) => writeOp(c, u, 0, c.gsBase | 0, Math.floor(c.gsBase / 4294967296) | 0);
const wrfsbase: Handler = (c, u) => {
  const lo = readOp(c, u, 0);
  c.fsBase = (c.hi >>> 0) * 4294967296 + (lo >>> 0);
};
const wrgsbase: Handler = (c, u) => {
  const lo = readOp(c, u, 0);
  c.gsBase = (c.hi >>> 0) * 4294967296 + (lo >>> 0);
};

/** Handlers by form name. */
export const SYSTEM: Record<string, Handler> = {
  syscall,
  vmcall,
  cpuid,
  rdtsc,
  rdtscp,
  int3,
  ud2: ud,
  ud1_Gv_Ev: ud,
  ud0_Gv_Ev: ud,
  hlt: privileged,
  cli: privileged,
  sti: privileged,
  lfence: fence,
  mfence: fence,
  sfence: fence,
  xgetbv,
  rdfsbase_Ry: rdfsbase,
  rdgsbase_Ry: rdgsbase,
  wrfsbase_Ry: wrfsbase,
  wrgsbase_Ry: wrgsbase,
};
