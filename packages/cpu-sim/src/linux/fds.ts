/**
 * Open files and the file-descriptor table. An {@link OpenFile} is a Linux "open file
 * description" (shared by dup'ed descriptors: offset and status flags); the table maps
 * descriptor numbers to them with a close-on-exec bit each. Kinds: the host's stdio, host
 * files and directories under the mapped root, pipes, the virtual devices and virtual files.
 * Results are byte arrays or counts, `-errno`, or {@link BLOCKED} when the caller must park
 * the thread on `waitQueue` and retry.
 * @module
 */
import { closeSync, fstatSync, readdirSync, readSync, writeSync } from "node:fs";
import {
  BLOCKED,
  EAGAIN,
  EBADF,
  EINVAL,
  EISDIR,
  EMFILE,
  ENOTDIR,
  EPIPE,
  ESPIPE,
  hostErrno,
} from "./errno.ts";
import { WaitQueue } from "./threads/waitqueue.ts";

/** O_* flags (asm-generic/fcntl.h, x86-64 values). */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_TMPFILE: number = 0o20000000 | O_DIRECTORY;

/** File type bits of st_mode. */
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** What fstat reports (times in nanoseconds since the Unix epoch, as bigints). */
export interface StatInfo {
  dev: number;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** Guest uid/gid (fixed, so that runs do not depend on the host user). */
export const GUEST_UID = 1000;
export const GUEST_GID = 1000;

/** A stat result for things that have no host file. */
export function syntheticStat(mode: number, ino: number, rdev = 0, size = 0): StatInfo {
  return {
    dev: 0x16,
    ino: BigInt(ino),
    mode,
    nlink: 1,
    uid: GUEST_UID,
    gid: GUEST_GID,
    rdev,
    size,
    blksize: 4096,
    blocks: Math.ceil(size / 512),
    atimeNs: 0n,
    mtimeNs: 0n,
    ctimeNs: 0n,
  };
}

/** A host fstat as a {@link StatInfo}. */
export function hostStat(fd: number): StatInfo {
  const s = fstatSync(fd, { bigint: true });
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
}

/** One directory entry for getdents64. */
export interface DirEntry {
  name: string;
  ino: bigint;
  /** DT_* type. */
  type: number;
}

/** An open file description. */
export abstract class OpenFile {
  /** Status flags: access mode, O_APPEND, O_NONBLOCK. */
  flags: number;
  /** Descriptors referring to it. */
  refs = 0;
  /** Guest path (for /proc-like reports). */
  readonly path: string;
  /** Where a thread parks when an operation returns BLOCKED. */
  waitQueue: WaitQueue | undefined;
  constructor(flags: number, path: string) {
    this.flags = flags;
    this.path = path;
  }
  get readable(): boolean {
    return (this.flags & O_ACCMODE) !== O_WRONLY && !(this.flags & O_PATH);
  }
  get writable(): boolean {
    return (this.flags & O_ACCMODE) !== O_RDONLY && !(this.flags & O_PATH);
  }
  /** Read up to `len` bytes at the current offset. */
  abstract read(len: number): Uint8Array | number;
  /** Write at the current offset (or the end with O_APPEND). */
  abstract write(data: Uint8Array): number;
  /** Read at `off` without moving the offset. */
  pread(_len: number, _off: number): Uint8Array | number {
    return -ESPIPE;
  }
  pwrite(_data: Uint8Array, _off: number): number {
    return -ESPIPE;
  }
  /** lseek; returns the new offset. */
  seek(_off: number, _whence: number): number {
    return -ESPIPE;
  }
  abstract stat(): StatInfo | number;
  /** Directory entries (from the current position), for getdents64. */
  dirEntries(): DirEntry[] | number {
    return -ENOTDIR;
  }
  /** Is it a terminal? */
  isTty(): boolean {
    return false;
  }
  /** The last descriptor was closed. */
  release(): void {}
}

/** A host descriptor used as the guest's stdin, stdout or stderr. */
export class StdioFile extends OpenFile {
  private readonly hostFd: number;
  private readonly tty: boolean;
  private readonly sink: ((d: Uint8Array) => void) | undefined;
  private readonly input: Uint8Array | undefined;
  private inputPos = 0;
  /**
   * `sink`: where writes go (else the host fd). `input`: stdin contents (else read the host
   * fd). `tty`: whether the host descriptor is a terminal (answered through TCGETS).
   */
  constructor(
    hostFd: number,
    flags: number,
    tty: boolean,
    sink: ((d: Uint8Array) => void) | undefined,
    input: Uint8Array | undefined,
  ) {
    super(flags, `/dev/fd/${hostFd}`);
    this.hostFd = hostFd;
    this.tty = tty;
    this.sink = sink;
    this.input = input;
  }
  read(len: number): Uint8Array | number {
    if (!this.readable) return -EBADF;
    if (this.input) {
      const n = Math.min(len, this.input.length - this.inputPos);
      if (n <= 0) return new Uint8Array(0);
      const out = this.input.slice(this.inputPos, this.inputPos + n);
      this.inputPos += n;
      return out;
    }
    const buf = new Uint8Array(Math.min(len, 1 << 20));
    for (;;) {
      try {
        const n = readSync(this.hostFd, buf, 0, buf.length, null);
        return buf.subarray(0, n);
      } catch (e) {
        const err = hostErrno(e);
        if (err === EAGAIN) {
          // The host descriptor is non-blocking: wait for input like a blocking read would.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        return -err;
      }
    }
  }
  write(data: Uint8Array): number {
    if (!this.writable) return -EBADF;
    if (this.sink) {
      this.sink(data);
      return data.length;
    }
    let done = 0;
    while (done < data.length) {
      try {
        done += writeSync(this.hostFd, data, done, data.length - done);
      } catch (e) {
        const err = hostErrno(e);
        if (err === EAGAIN) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          continue;
        }
        return done > 0 ? done : -err;
      }
    }
    return done;
  }
  stat(): StatInfo | number {
    if (this.sink || this.input) return syntheticStat(S_IFIFO | 0o600, 0x100 + this.hostFd);
    try {
      return hostStat(this.hostFd);
    } catch (e) {
      return -hostErrno(e);
    }
  }
  override isTty(): boolean {
    return this.tty;
  }
}

/** A regular host file under the mapped root. */
export class HostFile extends OpenFile {
  /** The host descriptor. */
  readonly hostFd: number;
  private pos = 0;
  constructor(fd: number, flags: number, path: string) {
    super(flags, path);
    this.hostFd = fd;
  }
  private get fd(): number {
    return this.hostFd;
  }
  read(len: number): Uint8Array | number {
    const r = this.pread(len, this.pos);
    if (typeof r !== "number") this.pos += r.length;
    return r;
  }
  write(data: Uint8Array): number {
    if (this.flags & O_APPEND) {
      const s = this.stat();
      if (typeof s === "number") return s;
      this.pos = s.size;
    }
    const r = this.pwrite(data, this.pos);
    if (r > 0) this.pos += r;
    return r;
  }
  override pread(len: number, off: number): Uint8Array | number {
    if (!this.readable) return -EBADF;
    const buf = new Uint8Array(Math.min(len, 1 << 24));
    try {
      const n = readSync(this.fd, buf, 0, buf.length, off);
      return buf.subarray(0, n);
    } catch (e) {
      return -hostErrno(e);
    }
  }
  override pwrite(data: Uint8Array, off: number): number {
    if (!this.writable) return -EBADF;
    try {
      return writeSync(this.fd, data, 0, data.length, off);
    } catch (e) {
      return -hostErrno(e);
    }
  }
  override seek(off: number, whence: number): number {
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = this.pos;
    else if (whence === 2) {
      const s = this.stat();
      if (typeof s === "number") return s;
      base = s.size;
    } else return -EINVAL;
    if (base + off < 0) return -EINVAL;
    this.pos = base + off;
    return this.pos;
  }
  stat(): StatInfo | number {
    try {
      return hostStat(this.fd);
    } catch (e) {
      return -hostErrno(e);
    }
  }
  override release(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed: nothing to do
    }
  }
}

/** DT_* values. */
const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;
const DT_CHR = 2;
const DT_UNKNOWN = 0;

/** A directory (host or virtual), read with getdents64. */
export class DirFile extends OpenFile {
  private entries: DirEntry[] | undefined;
  pos = 0;
  private readonly list: () => DirEntry[];
  private readonly st: () => StatInfo | number;
  constructor(flags: number, path: string, list: () => DirEntry[], st: () => StatInfo | number) {
    super(flags, path);
    this.list = list;
    this.st = st;
  }
  read(): number {
    return -EISDIR;
  }
  write(): number {
    return -EBADF;
  }
  override seek(off: number, whence: number): number {
    if (whence !== 0 || off < 0) return -EINVAL;
    this.pos = off;
    if (off === 0) this.entries = undefined;
    return off;
  }
  stat(): StatInfo | number {
    return this.st();
  }
  override dirEntries(): DirEntry[] | number {
    this.entries ??= this.list();
    return this.entries.slice(this.pos);
  }
}

/** Directory entries of a host directory ("." and ".." first). */
export function hostDirEntries(hostPath: string): DirEntry[] {
  const out: DirEntry[] = [
    { name: ".", ino: 1n, type: DT_DIR },
    { name: "..", ino: 1n, type: DT_DIR },
  ];
  let n = 2n;
  for (const d of readdirSync(hostPath, { withFileTypes: true })) {
    const type = d.isDirectory()
      ? DT_DIR
      : d.isFile()
        ? DT_REG
        : d.isSymbolicLink()
          ? DT_LNK
          : d.isCharacterDevice()
            ? DT_CHR
            : DT_UNKNOWN;
    out.push({ name: d.name, ino: ++n, type });
  }
  return out;
}

/** Virtual directory entries. */
export function virtualDirEntries(names: string[], type: (name: string) => number): DirEntry[] {
  const out: DirEntry[] = [
    { name: ".", ino: 1n, type: DT_DIR },
    { name: "..", ino: 1n, type: DT_DIR },
  ];
  names.forEach((name, i) => {
    out.push({ name, ino: BigInt(i + 3), type: type(name) });
  });
  return out;
}

/** /dev/null, /dev/zero, /dev/(u)random (seeded). */
export class DevFile extends OpenFile {
  private readonly dev: "null" | "zero" | "random";
  private readonly random: (n: number) => Uint8Array;
  constructor(
    flags: number,
    path: string,
    dev: "null" | "zero" | "random",
    random: (n: number) => Uint8Array,
  ) {
    super(flags, path);
    this.dev = dev;
    this.random = random;
  }
  read(len: number): Uint8Array | number {
    if (!this.readable) return -EBADF;
    const n = Math.min(len, 1 << 20);
    if (this.dev === "null") return new Uint8Array(0);
    if (this.dev === "zero") return new Uint8Array(n);
    return this.random(n);
  }
  write(data: Uint8Array): number {
    return this.writable ? data.length : -EBADF;
  }
  override pread(len: number): Uint8Array | number {
    return this.read(len);
  }
  override seek(): number {
    return 0;
  }
  stat(): StatInfo {
    const minor = this.dev === "null" ? 3 : this.dev === "zero" ? 5 : 9;
    return syntheticStat(S_IFCHR | 0o666, 0x200 + minor, (1 << 8) | minor);
  }
}

/** A read-only file whose contents live in the simulator (/sys/devices/system/cpu/online). */
export class MemFile extends OpenFile {
  private readonly content: Uint8Array;
  private pos = 0;
  constructor(flags: number, path: string, content: Uint8Array) {
    super(flags, path);
    this.content = content;
  }
  read(len: number): Uint8Array | number {
    const r = this.pread(len, this.pos);
    if (typeof r !== "number") this.pos += r.length;
    return r;
  }
  override pread(len: number, off: number): Uint8Array | number {
    if (!this.readable) return -EBADF;
    return this.content.slice(off, off + len);
  }
  write(): number {
    return -EBADF;
  }
  override seek(off: number, whence: number): number {
    const base = whence === 0 ? 0 : whence === 1 ? this.pos : whence === 2 ? this.content.length : -1;
    if (base < 0 || base + off < 0) return -EINVAL;
    this.pos = base + off;
    return this.pos;
  }
  stat(): StatInfo {
    return syntheticStat(S_IFREG | 0o444, 0x300, 0, this.content.length);
  }
}

/** Pipe capacity (Linux's default, 16 pages). */
export const PIPE_CAPACITY = 65536;

/** The buffer shared by a pipe's two ends. */
export class Pipe {
  private chunks: Uint8Array[] = [];
  size = 0;
  readers = 0;
  writers = 0;
  /** Threads waiting to read or to write. */
  readonly waiting: WaitQueue = new WaitQueue();
  readonly ino: number;
  constructor(ino: number) {
    this.ino = ino;
  }
  take(len: number): Uint8Array {
    const n = Math.min(len, this.size);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - done);
      out.set(c.subarray(0, k), done);
      done += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.size -= n;
    return out;
  }
  put(data: Uint8Array): void {
    this.chunks.push(data.slice());
    this.size += data.length;
  }
}

/** One end of a pipe. */
export class PipeEnd extends OpenFile {
  readonly pipe: Pipe;
  readonly readEnd: boolean;
  /** Called when the pipe's state changes (wake waiting threads). */
  private readonly changed: (p: Pipe) => void;
  constructor(pipe: Pipe, readEnd: boolean, flags: number, changed: (p: Pipe) => void) {
    super((flags & ~O_ACCMODE) | (readEnd ? O_RDONLY : O_WRONLY), "pipe:");
    this.pipe = pipe;
    this.readEnd = readEnd;
    this.changed = changed;
    this.waitQueue = pipe.waiting;
    if (readEnd) pipe.readers++;
    else pipe.writers++;
  }
  read(len: number): Uint8Array | number {
    if (!this.readEnd) return -EBADF;
    const p = this.pipe;
    if (len === 0) return new Uint8Array(0);
    if (p.size === 0) {
      if (p.writers === 0) return new Uint8Array(0);
      return this.flags & O_NONBLOCK ? -EAGAIN : BLOCKED;
    }
    const out = p.take(len);
    this.changed(p);
    return out;
  }
  write(data: Uint8Array): number {
    if (this.readEnd) return -EBADF;
    const p = this.pipe;
    if (p.readers === 0) return -EPIPE;
    if (data.length === 0) return 0;
    const room = PIPE_CAPACITY - p.size;
    if (room <= 0) return this.flags & O_NONBLOCK ? -EAGAIN : BLOCKED;
    const n = Math.min(room, data.length);
    p.put(data.subarray(0, n));
    this.changed(p);
    return n;
  }
  stat(): StatInfo {
    return syntheticStat(S_IFIFO | 0o600, this.pipe.ino, 0, 0);
  }
  override release(): void {
    if (this.readEnd) this.pipe.readers--;
    else this.pipe.writers--;
    this.changed(this.pipe);
  }
}

/** A descriptor: the open file and its close-on-exec bit. */
export interface Fd {
  file: OpenFile;
  cloexec: boolean;
}

/** RLIMIT_NOFILE's soft limit. */
export const MAX_FDS = 1024;

/** The descriptor table. */
export class FdTable {
  private readonly fds = new Map<number, Fd>();

  /** The descriptor `fd`, or undefined. */
  get(fd: number): Fd | undefined {
    return this.fds.get(fd);
  }
  /** The open file of `fd`, or undefined. */
  file(fd: number): OpenFile | undefined {
    return this.fds.get(fd)?.file;
  }
  /** Install `file` at the lowest free descriptor >= `min`; returns it or -EMFILE. */
  add(file: OpenFile, cloexec: boolean, min = 0): number {
    for (let fd = min; fd < MAX_FDS; fd++)
      if (!this.fds.has(fd)) {
        this.set(fd, file, cloexec);
        return fd;
      }
    return -EMFILE;
  }
  /** Install `file` at `fd`, closing what was there. */
  set(fd: number, file: OpenFile, cloexec: boolean): void {
    file.refs++;
    const old = this.fds.get(fd);
    this.fds.set(fd, { file, cloexec });
    if (old) this.drop(old.file);
  }
  /** Close `fd`; returns 0 or -EBADF. */
  close(fd: number): number {
    const d = this.fds.get(fd);
    if (!d) return -EBADF;
    this.fds.delete(fd);
    this.drop(d.file);
    return 0;
  }
  private drop(f: OpenFile): void {
    if (--f.refs === 0) f.release();
  }
  /** Close everything (process exit). */
  closeAll(): void {
    for (const fd of [...this.fds.keys()]) this.close(fd);
  }
}
