/**
 * Path syscalls: open, openat, creat, stat, lstat, fstat, newfstatat, statx, access,
 * faccessat(2), getcwd, chdir, fchdir, readlink(at), mkdir(at), unlink(at), rmdir, ftruncate,
 * fsync. Paths are resolved by the guest filesystem (fs.ts); the host is touched only under
 * the mapped root, writes only with `fsWritable`. Struct layouts: asm/stat.h (x86-64 struct
 * stat, 144 bytes) and linux/stat.h (struct statx, 256 bytes).
 * @module
 */
import {
  accessSync,
  constants,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  rmdirSync,
  unlinkSync,
} from "node:fs";
import type { Cpu } from "../../cpu.ts";
import { arg, argInt, StructWriter } from "../abi.ts";
import {
  EACCES,
  EBADF,
  EEXIST,
  EINVAL,
  EISDIR,
  ELOOP,
  ENOENT,
  ENOTDIR,
  ERANGE,
  EROFS,
  hostErrno,
} from "../errno.ts";
import {
  DevFile,
  DirFile,
  HostFile,
  hostDirEntries,
  MemFile,
  O_ACCMODE,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_TRUNC,
  type OpenFile,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  type StatInfo,
  syntheticStat,
  virtualDirEntries,
} from "../fds.ts";
import type { Resolved, VirtualNode } from "../fs.ts";
import type { LinuxProcess } from "../process.ts";
import type { SyscallTable } from "./types.ts";

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const AT_EMPTY_PATH = 0x1000;

/** The guest directory relative paths start from: the cwd, or the directory open at `dirfd`. */
function baseDir(p: LinuxProcess, dirfd: number, path: string): string | number {
  if (path.startsWith("/") || dirfd === AT_FDCWD) return p.fs.cwd;
  const f = p.fds.file(dirfd);
  if (!f) return -EBADF;
  if (!(f instanceof DirFile)) return -ENOTDIR;
  return f.path;
}

function resolveAt(
  p: LinuxProcess,
  c: Cpu,
  dirfd: number,
  pathAddr: number,
  follow: boolean,
): Resolved | number {
  const path = c.mem.readCString(pathAddr, 4096);
  const base = baseDir(p, dirfd, path);
  if (typeof base === "number") return base;
  return p.fs.resolve(path, base, follow);
}

function virtualStat(v: VirtualNode, guest: string): StatInfo {
  const ino = 0x400 + (hash(guest) & 0xffff);
  switch (v.kind) {
    case "dir":
      return syntheticStat(S_IFDIR | 0o555, ino);
    case "dev": {
      const minor = v.name === "null" ? 3 : v.name === "zero" ? 5 : 9;
      return syntheticStat(S_IFCHR | 0o666, ino, (1 << 8) | minor);
    }
    case "file":
      return syntheticStat(S_IFREG | 0o444, ino, 0, v.content.length);
    case "link":
      return syntheticStat(S_IFLNK | 0o777, ino, 0, v.target.length);
  }
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function statResolved(r: Resolved): StatInfo | number {
  if (r.virt) return virtualStat(r.virt, r.guest);
  if (!r.exists || !r.host) return -ENOENT;
  try {
    const s = lstatSync(r.host, { bigint: true });
    return {
      dev: Number(s.dev & 0xffffffffn),
      ino: s.ino,
      mode: Number(s.mode),
      nlink: Number(s.nlink),
      uid: Number(s.uid),
      gid: Number(s.gid),
      rdev: Number(s.rdev & 0xffffffffn),
      size: Number(s.size),
      blksize: Number(s.blksize),
      blocks: Number(s.blocks),
      atimeNs: s.atimeNs,
      mtimeNs: s.mtimeNs,
      ctimeNs: s.ctimeNs,
    };
  } catch (e) {
    return -hostErrno(e);
  }
}

/** Write `st` as x86-64 `struct stat` at `addr`. */
function writeStat(c: Cpu, addr: number, st: StatInfo): void {
  const w = new StructWriter(144);
  w.u64(0, st.dev).u64n(8, st.ino).u64(16, st.nlink).u32(24, st.mode).u32(28, st.uid).u32(32, st.gid);
  w.u64(40, st.rdev).u64(48, st.size).u64(56, st.blksize).u64(64, st.blocks);
  const times = [st.atimeNs, st.mtimeNs, st.ctimeNs];
  times.forEach((ns, i) => {
    w.u64n(72 + 16 * i, ns / 1_000_000_000n).u64n(80 + 16 * i, ns % 1_000_000_000n);
  });
  c.mem.writeChecked(addr, w.bytes);
}

/** Write `st` as `struct statx` at `addr`. */
function writeStatx(c: Cpu, addr: number, st: StatInfo): void {
  const w = new StructWriter(256);
  w.u32(0, 0x7ff); // STATX_BASIC_STATS
  w.u32(4, st.blksize).u32(16, st.nlink).u32(20, st.uid).u32(24, st.gid).u16(28, st.mode);
  w.u64n(32, st.ino).u64(40, st.size).u64(48, st.blocks);
  const ts = (off: number, ns: bigint) =>
    w.u64n(off, ns / 1_000_000_000n).u32(off + 8, Number(ns % 1_000_000_000n));
  ts(64, st.atimeNs);
  ts(80, st.ctimeNs); // btime: not known, use ctime (mask says so below)
  ts(96, st.ctimeNs);
  ts(112, st.mtimeNs);
  w.u32(128, st.rdev >>> 8)
    .u32(132, st.rdev & 0xff)
    .u32(136, st.dev >>> 8)
    .u32(140, st.dev & 0xff);
  c.mem.writeChecked(addr, w.bytes);
}

/** Open a resolved path. */
function openResolved(p: LinuxProcess, r: Resolved, flags: number, mode: number): OpenFile | number {
  const acc = flags & O_ACCMODE;
  const writes = acc !== O_RDONLY || (flags & O_TRUNC) !== 0;
  const status = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH);
  if (r.virt) {
    const v = r.virt;
    if (flags & O_CREAT && flags & O_EXCL) return -EEXIST;
    switch (v.kind) {
      case "dir":
        if (writes) return -EISDIR;
        return new DirFile(
          status,
          r.guest,
          () =>
            virtualDirEntries(p.fs.virtualChildren(r.guest), (n) => {
              const k = p.fs.resolve(`${r.guest}/${n}`, "/", false);
              return typeof k === "number" || !k.virt
                ? 0
                : k.virt.kind === "dir"
                  ? 4
                  : k.virt.kind === "dev"
                    ? 2
                    : k.virt.kind === "link"
                      ? 10
                      : 8;
            }),
          () => virtualStat(v, r.guest),
        );
      case "dev":
        return new DevFile(status, r.guest, v.name, (n) => p.rng.bytes(n));
      case "file":
        if (writes) return -EACCES;
        return new MemFile(status, r.guest, v.content);
      case "link":
        return -ELOOP; // O_NOFOLLOW on a symlink
    }
  }
  if (flags & O_DIRECTORY && flags & O_CREAT) return -EINVAL;
  if (!r.exists) {
    if (!(flags & O_CREAT)) return -ENOENT;
    if (!r.host) return -ENOENT;
    if (!p.fs.writable) return -EROFS;
  } else {
    if (flags & O_CREAT && flags & O_EXCL) return -EEXIST;
    const st = statResolved(r);
    if (typeof st === "number") return st;
    const type = st.mode & 0o170000;
    if (type === S_IFLNK) return -ELOOP;
    if (type === S_IFDIR) {
      if (writes) return -EISDIR;
      const host = r.host!;
      return new DirFile(
        status,
        r.guest,
        () => hostDirEntries(host),
        () => statResolved(r),
      );
    }
    if (flags & O_DIRECTORY) return -ENOTDIR;
    // Only regular files are opened on the host (a FIFO or device could block or reach out).
    if (type !== S_IFREG) return -EACCES;
    if (writes && !p.fs.writable) return -EROFS;
  }
  let hostFlags = constants.O_NOFOLLOW;
  hostFlags |= acc === 1 ? constants.O_WRONLY : acc === 2 ? constants.O_RDWR : constants.O_RDONLY;
  if (flags & O_CREAT) hostFlags |= constants.O_CREAT;
  if (flags & O_EXCL) hostFlags |= constants.O_EXCL;
  if (flags & O_TRUNC && acc !== O_RDONLY) hostFlags |= constants.O_TRUNC;
  try {
    const fd = openSync(r.host!, hostFlags, mode & ~p.umask & 0o7777);
    return new HostFile(fd, status, r.guest);
  } catch (e) {
    return -hostErrno(e);
  }
}

function openAt(
  p: LinuxProcess,
  c: Cpu,
  dirfd: number,
  pathAddr: number,
  flags: number,
  mode: number,
): number {
  const r = resolveAt(p, c, dirfd, pathAddr, !(flags & O_NOFOLLOW));
  if (typeof r === "number") return r;
  const f = openResolved(p, r, flags, mode);
  if (typeof f === "number") return f;
  const fd = p.fds.add(f, (flags & 0o2000000) !== 0);
  if (fd < 0 && f.refs === 0) f.release();
  return fd;
}

function statAt(p: LinuxProcess, c: Cpu, dirfd: number, pathAddr: number, flags: number): StatInfo | number {
  const path = c.mem.readCString(pathAddr, 4096);
  if (path === "" && flags & AT_EMPTY_PATH) {
    const f = dirfd === AT_FDCWD ? undefined : p.fds.file(dirfd);
    if (dirfd === AT_FDCWD) {
      const r = p.fs.resolve(".", p.fs.cwd, true);
      return typeof r === "number" ? r : statResolved(r);
    }
    if (!f) return -EBADF;
    return f.stat();
  }
  const base = baseDir(p, dirfd, path);
  if (typeof base === "number") return base;
  const r = p.fs.resolve(path, base, !(flags & AT_SYMLINK_NOFOLLOW));
  if (typeof r === "number") return r;
  return statResolved(r);
}

function accessAt(p: LinuxProcess, c: Cpu, dirfd: number, pathAddr: number, mode: number): number {
  const r = resolveAt(p, c, dirfd, pathAddr, true);
  if (typeof r === "number") return r;
  if (!r.exists) return -ENOENT;
  if (r.virt) {
    if (mode & 2 && r.virt.kind !== "dev") return -EACCES;
    return 0;
  }
  if (mode & 2 && !p.fs.writable) return -EROFS;
  try {
    accessSync(r.host!, mode & 7);
    return 0;
  } catch (e) {
    return -hostErrno(e);
  }
}

function readlinkAt(
  p: LinuxProcess,
  c: Cpu,
  dirfd: number,
  pathAddr: number,
  buf: number,
  size: number,
): number {
  if (size <= 0) return -EINVAL;
  const r = resolveAt(p, c, dirfd, pathAddr, false);
  if (typeof r === "number") return r;
  let target: string;
  if (r.virt) {
    if (r.virt.kind !== "link") return -EINVAL;
    target = r.virt.target;
  } else {
    if (!r.exists || !r.host) return -ENOENT;
    try {
      target = readlinkSync(r.host);
    } catch (e) {
      return -hostErrno(e);
    }
  }
  const bytes = new TextEncoder().encode(target).subarray(0, size);
  c.mem.writeChecked(buf, bytes);
  return bytes.length;
}

/** A path for a write operation (mkdir, unlink): resolved, on the host, writable. */
function writablePath(p: LinuxProcess, c: Cpu, dirfd: number, pathAddr: number): string | number {
  const r = resolveAt(p, c, dirfd, pathAddr, false);
  if (typeof r === "number") return r;
  if (r.virt) return -EACCES;
  if (!r.host) return -ENOENT;
  if (!p.fs.writable) return -EROFS;
  if (r.guest === "/") return -EACCES;
  return r.host;
}

function hostOp(fn: () => void): number {
  try {
    fn();
    return 0;
  } catch (e) {
    return -hostErrno(e);
  }
}

export const FILE_SYSCALLS: SyscallTable = {
  // open
  2: (p, c) => openAt(p, c, AT_FDCWD, arg(c, 0), argInt(c, 1), argInt(c, 2)),
  // openat
  257: (p, c) => openAt(p, c, argInt(c, 0), arg(c, 1), argInt(c, 2), argInt(c, 3)),
  // creat
  85: (p, c) => openAt(p, c, AT_FDCWD, arg(c, 0), O_CREAT | 1 | O_TRUNC, argInt(c, 1)),
  // stat
  4: (p, c) => {
    const st = statAt(p, c, AT_FDCWD, arg(c, 0), 0);
    if (typeof st === "number") return st;
    writeStat(c, arg(c, 1), st);
    return 0;
  },
  // lstat
  6: (p, c) => {
    const st = statAt(p, c, AT_FDCWD, arg(c, 0), AT_SYMLINK_NOFOLLOW);
    if (typeof st === "number") return st;
    writeStat(c, arg(c, 1), st);
    return 0;
  },
  // fstat
  5: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    const st = f.stat();
    if (typeof st === "number") return st;
    writeStat(c, arg(c, 1), st);
    return 0;
  },
  // newfstatat
  262: (p, c) => {
    const st = statAt(p, c, argInt(c, 0), arg(c, 1), argInt(c, 3));
    if (typeof st === "number") return st;
    writeStat(c, arg(c, 2), st);
    return 0;
  },
  // statx(dirfd, path, flags, mask, buf)
  332: (p, c) => {
    const st = statAt(p, c, argInt(c, 0), arg(c, 1), argInt(c, 2));
    if (typeof st === "number") return st;
    writeStatx(c, arg(c, 4), st);
    return 0;
  },
  // access
  21: (p, c) => accessAt(p, c, AT_FDCWD, arg(c, 0), argInt(c, 1)),
  // faccessat, faccessat2
  269: (p, c) => accessAt(p, c, argInt(c, 0), arg(c, 1), argInt(c, 2)),
  439: (p, c) => accessAt(p, c, argInt(c, 0), arg(c, 1), argInt(c, 2)),
  // getcwd
  79: (p, c) => {
    const bytes = new TextEncoder().encode(`${p.fs.cwd}\0`);
    if (arg(c, 1) < bytes.length) return -ERANGE;
    c.mem.writeChecked(arg(c, 0), bytes);
    return bytes.length;
  },
  // chdir
  80: (p, c) => {
    const r = resolveAt(p, c, AT_FDCWD, arg(c, 0), true);
    if (typeof r === "number") return r;
    const st = statResolved(r);
    if (typeof st === "number") return st;
    if ((st.mode & 0o170000) !== S_IFDIR) return -ENOTDIR;
    p.fs.cwd = r.guest;
    return 0;
  },
  // fchdir
  81: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    if (!(f instanceof DirFile)) return -ENOTDIR;
    p.fs.cwd = f.path;
    return 0;
  },
  // readlink
  89: (p, c) => readlinkAt(p, c, AT_FDCWD, arg(c, 0), arg(c, 1), argInt(c, 2)),
  // readlinkat
  267: (p, c) => readlinkAt(p, c, argInt(c, 0), arg(c, 1), arg(c, 2), argInt(c, 3)),
  // mkdir, mkdirat
  83: (p, c) => {
    const h = writablePath(p, c, AT_FDCWD, arg(c, 0));
    return typeof h === "number" ? h : hostOp(() => mkdirSync(h, argInt(c, 1) & ~p.umask & 0o7777));
  },
  258: (p, c) => {
    const h = writablePath(p, c, argInt(c, 0), arg(c, 1));
    return typeof h === "number" ? h : hostOp(() => mkdirSync(h, argInt(c, 2) & ~p.umask & 0o7777));
  },
  // unlink, rmdir, unlinkat
  87: (p, c) => {
    const h = writablePath(p, c, AT_FDCWD, arg(c, 0));
    return typeof h === "number" ? h : hostOp(() => unlinkSync(h));
  },
  84: (p, c) => {
    const h = writablePath(p, c, AT_FDCWD, arg(c, 0));
    return typeof h === "number" ? h : hostOp(() => rmdirSync(h));
  },
  263: (p, c) => {
    const h = writablePath(p, c, argInt(c, 0), arg(c, 1));
    if (typeof h === "number") return h;
    return hostOp(() => (argInt(c, 2) & AT_REMOVEDIR ? rmdirSync(h) : unlinkSync(h)));
  },
  // ftruncate
  77: (p, c) => {
    const f = p.fds.file(argInt(c, 0));
    if (!f) return -EBADF;
    if (!(f instanceof HostFile) || !f.writable) return -EINVAL;
    return hostOp(() => ftruncateSync(f.hostFd, arg(c, 1)));
  },
  // fsync, fdatasync
  74: (p, c) => (p.fds.file(argInt(c, 0)) ? 0 : -EBADF),
  75: (p, c) => (p.fds.file(argInt(c, 0)) ? 0 : -EBADF),
  // umask
  95: (p, c) => {
    const old = p.umask;
    p.umask = argInt(c, 0) & 0o777;
    return old;
  },
};
