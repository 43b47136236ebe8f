/**
 * Descriptor I/O: read, write, readv, writev, pread64, pwrite64, lseek, close, dup, dup2,
 * dup3, fcntl, ioctl (terminal requests answered from whether the host descriptor is a
 * terminal), pipe, pipe2, getdents64.
 * @module
 */
import type { Cpu } from "../../cpu.ts";
import { arg, argInt, argLong, readU64, StructWriter } from "../abi.ts";
import { BLOCKED, EBADF, EINVAL, ENOTTY, EPIPE } from "../errno.ts";
import { DirFile, MAX_FDS, O_APPEND, O_CLOEXEC, O_NONBLOCK, type OpenFile, Pipe, PipeEnd } from "../fds.ts";
import type { LinuxProcess } from "../process.ts";
import { SI_USER, SIGPIPE } from "../signals.ts";
import type { Thread } from "../threads/thread.ts";
import type { SyscallTable } from "./types.ts";

/** Largest single transfer (Linux's MAX_RW_COUNT is 2 GiB - 4 KiB; we stay well below). */
const MAX_IO = 1 << 24;

/** Park `t` on `f`'s wait queue to retry the syscall later. */
function parkOn(p: LinuxProcess, t: Thread, f: OpenFile): number {
  t.waiter = f.waitQueue!.add(t);
  return p.block(t, { restart: true });
}

function doWrite(p: LinuxProcess, c: Cpu, t: Thread, f: OpenFile, data: Uint8Array): number {
  const r = f.write(data);
  if (r === -EPIPE) p.sendSignal(c, t, SIGPIPE, SI_USER);
  return r;
}

/** The iovec array at `iov` (count `n`) as [address, length] pairs. */
function iovecs(c: Cpu, iov: number, n: number): [number, number][] | number {
  if (n < 0 || n > 1024) return -EINVAL;
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) out.push([readU64(c.mem, iov + 16 * i), readU64(c.mem, iov + 16 * i + 8)]);
  return out;
}

const TCGETS = 0x5401;
const TCSETS = 0x5402;
const TCSETSW = 0x5403;
const TCSETSF = 0x5404;
const TIOCGPGRP = 0x540f;
const TIOCSPGRP = 0x5410;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const FIONREAD = 0x541b;
const FIONBIO = 0x5421;
const FIOCLEX = 0x5451;
const FIONCLEX = 0x5450;

const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
const F_DUPFD_CLOEXEC = 1030;
const F_GETPIPE_SZ = 1032;
const FD_CLOEXEC = 1;

export const IO_SYSCALLS: SyscallTable = {
  // read
  0: (p, c, t) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const r = f.read(Math.min(arg(c, 2), MAX_IO));
    if (r === BLOCKED) return parkOn(p, t, f);
    if (typeof r === "number") return r;
    if (r.length > 0) c.mem.writeChecked(arg(c, 1), r);
    return r.length;
  },

  // write
  1: (p, c, t) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const data = c.mem.readChecked(arg(c, 1), Math.min(arg(c, 2), MAX_IO));
    const r = doWrite(p, c, t, f, data);
    return r === BLOCKED ? parkOn(p, t, f) : r;
  },

  // readv
  19: (p, c, t) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const v = iovecs(c, arg(c, 1), argInt(c, 2));
    if (typeof v === "number") return v;
    let total = 0;
    for (const [addr, len] of v) {
      if (len === 0) continue;
      const r = f.read(Math.min(len, MAX_IO));
      if (r === BLOCKED) return total > 0 ? total : parkOn(p, t, f);
      if (typeof r === "number") return total > 0 ? total : r;
      if (r.length > 0) c.mem.writeChecked(addr, r);
      total += r.length;
      if (r.length < len) break;
    }
    return total;
  },

  // writev
  20: (p, c, t) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const v = iovecs(c, arg(c, 1), argInt(c, 2));
    if (typeof v === "number") return v;
    // One write of the concatenation: atomic with respect to other threads, as for a pipe.
    let size = 0;
    for (const [, len] of v) size += Math.min(len, MAX_IO);
    const data = new Uint8Array(Math.min(size, MAX_IO));
    let o = 0;
    for (const [addr, len] of v) {
      const n = Math.min(len, data.length - o);
      if (n <= 0) break;
      data.set(c.mem.readChecked(addr, n), o);
      o += n;
    }
    const r = doWrite(p, c, t, f, data);
    return r === BLOCKED ? parkOn(p, t, f) : r;
  },

  // pread64
  17: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const off = argLong(c, 3);
    if (off < 0) return -EINVAL;
    const r = f.pread(Math.min(arg(c, 2), MAX_IO), off);
    if (typeof r === "number") return r;
    if (r.length > 0) c.mem.writeChecked(arg(c, 1), r);
    return r.length;
  },

  // pwrite64
  18: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const off = argLong(c, 3);
    if (off < 0) return -EINVAL;
    return f.pwrite(c.mem.readChecked(arg(c, 1), Math.min(arg(c, 2), MAX_IO)), off);
  },

  // lseek
  8: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    return f.seek(argLong(c, 1), argInt(c, 2));
  },

  // close
  3: (p, c) => p.fds.close(argInt(c, 0)),

  // dup
  32: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    return f ? p.fds.add(f, false) : -EBADF;
  },

  // dup2
  33: (p, c) => {
    const from = argInt(c, 0);
    const to = argInt(c, 1);
    const f = p.fds.file(from);
    if (!f) return -EBADF;
    if (to < 0 || to >= MAX_FDS) return -EBADF;
    if (from !== to) p.fds.set(to, f, false);
    return to;
  },

  // dup3
  292: (p, c) => {
    const from = argInt(c, 0);
    const to = argInt(c, 1);
    const flags = argInt(c, 2);
    const f = p.fds.file(from);
    if (!f) return -EBADF;
    if (from === to || flags & ~O_CLOEXEC) return -EINVAL;
    if (to < 0 || to >= MAX_FDS) return -EBADF;
    p.fds.set(to, f, (flags & O_CLOEXEC) !== 0);
    return to;
  },

  // fcntl
  72: (p, c) => {
    const fd = argInt(c, 0);
    const d = p.fds.get(fd);
    if (!d) return -EBADF;
    const cmd = argInt(c, 1);
    const a = argInt(c, 2);
    switch (cmd) {
      case F_DUPFD:
      case F_DUPFD_CLOEXEC:
        if (a < 0 || a >= MAX_FDS) return -EINVAL;
        return p.fds.add(d.file, cmd === F_DUPFD_CLOEXEC, a);
      case F_GETFD:
        return d.cloexec ? FD_CLOEXEC : 0;
      case F_SETFD:
        d.cloexec = (a & FD_CLOEXEC) !== 0;
        return 0;
      case F_GETFL:
        return d.file.flags;
      case F_SETFL:
        d.file.flags = (d.file.flags & ~(O_APPEND | O_NONBLOCK)) | (a & (O_APPEND | O_NONBLOCK));
        return 0;
      case F_GETLK: {
        // No other process can hold a lock: report F_UNLCK (l_type is the first short).
        c.mem.write16(arg(c, 2), 2);
        return 0;
      }
      case F_SETLK:
      case F_SETLKW:
        return 0;
      case F_GETPIPE_SZ:
        return d.file instanceof PipeEnd ? 65536 : -EINVAL;
      default:
        return -EINVAL;
    }
  },

  // ioctl
  16: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const req = argInt(c, 1) >>> 0;
    const ptr = arg(c, 2);
    switch (req) {
      case FIOCLEX:
      case FIONCLEX: {
        const d = p.fds.get(argInt(c, 0))!;
        d.cloexec = req === FIOCLEX;
        return 0;
      }
      case FIONBIO: {
        const on = c.mem.read32(ptr) !== 0;
        f.flags = on ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK;
        return 0;
      }
      case FIONREAD:
        if (f instanceof PipeEnd) {
          c.mem.write32(ptr, f.pipe.size);
          return 0;
        }
        break;
    }
    if (!f.isTty()) return -ENOTTY;
    switch (req) {
      case TCGETS: {
        // struct termios (asm-generic/termbits.h): a terminal in its usual cooked mode.
        const w = new StructWriter(36);
        w.u32(0, 0x0500); // c_iflag: ICRNL | IXON
        w.u32(4, 0x0005); // c_oflag: OPOST | ONLCR
        w.u32(8, 0x00bf); // c_cflag: B38400 | CS8 | CREAD | HUPCL
        w.u32(12, 0x8a3b); // c_lflag: ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
        const cc = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22];
        cc.forEach((v, i) => {
          w.u8(17 + i, v);
        });
        c.mem.writeChecked(ptr, w.bytes);
        return 0;
      }
      case TCSETS:
      case TCSETSW:
      case TCSETSF:
      case TIOCSPGRP:
      case TIOCSWINSZ:
        return 0;
      case TIOCGPGRP:
        c.mem.write32(ptr, p.pid);
        return 0;
      case TIOCGWINSZ: {
        const out = process.stdout;
        const w = new StructWriter(8);
        w.u16(0, out.rows || 24).u16(2, out.columns || 80);
        c.mem.writeChecked(ptr, w.bytes);
        return 0;
      }
      default:
        return -ENOTTY;
    }
  },

  // pipe
  22: (p, c) => makePipe(p, c, arg(c, 0), 0),
  // pipe2
  293: (p, c) => makePipe(p, c, arg(c, 0), argInt(c, 1)),

  // getdents64(fd, dirp, count)
  217: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const ents = f.dirEntries();
    if (typeof ents === "number") return ents;
    const max = arg(c, 2);
    const enc = new TextEncoder();
    const parts: Uint8Array[] = [];
    let size = 0;
    let taken = 0;
    for (const e of ents) {
      const name = enc.encode(e.name);
      const reclen = Math.ceil((19 + name.length + 1) / 8) * 8;
      if (size + reclen > max) {
        if (taken === 0) return -EINVAL;
        break;
      }
      const w = new StructWriter(reclen);
      const pos = f instanceof DirFile ? f.pos : 0;
      w.u64n(0, e.ino)
        .u64(8, pos + taken + 1)
        .u16(16, reclen)
        .u8(18, e.type);
      w.bytes.set(name, 19);
      parts.push(w.bytes);
      size += reclen;
      taken++;
    }
    const out = new Uint8Array(size);
    let o = 0;
    for (const b of parts) {
      out.set(b, o);
      o += b.length;
    }
    if (size > 0) c.mem.writeChecked(arg(c, 1), out);
    if (f instanceof DirFile) f.pos += taken;
    return size;
  },
};

function makePipe(p: LinuxProcess, c: Cpu, fdsAddr: number, flags: number): number {
  if (flags & ~((O_CLOEXEC | O_NONBLOCK | 0o40000) /* O_DIRECT */)) return -EINVAL;
  const pipe = new Pipe(p.ino());
  const changed = (x: Pipe) => p.pipeChanged(x);
  const r = new PipeEnd(pipe, true, flags & O_NONBLOCK, changed);
  const w = new PipeEnd(pipe, false, flags & O_NONBLOCK, changed);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = p.fds.add(r, cloexec);
  if (rfd < 0) return rfd;
  const wfd = p.fds.add(w, cloexec);
  if (wfd < 0) {
    p.fds.close(rfd);
    return wfd;
  }
  try {
    c.mem.write32(fdsAddr, rfd);
    c.mem.write32(fdsAddr + 4, wfd);
  } catch (e) {
    p.fds.close(rfd);
    p.fds.close(wfd);
    throw e;
  }
  return 0;
}
