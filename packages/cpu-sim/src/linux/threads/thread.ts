/**
 * A guest thread: its saved register context, scheduling state, signal mask and pending
 * signals, alternate signal stack and what it is blocked on.
 * @module
 */
import type { Cpu } from "../../cpu.ts";
import type { Memory } from "../../memory.ts";
import { newContext } from "./context.ts";

/** Scheduling states. */
export enum ThreadState {
  /** Waiting in the run queue. */
  Ready = 0,
  /** On a CPU. */
  Running = 1,
  /** Parked: futex wait, sleep, a pipe. */
  Blocked = 2,
  /** Exited. */
  Done = 3,
}

/** A signal waiting for delivery. */
export interface PendingSignal {
  sig: number;
  /** si_code (SI_USER 0, SI_TKILL -6, …). */
  code: number;
  /** Sender pid/uid for SI_USER/SI_TKILL. */
  pid: number;
  uid: number;
}

/** Something a blocked thread can be woken from (futex, pipe, sleep). */
export interface Waiter {
  /** Remove the thread from whatever queue it is on (timeout, signal, exit). */
  cancel(): void;
}

/** A guest thread. */
export class Thread {
  /** Thread id (the process id for the first thread). */
  readonly tid: number;
  /** Register context while the thread is not on a CPU. */
  readonly ctx: Cpu;
  state: ThreadState = ThreadState.Ready;
  /** The CPU it runs on, or -1. */
  cpu = -1;
  /** Modeled time (cycles) from which it may run (when it became ready). */
  readyAt = 0;
  /** Cycles spent on CPUs (CLOCK_THREAD_CPUTIME_ID), and the CPU time when it was switched in. */
  runCycles = 0;
  switchedInAt = 0;
  /** Absolute wake-up time in cycles when blocked with a timeout, else Infinity. */
  deadline: number = Number.POSITIVE_INFINITY;
  /** When blocked: re-execute the syscall when woken (pipes) instead of returning a value. */
  restart = false;
  /** The syscall number to restart with. */
  restartNr = 0;
  /** Value RAX gets when the timeout expires (-ETIMEDOUT, 0 for sleeps). */
  timeoutResult = 0;
  /** What it waits on (to cancel on timeout or signal). */
  waiter: Waiter | undefined;
  /** clear_child_tid (set_tid_address / CLONE_CHILD_CLEARTID), 0 for none. */
  clearTid = 0;
  /** Blocked signals (bit n-1 for signal n). */
  sigMask = 0n;
  /** Thread-directed pending signals, in arrival order. */
  readonly pending: PendingSignal[] = [];
  /** sigaltstack: base, size, flags (SS_DISABLE = 2 when none). */
  altSp = 0;
  altSize = 0;
  altFlags = 2;
  /** Exit code when Done. */
  exitCode = 0;

  constructor(tid: number, mem: Memory) {
    this.tid = tid;
    this.ctx = newContext(mem);
  }
}
