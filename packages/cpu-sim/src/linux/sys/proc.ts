/**
 * Process and identity syscalls: exit, exit_group, getpid, gettid, getppid, get[e]uid,
 * get[e]gid, uname, arch_prctl, set_tid_address, set_robust_list, rseq (ENOSYS), prlimit64,
 * getrlimit, setrlimit, getrandom (seeded), sched_getaffinity, sched_setaffinity, sysinfo.
 * @module
 */
import { arg, argInt, StructReader, StructWriter, writeU64 } from "../abi.ts";
import { EINVAL, ENOSYS, EPERM, ESRCH, NO_RESULT } from "../errno.ts";
import { GUEST_GID, GUEST_UID } from "../fds.ts";
import { STACK_SIZE } from "../loader.ts";
import { cyclesToNs } from "../time.ts";
import type { SyscallTable } from "./types.ts";

const ARCH_SET_GS = 0x1001;
const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const ARCH_GET_GS = 0x1004;

const RLIM_INFINITY = 0xffffffffffffffffn;
const RLIMIT_STACK = 3;
const RLIMIT_NOFILE = 7;

/** Default [soft, hard] limits. */
function defaultLimit(res: number): [bigint, bigint] {
  if (res === RLIMIT_STACK) return [BigInt(STACK_SIZE), RLIM_INFINITY];
  if (res === RLIMIT_NOFILE) return [1024n, 4096n];
  return [RLIM_INFINITY, RLIM_INFINITY];
}

export const PROC_SYSCALLS: SyscallTable = {
  // exit: this thread only
  60: (p, c, t) => {
    p.exitThread(c, t, argInt(c, 0));
    return NO_RESULT;
  },
  // exit_group
  231: (p, c) => {
    p.exitGroup(c, argInt(c, 0));
    return NO_RESULT;
  },
  39: (p) => p.pid, // getpid
  186: (_p, _c, t) => t.tid, // gettid
  110: () => 1, // getppid: as if started by init
  102: () => GUEST_UID, // getuid
  107: () => GUEST_UID, // geteuid
  104: () => GUEST_GID, // getgid
  108: () => GUEST_GID, // getegid
  111: (p) => p.pid, // getpgrp
  121: (p) => p.pid, // getpgid
  124: (p) => p.pid, // getsid

  // uname: struct utsname, six 65-byte fields
  63: (_p, c) => {
    const fields = ["Linux", "xmc", "6.1.0-xmc", "#1 SMP xmc", "x86_64", "(none)"];
    const out = new Uint8Array(65 * 6);
    const enc = new TextEncoder();
    fields.forEach((f, i) => {
      out.set(enc.encode(f), i * 65);
    });
    c.mem.writeChecked(arg(c, 0), out);
    return 0;
  },

  // arch_prctl
  158: (_p, c) => {
    const addr = arg(c, 1);
    switch (argInt(c, 0)) {
      case ARCH_SET_FS:
        c.fsBase = addr;
        return 0;
      case ARCH_SET_GS:
        c.gsBase = addr;
        return 0;
      case ARCH_GET_FS:
        writeU64(c.mem, addr, c.fsBase);
        return 0;
      case ARCH_GET_GS:
        writeU64(c.mem, addr, c.gsBase);
        return 0;
      default:
        return -EINVAL;
    }
  },

  // set_tid_address
  218: (_p, c, t) => {
    t.clearTid = arg(c, 0);
    return t.tid;
  },
  // set_robust_list: accepted (robust futexes of dying threads are not walked)
  273: (_p, c) => (arg(c, 1) === 24 ? 0 : -EINVAL),
  // rseq: not supported (allowed by the libc: they fall back)
  334: () => -ENOSYS,

  // prlimit64(pid, resource, new, old)
  302: (p, c) => {
    const pid = argInt(c, 0);
    if (pid !== 0 && pid !== p.pid) return -ESRCH;
    const res = argInt(c, 1);
    if (res < 0 || res > 15) return -EINVAL;
    const cur = p.rlimits.get(res) ?? defaultLimit(res);
    const oldAddr = arg(c, 3);
    const newAddr = arg(c, 2);
    let next: [bigint, bigint] | undefined;
    if (newAddr) {
      const r = new StructReader(c.mem.readChecked(newAddr, 16));
      next = [r.u64n(0), r.u64n(8)];
      if (next[0] > next[1]) return -EINVAL;
      if (next[1] > cur[1]) return -EPERM;
    }
    if (oldAddr) c.mem.writeChecked(oldAddr, new StructWriter(16).u64n(0, cur[0]).u64n(8, cur[1]).bytes);
    if (next) p.rlimits.set(res, next);
    return 0;
  },
  // getrlimit
  97: (p, c) => {
    const res = argInt(c, 0);
    if (res < 0 || res > 15) return -EINVAL;
    const cur = p.rlimits.get(res) ?? defaultLimit(res);
    c.mem.writeChecked(arg(c, 1), new StructWriter(16).u64n(0, cur[0]).u64n(8, cur[1]).bytes);
    return 0;
  },
  // setrlimit
  160: (p, c) => {
    const res = argInt(c, 0);
    if (res < 0 || res > 15) return -EINVAL;
    const r = new StructReader(c.mem.readChecked(arg(c, 1), 16));
    p.rlimits.set(res, [r.u64n(0), r.u64n(8)]);
    return 0;
  },

  // getrandom: from the run's seed
  318: (p, c) => {
    const len = Math.min(arg(c, 1), 1 << 20);
    if (len > 0) c.mem.writeChecked(arg(c, 0), p.rng.bytes(len));
    return len;
  },

  // sched_getaffinity(pid, len, mask): every CPU of the machine
  204: (p, c) => {
    const len = arg(c, 1);
    if (len < 8 || len % 8 !== 0) return -EINVAL;
    const n = p.machine.cpus.length;
    const mask = n === 64 ? 0xffffffffffffffffn : (1n << BigInt(n)) - 1n;
    c.mem.writeChecked(arg(c, 2), new StructWriter(8).u64n(0, mask).bytes);
    return 8;
  },
  // sched_setaffinity: accepted (the scheduler places threads itself)
  203: () => 0,
  // getcpu(cpu, node, cache)
  309: (_p, c) => {
    if (arg(c, 0)) c.mem.write32(arg(c, 0), c.id);
    if (arg(c, 1)) c.mem.write32(arg(c, 1), 0);
    return 0;
  },

  // sysinfo: struct sysinfo (linux/sysinfo.h), memory from the machine's limit
  99: (p, c) => {
    const w = new StructWriter(112);
    w.u64(0, Math.floor(cyclesToNs(c.cycles) / 1e9));
    const total = p.machine.mem.limit;
    w.u64(32, total).u64(40, Math.max(0, total - p.machine.mem.mapped));
    w.u16(80, p.threads.size);
    w.u32(104, 1);
    c.mem.writeChecked(arg(c, 0), w.bytes);
    return 0;
  },
};
