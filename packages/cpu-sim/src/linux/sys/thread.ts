/**
 * Threads and blocking: clone and clone3 (threads only: CLONE_VM | CLONE_THREAD |
 * CLONE_SIGHAND; fork is not supported), futex (WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP,
 * WAIT_BITSET, WAKE_BITSET; private and shared alike; no PI futexes), sched_yield, nanosleep,
 * clock_nanosleep. Flag values: linux/sched.h and linux/futex.h.
 * @module
 */
import type { Cpu } from "../../cpu.ts";
import { arg, argInt, readI64, StructReader } from "../abi.ts";
import { EAGAIN, EINVAL, ENOSYS, ETIMEDOUT } from "../errno.ts";
import type { LinuxProcess } from "../process.ts";
import { setResult } from "../process.ts";
import { copyContext } from "../threads/context.ts";
import type { Thread } from "../threads/thread.ts";
import { ThreadState } from "../threads/thread.ts";
import { clockTime, isRealtime, nsToCycles } from "../time.ts";
import type { SyscallTable } from "./types.ts";

const CLONE_VM = 0x100;
const CLONE_SIGHAND = 0x800;
const CLONE_VFORK = 0x4000;
const CLONE_THREAD = 0x10000;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000;

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_CLOCK_REALTIME = 256;
const TIMER_ABSTIME = 1;

/** Start a thread: a copy of the caller's registers with RAX=0, the given stack and TLS. */
function spawn(
  p: LinuxProcess,
  c: Cpu,
  t: Thread,
  flags: number,
  stack: number,
  ptid: number,
  ctid: number,
  tls: number,
): number {
  const need = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
  if ((flags & need) !== need || flags & CLONE_VFORK) {
    if (!p.reported.has(-56)) {
      p.reported.add(-56);
      p.diagnostic("xmc: clone without CLONE_VM|CLONE_THREAD (fork) is not supported, returning -ENOSYS");
    }
    return -ENOSYS;
  }
  const child = p.newThread();
  copyContext(c, child.ctx);
  const x = child.ctx;
  setResult(x, 0);
  // The child returns from the same SYSCALL: RCX/R11 as the kernel leaves them.
  x.setReg64(1, c.rip);
  x.setReg64(11, c.getFlags());
  if (stack) x.setReg64(4, stack);
  if (flags & CLONE_SETTLS) x.fsBase = tls;
  child.sigMask = t.sigMask;
  if (flags & CLONE_PARENT_SETTID) c.mem.write32(ptid, child.tid);
  if (flags & CLONE_CHILD_SETTID) c.mem.write32(ctid, child.tid);
  if (flags & CLONE_CHILD_CLEARTID) child.clearTid = ctid;
  p.sched.enqueue(child, c.cycles);
  return child.tid;
}

/** Deadline in cycles for a timespec at `addr`: relative to now, or absolute on `clock`. */
function deadlineOf(c: Cpu, addr: number, absolute: boolean, clock: number): number | undefined {
  const sec = readI64(c.mem, addr);
  const nsec = readI64(c.mem, addr + 8);
  if (sec < 0 || nsec < 0 || nsec >= 1e9) return undefined;
  if (!absolute) return c.cycles + nsToCycles(sec * 1e9 + nsec);
  const [nowS, nowNs] = clockTime(clock, c.cycles);
  const delta = (sec - nowS) * 1e9 + (nsec - nowNs);
  return c.cycles + Math.max(0, nsToCycles(delta));
}

function futexWait(
  p: LinuxProcess,
  c: Cpu,
  t: Thread,
  addr: number,
  val: number,
  deadline: number,
  bitset: number,
): number {
  if (addr % 4 !== 0) return -EINVAL;
  if (c.mem.read32(addr) !== val) return -EAGAIN;
  if (deadline <= c.cycles) return -ETIMEDOUT;
  t.waiter = p.futexes.enqueue(t, addr, bitset);
  return p.block(t, { deadline, timeoutResult: -ETIMEDOUT });
}

function futexWake(p: LinuxProcess, c: Cpu, addr: number, n: number, bitset: number): number {
  const woken = p.futexes.take(addr, n, bitset);
  for (const w of woken) p.wake(w, 0, c.cycles);
  return woken.length;
}

/** FUTEX_WAKE_OP's operation on the old value (linux/futex.h FUTEX_OP_*). */
function wakeOp(old: number, encoded: number): [number, boolean] {
  const op = (encoded >>> 28) & 7;
  const shift = (encoded >>> 28) & 8;
  const cmp = (encoded >>> 24) & 15;
  let oparg = (encoded << 8) >> 20; // bits 12-23, sign-extended
  const cmparg = (encoded << 20) >> 20; // bits 0-11, sign-extended
  if (shift) oparg = 1 << (oparg & 31);
  let v: number;
  switch (op) {
    case 0:
      v = oparg;
      break;
    case 1:
      v = old + oparg;
      break;
    case 2:
      v = old | oparg;
      break;
    case 3:
      v = old & ~oparg;
      break;
    default:
      v = old ^ oparg;
  }
  let ok: boolean;
  switch (cmp) {
    case 0:
      ok = old === cmparg;
      break;
    case 1:
      ok = old !== cmparg;
      break;
    case 2:
      ok = old < cmparg;
      break;
    case 3:
      ok = old <= cmparg;
      break;
    case 4:
      ok = old > cmparg;
      break;
    default:
      ok = old >= cmparg;
  }
  return [v | 0, ok];
}

function sleepUntil(p: LinuxProcess, c: Cpu, t: Thread, deadline: number): number {
  if (deadline <= c.cycles) return 0;
  t.waiter = undefined;
  return p.block(t, { deadline, timeoutResult: 0 });
}

export const THREAD_SYSCALLS: SyscallTable = {
  // clone(flags, stack, parent_tid, child_tid, tls)
  56: (p, c, t) => spawn(p, c, t, arg(c, 0), arg(c, 1), arg(c, 2), arg(c, 3), arg(c, 4)),
  // clone3(args, size)
  435: (p, c, t) => {
    const size = arg(c, 1);
    if (size < 64 || size > 4096) return -EINVAL;
    const r = new StructReader(c.mem.readChecked(arg(c, 0), 88 < size ? 88 : size));
    const flags = r.u64(0);
    const stack = r.u64(40);
    const stackSize = r.u64(48);
    if ((stack === 0) !== (stackSize === 0)) return -EINVAL;
    return spawn(p, c, t, flags, stack ? stack + stackSize : 0, r.u64(24), r.u64(16), r.u64(56));
  },
  // fork, vfork: not supported
  57: (p, c, t) => spawn(p, c, t, 0, 0, 0, 0, 0),
  58: (p, c, t) => spawn(p, c, t, 0, 0, 0, 0, 0),

  // futex(uaddr, op, val, timeout | val2, uaddr2, val3)
  202: (p, c, t) => {
    const addr = arg(c, 0);
    const opFull = argInt(c, 1);
    const op = opFull & 0x7f;
    const val = argInt(c, 2);
    const tsAddr = arg(c, 3);
    const val2 = argInt(c, 3);
    const addr2 = arg(c, 4);
    const val3 = argInt(c, 5);
    switch (op) {
      case FUTEX_WAIT: {
        let deadline = Number.POSITIVE_INFINITY;
        if (tsAddr) {
          const d = deadlineOf(c, tsAddr, false, 1);
          if (d === undefined) return -EINVAL;
          deadline = d;
        }
        return futexWait(p, c, t, addr, val, deadline, -1);
      }
      case FUTEX_WAIT_BITSET: {
        if (val3 === 0) return -EINVAL;
        let deadline = Number.POSITIVE_INFINITY;
        if (tsAddr) {
          const d = deadlineOf(c, tsAddr, true, opFull & FUTEX_CLOCK_REALTIME ? 0 : 1);
          if (d === undefined) return -EINVAL;
          deadline = d;
        }
        return futexWait(p, c, t, addr, val, deadline, val3);
      }
      case FUTEX_WAKE:
        return futexWake(p, c, addr, val, -1);
      case FUTEX_WAKE_BITSET:
        if (val3 === 0) return -EINVAL;
        return futexWake(p, c, addr, val, val3);
      case FUTEX_REQUEUE:
      case FUTEX_CMP_REQUEUE: {
        if (op === FUTEX_CMP_REQUEUE && c.mem.read32(addr) !== val3) return -EAGAIN;
        const woken = futexWake(p, c, addr, val, -1);
        const moved = p.futexes.requeue(addr, addr2, val2);
        return woken + moved.length;
      }
      case FUTEX_WAKE_OP: {
        const old = c.mem.read32(addr2);
        const [nv, ok] = wakeOp(old, val3);
        c.mem.write32(addr2, nv);
        let n = futexWake(p, c, addr, val, -1);
        if (ok) n += futexWake(p, c, addr2, val2, -1);
        return n;
      }
      default:
        return -ENOSYS;
    }
  },

  // sched_yield: give the CPU to a thread that is ready by now, if any
  24: (p, c, t) => {
    if (p.sched.othersReady(c)) {
      t.state = ThreadState.Ready;
      c.stopRequested = true;
    }
    return 0;
  },

  // nanosleep(req, rem)
  35: (p, c, t) => {
    const d = deadlineOf(c, arg(c, 0), false, 1);
    if (d === undefined) return -EINVAL;
    return sleepUntil(p, c, t, d);
  },
  // clock_nanosleep(clock, flags, req, rem)
  230: (p, c, t) => {
    const clock = argInt(c, 0);
    if (clock < 0 || clock > 11) return -EINVAL;
    const abs = (argInt(c, 1) & TIMER_ABSTIME) !== 0;
    const d = deadlineOf(c, arg(c, 2), abs, isRealtime(clock) ? 0 : 1);
    if (d === undefined) return -EINVAL;
    return sleepUntil(p, c, t, d);
  },
};
