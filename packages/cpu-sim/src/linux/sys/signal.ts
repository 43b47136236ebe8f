/**
 * Signal syscalls: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigreturn, sigaltstack,
 * kill, tkill, tgkill (to this process only). struct kernel_sigaction and stack_t layouts from
 * the x86-64 UAPI headers (asm/signal.h).
 * @module
 */
import { arg, argInt, StructReader, StructWriter } from "../abi.ts";
import { EINVAL, ENOMEM, EPERM, ESRCH, NO_RESULT } from "../errno.ts";
import {
  NSIG,
  SI_TKILL,
  SI_USER,
  SIG_IGN,
  SIGKILL,
  SIGSTOP,
  SS_DISABLE,
  SS_ONSTACK,
  sigBit,
  sigreturn,
  UNBLOCKABLE,
} from "../signals.ts";
import { ThreadState } from "../threads/thread.ts";
import type { SyscallTable } from "./types.ts";

const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
const SIG_SETMASK = 2;
const MINSIGSTKSZ = 2048;

export const SIGNAL_SYSCALLS: SyscallTable = {
  // rt_sigaction(sig, act, oact, sigsetsize)
  13: (p, c) => {
    const sig = argInt(c, 0);
    const act = arg(c, 1);
    const old = arg(c, 2);
    if (arg(c, 3) !== 8) return -EINVAL;
    if (sig < 1 || sig > NSIG) return -EINVAL;
    if (act && (sig === SIGKILL || sig === SIGSTOP)) return -EINVAL;
    let next: Uint8Array | undefined;
    if (act) next = c.mem.readChecked(act, 32);
    const cur = p.sigactions[sig]!;
    if (old)
      c.mem.writeChecked(
        old,
        new StructWriter(32).u64(0, cur.handler).u64(8, cur.flags).u64(16, cur.restorer).u64n(24, cur.mask)
          .bytes,
      );
    if (next) {
      const r = new StructReader(next);
      p.sigactions[sig] = {
        handler: r.u64(0),
        flags: r.u32(8),
        restorer: r.u64(16),
        mask: r.u64n(24) & ~UNBLOCKABLE,
      };
      // Setting SIG_IGN discards pending instances (POSIX).
      if (r.u64(0) === SIG_IGN) for (const t of p.threads.values()) removePending(t.pending, sig);
    }
    return 0;
  },

  // rt_sigprocmask(how, set, oldset, sigsetsize)
  14: (_p, c, t) => {
    if (arg(c, 3) !== 8) return -EINVAL;
    const how = argInt(c, 0);
    const set = arg(c, 1);
    const old = arg(c, 2);
    let mask: bigint | undefined;
    if (set) {
      mask = new StructReader(c.mem.readChecked(set, 8)).u64n(0);
      if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) return -EINVAL;
    }
    if (old) c.mem.writeChecked(old, new StructWriter(8).u64n(0, t.sigMask).bytes);
    if (mask !== undefined) {
      if (how === SIG_BLOCK) t.sigMask |= mask;
      else if (how === SIG_UNBLOCK) t.sigMask &= ~mask;
      else t.sigMask = mask;
      t.sigMask &= ~UNBLOCKABLE;
    }
    return 0;
  },

  // rt_sigpending(set, sigsetsize)
  127: (_p, c, t) => {
    if (arg(c, 1) > 8) return -EINVAL;
    let set = 0n;
    for (const s of t.pending) set |= sigBit(s.sig);
    c.mem.writeChecked(arg(c, 0), new StructWriter(8).u64n(0, set & t.sigMask).bytes);
    return 0;
  },

  // rt_sigreturn
  15: (_p, c, t) => {
    sigreturn(c, t);
    return NO_RESULT;
  },

  // sigaltstack(ss, old)
  131: (_p, c, t) => {
    const ss = arg(c, 0);
    const old = arg(c, 1);
    const rsp = c.reg64(4);
    const onAlt = t.altFlags !== SS_DISABLE && rsp > t.altSp && rsp <= t.altSp + t.altSize;
    let next: [number, number, number] | undefined;
    if (ss) {
      const r = new StructReader(c.mem.readChecked(ss, 24));
      const flags = r.i32(8);
      if (onAlt) return -EPERM;
      if (flags !== 0 && flags !== SS_DISABLE && flags !== SS_ONSTACK) return -EINVAL;
      if (flags === SS_DISABLE) next = [0, 0, SS_DISABLE];
      else {
        if (r.u64(16) < MINSIGSTKSZ) return -ENOMEM;
        next = [r.u64(0), r.u64(16), 0];
      }
    }
    if (old) {
      const flags = t.altFlags === SS_DISABLE ? SS_DISABLE : onAlt ? SS_ONSTACK : 0;
      c.mem.writeChecked(old, new StructWriter(24).u64(0, t.altSp).u32(8, flags).u64(16, t.altSize).bytes);
    }
    if (next) [t.altSp, t.altSize, t.altFlags] = next;
    return 0;
  },

  // kill(pid, sig): this process only
  62: (p, c, t) => {
    const pid = argInt(c, 0);
    const sig = argInt(c, 1);
    if (sig < 0 || sig > NSIG) return -EINVAL;
    if (pid !== p.pid && pid !== 0 && pid !== -1) return -ESRCH;
    // A process-directed signal goes to the caller unless it blocks it, else to a thread that does not.
    let target = t;
    if (t.sigMask & (sig ? sigBit(sig) : 0n))
      for (const x of p.threads.values())
        if (x.state !== ThreadState.Done && !(x.sigMask & sigBit(sig))) {
          target = x;
          break;
        }
    p.sendSignal(c, target, sig, SI_USER);
    return 0;
  },
  // tkill(tid, sig)
  200: (p, c) => {
    const target = p.threads.get(argInt(c, 0));
    const sig = argInt(c, 1);
    if (sig < 0 || sig > NSIG) return -EINVAL;
    if (!target || target.state === ThreadState.Done) return -ESRCH;
    p.sendSignal(c, target, sig, SI_TKILL);
    return 0;
  },
  // tgkill(tgid, tid, sig)
  234: (p, c) => {
    const target = p.threads.get(argInt(c, 1));
    const sig = argInt(c, 2);
    if (sig < 0 || sig > NSIG) return -EINVAL;
    if (argInt(c, 0) !== p.pid || !target || target.state === ThreadState.Done) return -ESRCH;
    p.sendSignal(c, target, sig, SI_TKILL);
    return 0;
  },
};

function removePending(list: { sig: number }[], sig: number): void {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.sig === sig) list.splice(i, 1);
}
