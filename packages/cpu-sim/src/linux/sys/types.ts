/**
 * The shape of a syscall handler.
 * @module
 */
import type { Cpu } from "../../cpu.ts";
import type { LinuxProcess } from "../process.ts";
import type { Thread } from "../threads/thread.ts";

/**
 * A syscall implementation: reads its arguments from `c` (see abi.ts) and returns the result,
 * `-errno`, or one of the sentinels BLOCKED / NO_RESULT (errno.ts). `t` is the calling thread.
 */
export type Syscall = (p: LinuxProcess, c: Cpu, t: Thread) => number;

/** Handlers of one area, by syscall number (Linux x86-64 syscall_64.tbl). */
export type SyscallTable = Record<number, Syscall>;
