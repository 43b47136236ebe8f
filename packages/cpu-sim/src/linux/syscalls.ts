/**
 * The Linux x86-64 syscall table (numbers from the kernel's syscall_64.tbl). Each handler
 * reads its arguments from RDI, RSI, RDX, R10, R8, R9 and returns the result (negative errno
 * on failure). Guest pointers that fault inside a handler become -EFAULT.
 * @module
 */
import type { Cpu } from "../cpu.ts";
import { PAGE_SIZE, Perm } from "../memory.ts";
import type { LinuxProcess } from "./process.ts";

/** What syscall handlers see of the process. */
export interface SyscallContext {
  readonly machine: LinuxProcess["machine"];
}

/** A syscall implementation. */
export type Syscall = (p: LinuxProcess, c: Cpu) => number;

export const EPERM = 1;
export const ENOENT = 2;
export const EBADF = 9;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EINVAL = 22;
export const ENOTTY = 25;
export const ENOSYS = 38;

/** Argument `i` (0-5) as a number (exact below 2^53). */
export function arg(c: Cpu, i: number): number {
  const r = [7, 6, 2, 10, 8, 9][i]!;
  return c.reg64(r);
}
/** Argument `i` as a signed 32-bit value. */
export function argInt(c: Cpu, i: number): number {
  const r = [7, 6, 2, 10, 8, 9][i]!;
  return c.regs[2 * r]!;
}

const write: Syscall = (p, c) => {
  const fd = argInt(c, 0);
  const buf = arg(c, 1);
  const len = arg(c, 2);
  if (fd !== 1 && fd !== 2) return -EBADF;
  const data = c.mem.readChecked(buf, len);
  (fd === 1 ? p.stdout : p.stderr)(data);
  return len;
};

const writev: Syscall = (p, c) => {
  const fd = argInt(c, 0);
  const iov = arg(c, 1);
  const n = argInt(c, 2);
  if (fd !== 1 && fd !== 2) return -EBADF;
  if (n < 0 || n > 1024) return -EINVAL;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const base = c.mem.read64(iov + 16 * i);
    const baseHi = c.mem.hi;
    const len = c.mem.read64(iov + 16 * i + 8) >>> 0;
    const addr = (baseHi >>> 0) * 4294967296 + (base >>> 0);
    if (len === 0) continue;
    const data = c.mem.readChecked(addr, len);
    (fd === 1 ? p.stdout : p.stderr)(data);
    total += len;
  }
  return total;
};

const read: Syscall = (p, c) => {
  const fd = argInt(c, 0);
  const buf = arg(c, 1);
  const len = arg(c, 2);
  if (fd !== 0) return -EBADF;
  const src = p.opts.stdin ?? new Uint8Array(0);
  const n = Math.min(len, src.length - p.stdinPos);
  if (n <= 0) return 0;
  c.mem.writeChecked(buf, src.subarray(p.stdinPos, p.stdinPos + n));
  p.stdinPos += n;
  return n;
};

const brk: Syscall = (p, c) => {
  const want = arg(c, 0);
  if (want === 0 || want < p.brkStart) return p.brk;
  const oldTop = Math.ceil(p.brk / PAGE_SIZE) * PAGE_SIZE;
  const newTop = Math.ceil(want / PAGE_SIZE) * PAGE_SIZE;
  try {
    if (newTop > oldTop) {
      if (!isFree(p, oldTop, newTop - oldTop)) return p.brk;
      c.mem.map(oldTop, newTop - oldTop, Perm.RW);
    } else if (newTop < oldTop) c.mem.unmap(newTop, oldTop - newTop);
  } catch {
    return p.brk;
  }
  p.brk = want;
  return p.brk;
};

function isFree(p: LinuxProcess, addr: number, len: number): boolean {
  for (let a = addr; a < addr + len; a += PAGE_SIZE) if (p.machine.mem.isMapped(a, 1)) return false;
  return true;
}

const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FIXED_NOREPLACE = 0x100000;

function protToPerm(prot: number): number {
  let perm = 0;
  if (prot & 1) perm |= Perm.R;
  if (prot & 2) perm |= Perm.W | Perm.R;
  if (prot & 4) perm |= Perm.X | Perm.R;
  return perm;
}

const mmap: Syscall = (p, c) => {
  const addr = arg(c, 0);
  const len = arg(c, 1);
  const prot = argInt(c, 2);
  const flags = argInt(c, 3);
  const fd = argInt(c, 4);
  if (len === 0 || len > 2 ** 46) return -EINVAL;
  if (!(flags & MAP_ANONYMOUS) && fd !== -1) return -ENOSYS; // file mappings: the files layer adds them
  const size = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  let at: number;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    if (addr % PAGE_SIZE !== 0) return -EINVAL;
    if (flags & MAP_FIXED_NOREPLACE && !isFree(p, addr, size)) return -17; // EEXIST
    at = addr;
    if (c.mem.isMapped(at, 1) || !isFree(p, at, size)) c.mem.unmap(at, size);
  } else {
    at = c.mem.findFree(addr && addr % PAGE_SIZE === 0 ? addr : p.mmapBase, size);
    if (!addr) p.mmapBase = at + size;
  }
  try {
    c.mem.map(at, size, protToPerm(prot));
  } catch {
    return -ENOMEM;
  }
  return at;
};

const munmap: Syscall = (_p, c) => {
  const addr = arg(c, 0);
  const len = arg(c, 1);
  if (addr % PAGE_SIZE !== 0 || len === 0) return -EINVAL;
  c.mem.unmap(addr, Math.ceil(len / PAGE_SIZE) * PAGE_SIZE);
  return 0;
};

const mprotect: Syscall = (_p, c) => {
  const addr = arg(c, 0);
  const len = arg(c, 1);
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  if (len === 0) return 0;
  return c.mem.protect(addr, Math.ceil(len / PAGE_SIZE) * PAGE_SIZE, protToPerm(argInt(c, 2))) ? 0 : -ENOMEM;
};

const exit: Syscall = (p, c) => {
  // exit of the last thread ends the process; the threads layer refines this.
  p.exitGroup(c, argInt(c, 0));
  return 0;
};

const exitGroup: Syscall = (p, c) => {
  p.exitGroup(c, argInt(c, 0));
  return 0;
};

const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const ARCH_GET_GS = 0x1004;

const archPrctl: Syscall = (_p, c) => {
  const code = argInt(c, 0);
  const addr = arg(c, 1);
  switch (code) {
    case ARCH_SET_FS:
      c.fsBase = addr;
      return 0;
    case ARCH_SET_GS:
      c.gsBase = addr;
      return 0;
    case ARCH_GET_FS:
      c.mem.write64(addr, c.fsBase | 0, Math.floor(c.fsBase / 4294967296));
      return 0;
    case ARCH_GET_GS:
      c.mem.write64(addr, c.gsBase | 0, Math.floor(c.gsBase / 4294967296));
      return 0;
    default:
      return -EINVAL;
  }
};

const setTidAddress: Syscall = (p, c) => {
  const t = p.threadOn(c);
  if (t) t.clearTid = arg(c, 0);
  return t?.tid ?? p.pid;
};

const uname: Syscall = (_p, c) => {
  const buf = arg(c, 0);
  const fields = ["Linux", "xmc", "6.1.0-xmc", "#1 SMP xmc", "x86_64", "(none)"];
  const out = new Uint8Array(65 * 6);
  const enc = new TextEncoder();
  for (let i = 0; i < fields.length; i++) out.set(enc.encode(fields[i]!), i * 65);
  c.mem.writeChecked(buf, out);
  return 0;
};

const getrandom: Syscall = (p, c) => {
  const buf = arg(c, 0);
  const len = Math.min(arg(c, 1), 1 << 20);
  c.mem.writeChecked(buf, p.rng.bytes(len));
  return len;
};

const ioctl: Syscall = (_p, c) => {
  const fd = argInt(c, 0);
  // TCGETS and friends: the host's stdio are not terminals from the guest's point of view.
  if (fd >= 0 && fd <= 2) return -ENOTTY;
  return -EBADF;
};

const rtSigaction: Syscall = (p, c) => {
  const sig = argInt(c, 0);
  const act = arg(c, 1);
  const old = arg(c, 2);
  if (sig < 1 || sig > 64 || sig === 9 || sig === 19) return -EINVAL;
  if (old) {
    const prev = p.sigHandlers.get(sig) ?? 0;
    const z = new Uint8Array(32);
    c.mem.writeChecked(old, z);
    c.mem.write64(old, prev | 0, Math.floor(prev / 4294967296));
  }
  if (act) {
    const lo = c.mem.read64(act);
    p.sigHandlers.set(sig, (c.mem.hi >>> 0) * 4294967296 + (lo >>> 0));
  }
  return 0;
};

const zero: Syscall = () => 0;
const noSys: Syscall = () => -ENOSYS;

/** Implemented syscalls by number. */
export const SYSCALLS: (Syscall | undefined)[] = [];
SYSCALLS[0] = read;
SYSCALLS[1] = write;
SYSCALLS[9] = mmap;
SYSCALLS[10] = mprotect;
SYSCALLS[11] = munmap;
SYSCALLS[12] = brk;
SYSCALLS[13] = rtSigaction;
SYSCALLS[14] = zero; // rt_sigprocmask
SYSCALLS[16] = ioctl;
SYSCALLS[20] = writev;
SYSCALLS[28] = zero; // madvise
SYSCALLS[39] = (p) => p.pid; // getpid
SYSCALLS[60] = exit;
SYSCALLS[63] = uname;
SYSCALLS[102] = () => 1000; // getuid
SYSCALLS[104] = () => 1000; // getgid
SYSCALLS[107] = () => 1000; // geteuid
SYSCALLS[108] = () => 1000; // getegid
SYSCALLS[110] = () => 1; // getppid
SYSCALLS[158] = archPrctl;
SYSCALLS[186] = (p, c) => p.threadOn(c)?.tid ?? p.pid; // gettid
SYSCALLS[218] = setTidAddress;
SYSCALLS[231] = exitGroup;
SYSCALLS[273] = zero; // set_robust_list
SYSCALLS[318] = getrandom;
SYSCALLS[334] = noSys; // rseq: ENOSYS (allowed by the spec)
