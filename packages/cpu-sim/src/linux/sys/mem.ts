/**
 * Memory syscalls: brk, mmap (anonymous and private file mappings), munmap, mprotect, mremap,
 * madvise. Mappings are placed top-down below `LinuxProcess.mmapBase`, as Linux does.
 * @module
 */
import { PAGE_SIZE, Perm } from "../../memory.ts";
import { arg, argInt } from "../abi.ts";
import { EACCES, EBADF, EEXIST, EINVAL, ENODEV, ENOMEM } from "../errno.ts";
import type { LinuxProcess } from "../process.ts";
import type { SyscallTable } from "./types.ts";

const MAP_SHARED = 0x01;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FIXED_NOREPLACE = 0x100000;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MADV_DONTNEED = 4;

const pageUp = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** PROT_* → page permissions (x86: writable and executable pages are also readable). */
export function protToPerm(prot: number): number {
  let perm = 0;
  if (prot & 1) perm |= Perm.R;
  if (prot & 2) perm |= Perm.W | Perm.R;
  if (prot & 4) perm |= Perm.X | Perm.R;
  return perm;
}

function isFree(p: LinuxProcess, addr: number, len: number): boolean {
  for (let a = addr; a < addr + len; a += PAGE_SIZE) if (p.machine.mem.isMapped(a, 1)) return false;
  return true;
}

/**
 * The highest free range of `size` bytes below `top` (Linux's top-down mmap layout), or -1.
 * Scans page by page from the top; a mapped page moves the window below it.
 */
export function findFreeDown(p: LinuxProcess, top: number, size: number): number {
  const mem = p.machine.mem;
  let end = Math.floor(top / PAGE_SIZE) * PAGE_SIZE;
  while (end - size >= 0x10000) {
    let clash = -1;
    for (let a = end - PAGE_SIZE; a >= end - size; a -= PAGE_SIZE)
      if (mem.isMapped(a, 1)) {
        clash = a;
        break;
      }
    if (clash < 0) return end - size;
    end = clash;
  }
  return -1;
}

/** Unmap what is mapped in [addr, addr+len) (page by page; holes are fine). */
function unmapRange(p: LinuxProcess, addr: number, len: number): void {
  p.machine.mem.unmap(addr, len);
}

/**
 * Can `size` more bytes ever be mapped? A larger request is refused (ENOMEM) before any
 * search, so that the page-by-page searches below stay bounded by the memory limit.
 */
function fits(p: LinuxProcess, size: number): boolean {
  const mem = p.machine.mem;
  return size <= mem.limit - mem.mapped;
}

export const MEM_SYSCALLS: SyscallTable = {
  // brk
  12: (p, c) => {
    const want = arg(c, 0);
    if (want === 0 || want < p.brkStart) return p.brk;
    const oldTop = pageUp(p.brk);
    const newTop = pageUp(want);
    try {
      if (newTop > oldTop) {
        if (!fits(p, newTop - oldTop) || !isFree(p, oldTop, newTop - oldTop)) return p.brk;
        c.mem.map(oldTop, newTop - oldTop, Perm.RW);
      } else if (newTop < oldTop) c.mem.unmap(newTop, oldTop - newTop);
    } catch {
      return p.brk;
    }
    p.brk = want;
    return p.brk;
  },

  // mmap(addr, len, prot, flags, fd, off)
  9: (p, c) => {
    const addr = arg(c, 0);
    const len = arg(c, 1);
    const prot = argInt(c, 2);
    const flags = argInt(c, 3);
    const fd = argInt(c, 4);
    const off = arg(c, 5);
    if (len === 0 || len > 2 ** 46 || off % PAGE_SIZE !== 0) return -EINVAL;
    const size = pageUp(len);
    if (!fits(p, size)) return -ENOMEM;
    let content: Uint8Array | undefined;
    if (!(flags & MAP_ANONYMOUS)) {
      const f = p.fds.file(fd);
      if (!f) return -EBADF;
      if (!f.readable) return -EACCES;
      if (flags & MAP_SHARED && prot & 2 && !f.writable) return -EACCES;
      // A private (or read-only shared) file mapping: a copy of the file's bytes.
      const r = f.pread(len, off);
      if (typeof r === "number") return r === -29 ? -ENODEV : r;
      content = r;
    }
    let at: number;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
      if (addr % PAGE_SIZE !== 0) return -EINVAL;
      if (flags & MAP_FIXED_NOREPLACE && !isFree(p, addr, size)) return -EEXIST;
      at = addr;
      unmapRange(p, at, size);
    } else {
      // A free hint is honoured; otherwise the highest free range below the mmap base.
      at = addr && addr % PAGE_SIZE === 0 && isFree(p, addr, size) ? addr : findFreeDown(p, p.mmapBase, size);
      if (at < 0) return -ENOMEM;
    }
    try {
      c.mem.map(at, size, Perm.RW);
    } catch {
      return -ENOMEM;
    }
    if (content && content.length > 0) c.mem.writeBytes(at, content);
    c.mem.protect(at, size, protToPerm(prot));
    return at;
  },

  // munmap
  11: (p, c) => {
    const addr = arg(c, 0);
    const len = arg(c, 1);
    if (addr % PAGE_SIZE !== 0 || len === 0) return -EINVAL;
    unmapRange(p, addr, pageUp(len));
    return 0;
  },

  // mprotect
  10: (_p, c) => {
    const addr = arg(c, 0);
    const len = arg(c, 1);
    if (addr % PAGE_SIZE !== 0) return -EINVAL;
    if (len === 0) return 0;
    return c.mem.protect(addr, pageUp(len), protToPerm(argInt(c, 2))) ? 0 : -ENOMEM;
  },

  // mremap(old, oldlen, newlen, flags, newaddr)
  25: (p, c) => {
    const old = arg(c, 0);
    const oldLen = pageUp(arg(c, 1));
    const newLen = pageUp(arg(c, 2));
    const flags = argInt(c, 3);
    if (old % PAGE_SIZE !== 0 || newLen === 0 || flags & MREMAP_FIXED) return -EINVAL;
    if (!c.mem.isMapped(old, Math.max(oldLen, 1))) return -14; // EFAULT
    const perm = c.mem.permAt(old);
    if (newLen > oldLen && !fits(p, newLen - oldLen)) return -ENOMEM;
    if (newLen <= oldLen) {
      if (newLen < oldLen) unmapRange(p, old + newLen, oldLen - newLen);
      return old;
    }
    if (isFree(p, old + oldLen, newLen - oldLen)) {
      try {
        c.mem.map(old + oldLen, newLen - oldLen, perm);
      } catch {
        return -ENOMEM;
      }
      return old;
    }
    if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
    const at = findFreeDown(p, p.mmapBase, newLen);
    if (at < 0) return -ENOMEM;
    try {
      c.mem.map(at, newLen, Perm.RW);
    } catch {
      return -ENOMEM;
    }
    c.mem.writeBytes(at, c.mem.readBytes(old, oldLen));
    c.mem.protect(at, newLen, perm);
    unmapRange(p, old, oldLen);
    return at;
  },

  // madvise: MADV_DONTNEED zero-fills private anonymous pages, as Linux does; the rest are hints.
  28: (_p, c) => {
    const addr = arg(c, 0);
    const len = pageUp(arg(c, 1));
    const advice = argInt(c, 2);
    if (addr % PAGE_SIZE !== 0) return -EINVAL;
    if (advice === MADV_DONTNEED && len > 0) {
      if (!c.mem.isMapped(addr, len)) return -ENOMEM;
      for (let a = addr; a < addr + len; a += PAGE_SIZE) {
        const perm = c.mem.permAt(a);
        c.mem.unmap(a, PAGE_SIZE);
        c.mem.map(a, PAGE_SIZE, perm);
      }
    }
    return 0;
  },
};
