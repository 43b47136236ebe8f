/**
 * The Linux x86-64 syscall table (numbers from the kernel's arch/x86/entry/syscalls/
 * syscall_64.tbl), assembled from the handlers of each area in sys/. A number without a
 * handler returns -ENOSYS and is reported once on stderr.
 * @module
 */
import { FILE_SYSCALLS } from "./sys/files.ts";
import { IO_SYSCALLS } from "./sys/io.ts";
import { MEM_SYSCALLS } from "./sys/mem.ts";
import { PROC_SYSCALLS } from "./sys/proc.ts";
import { SIGNAL_SYSCALLS } from "./sys/signal.ts";
import { THREAD_SYSCALLS } from "./sys/thread.ts";
import { TIME_SYSCALLS } from "./sys/time.ts";
import type { Syscall } from "./sys/types.ts";

export { arg, argInt } from "./abi.ts";
export type { Syscall } from "./sys/types.ts";

/** Implemented syscalls by number. */
export const SYSCALLS: (Syscall | undefined)[] = [];
for (const table of [
  IO_SYSCALLS,
  FILE_SYSCALLS,
  MEM_SYSCALLS,
  PROC_SYSCALLS,
  SIGNAL_SYSCALLS,
  THREAD_SYSCALLS,
  TIME_SYSCALLS,
])
  for (const [nr, fn] of Object.entries(table)) {
    // SAFETY: the tables are disjoint; a duplicate would be a bug caught by the tests.
    if (SYSCALLS[Number(nr)]) throw new Error(`syscall ${nr} defined twice`);
    SYSCALLS[Number(nr)] = fn;
  }
