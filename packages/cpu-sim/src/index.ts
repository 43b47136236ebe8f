/**
 * @xmc/cpu-sim: a deterministic multi-CPU x86-64 machine that runs real, unmodified static
 * Linux programs.
 * @module
 */
export { CodeCache, type HandlerTable } from "./cache.ts";
export { type CostProfile, classify, DEFAULT_PROFILE } from "./cost.ts";
export { Cpu, type CpuHost, FL, LF, R } from "./cpu.ts";
export { cpuid, FEATURES } from "./cpuid.ts";
export { CpuException, Vec } from "./errors.ts";
export { HANDLERS } from "./exec/index.ts";
export { runCpu, Stop } from "./exec/run.ts";
export { LoadError, type LoadedImage, loadStatic } from "./linux/loader.ts";
export { type ExitStatus, LinuxProcess, type ProcessOptions, Rng, Thread } from "./linux/process.ts";
export { SYSCALLS } from "./linux/syscalls.ts";
export { Machine, type MachineOptions } from "./machine.ts";
export { GuestFault, Memory, MemoryLimitError, PAGE_SIZE, Perm } from "./memory.ts";
export { type Handler, K, Uop } from "./uop.ts";
