/**
 * Time syscalls, all from modeled cycles (time.ts): clock_gettime, clock_getres,
 * gettimeofday, time. nanosleep and clock_nanosleep are in thread.ts (they block).
 * @module
 */

import type { Cpu } from "../../cpu.ts";
import { arg, argInt, StructWriter, writeU64 } from "../abi.ts";
import { EINVAL } from "../errno.ts";
import type { LinuxProcess } from "../process.ts";
import type { Thread } from "../threads/thread.ts";
import {
  CLOCK_BOOTTIME,
  CLOCK_MONOTONIC_COARSE,
  CLOCK_PROCESS_CPUTIME_ID,
  CLOCK_THREAD_CPUTIME_ID,
  clockTime,
  cyclesToNs,
} from "../time.ts";
import type { SyscallTable } from "./types.ts";

/** [sec, nsec] of `clock` for the thread `t` running on `c`, or undefined for a bad clock. */
export function readClock(p: LinuxProcess, c: Cpu, t: Thread, clock: number): [number, number] | undefined {
  if (clock === CLOCK_PROCESS_CPUTIME_ID || clock === CLOCK_THREAD_CPUTIME_ID) {
    let cycles: number;
    if (clock === CLOCK_THREAD_CPUTIME_ID) cycles = t.runCycles + (c.cycles - t.switchedInAt);
    else {
      cycles = 0;
      p.machine.cpus.forEach((x, i) => {
        cycles += x.cycles - p.sched.idleCycles[i]!;
      });
    }
    const ns = cyclesToNs(cycles);
    return [Math.floor(ns / 1e9), ns % 1e9];
  }
  if (clock < 0 || clock > CLOCK_BOOTTIME + 4 || (clock > CLOCK_BOOTTIME && clock !== 8 && clock !== 9))
    return undefined;
  return clockTime(clock, c.cycles);
}

export const TIME_SYSCALLS: SyscallTable = {
  // clock_gettime
  228: (p, c, t) => {
    const v = readClock(p, c, t, argInt(c, 0));
    if (!v) return -EINVAL;
    c.mem.writeChecked(arg(c, 1), new StructWriter(16).u64(0, v[0]).u64(8, v[1]).bytes);
    return 0;
  },
  // clock_getres: 1 ns (coarse clocks: 4 ms, as with HZ=250)
  229: (p, c, t) => {
    const clock = argInt(c, 0);
    if (!readClock(p, c, t, clock)) return -EINVAL;
    const res = clock === 5 || clock === CLOCK_MONOTONIC_COARSE ? 4_000_000 : 1;
    if (arg(c, 1)) c.mem.writeChecked(arg(c, 1), new StructWriter(16).u64(0, 0).u64(8, res).bytes);
    return 0;
  },
  // gettimeofday
  96: (_p, c) => {
    const [s, ns] = clockTime(0, c.cycles);
    if (arg(c, 0))
      c.mem.writeChecked(arg(c, 0), new StructWriter(16).u64(0, s).u64(8, Math.floor(ns / 1000)).bytes);
    if (arg(c, 1)) c.mem.writeChecked(arg(c, 1), new Uint8Array(8));
    return 0;
  },
  // time
  201: (_p, c) => {
    const [s] = clockTime(0, c.cycles);
    if (arg(c, 0)) writeU64(c.mem, arg(c, 0), s);
    return s;
  },
};
