/**
 * Signals: dispositions (rt_sigaction), default actions, and the x86-64 signal frame.
 *
 * The frame follows the kernel's x86-64 layout (arch/x86/include/asm/sigframe.h and the UAPI
 * headers asm/sigcontext.h, asm/ucontext.h, asm-generic/siginfo.h): at the new RSP the return
 * address (`sa_restorer`), then `struct ucontext` (uc_flags, uc_link, uc_stack, uc_mcontext =
 * struct sigcontext with the GPRs in glibc's REG_* order, uc_sigmask), then `siginfo_t`
 * (128 bytes); the FXSAVE-format FP state (512 bytes, 64-byte aligned) lies above it and
 * `mcontext.fpstate` points to it. The handler gets RDI = signal, RSI = &siginfo,
 * RDX = &ucontext, RAX = 0, and RSP ≡ 8 (mod 16) as after a call. rt_sigreturn reads the
 * (possibly edited) ucontext back.
 * @module
 */
import type { Cpu } from "../cpu.ts";
import type { Memory } from "../memory.ts";
import { StructReader, StructWriter } from "./abi.ts";
import type { Thread } from "./threads/thread.ts";

/** Signal numbers (x86-64). */
export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGABRT = 6;
export const SIGBUS = 7;
export const SIGFPE = 8;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGSEGV = 11;
export const SIGUSR2 = 12;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGCHLD = 17;
export const SIGCONT = 18;
export const SIGSTOP = 19;
export const SIGTSTP = 20;
export const SIGTTIN = 21;
export const SIGTTOU = 22;
export const SIGURG = 23;
export const SIGWINCH = 28;
export const NSIG = 64;

const NAMES: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
  16: "SIGSTKFLT",
  17: "SIGCHLD",
  18: "SIGCONT",
  19: "SIGSTOP",
  20: "SIGTSTP",
  21: "SIGTTIN",
  22: "SIGTTOU",
  23: "SIGURG",
  24: "SIGXCPU",
  25: "SIGXFSZ",
  26: "SIGVTALRM",
  27: "SIGPROF",
  28: "SIGWINCH",
  29: "SIGIO",
  30: "SIGPWR",
  31: "SIGSYS",
};

/** "SIGSEGV", or "SIGRT<n>" for real-time signals. */
export function signalName(sig: number): string {
  return NAMES[sig] ?? `SIG${sig >= 34 ? `RTMIN+${sig - 34}` : sig}`;
}

/** sa_flags bits. */
export const SA_SIGINFO = 0x4;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;
export const SA_RESTORER = 0x04000000;

/** Special handlers. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;

/** si_code values. */
export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_TKILL = -6;
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const FPE_INTDIV = 1;
export const FPE_FLTDIV = 3;
export const FPE_FLTINV = 7;
export const ILL_ILLOPN = 2;

/** sigaltstack flags. */
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;

/** One signal's disposition (struct kernel_sigaction on x86-64: handler, flags, restorer, mask). */
export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  mask: bigint;
}

/** The bit of signal `sig` in a sigset. */
export function sigBit(sig: number): bigint {
  return 1n << BigInt(sig - 1);
}

/** Signals that cannot be blocked or caught. */
export const UNBLOCKABLE: bigint = sigBit(SIGKILL) | sigBit(SIGSTOP);

/** What the default disposition does. */
export function defaultIgnores(sig: number): boolean {
  // SIGCHLD, SIGURG, SIGWINCH are ignored; SIGCONT continues (nothing to do); the stop signals
  // would stop the process, which nobody could continue here: treated as ignored.
  return (
    sig === SIGCHLD ||
    sig === SIGURG ||
    sig === SIGWINCH ||
    sig === SIGCONT ||
    sig === SIGSTOP ||
    sig === SIGTSTP ||
    sig === SIGTTIN ||
    sig === SIGTTOU
  );
}

/** Everything a signal carries into the frame. */
export interface SigInfo {
  sig: number;
  code: number;
  /** si_addr for faults; si_pid for SI_USER/SI_TKILL. */
  addr: number;
  pid: number;
  uid: number;
  /** Trap number and error code for mcontext (faults), CR2 (page faults). */
  trapno: number;
  err: number;
  cr2: number;
  /** True for kill/tgkill-style signals (pid/uid fields), false for faults (si_addr). */
  user: boolean;
}

const UC_SIZE = 8 + 8 + 24 + 256 + 8; // struct ucontext with the kernel's 8-byte sigset
const SIGINFO_SIZE = 128;
const FRAME_SIZE = 8 + UC_SIZE + SIGINFO_SIZE;
const FPSTATE_SIZE = 512;
const MC = 40; // offset of uc_mcontext in ucontext
/** sigcontext GPR order (= glibc REG_R8 … REG_RIP): CPU register numbers. */
const GREG_ORDER = [8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 3, 2, 0, 1, 4];
/** RFLAGS bits a signal handler may change (the kernel's FIX_EFLAGS). */
const FIX_EFLAGS = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;

/** The FXSAVE image of `c` (SDM Vol. 1 §10.5.1: x87 control/status/abridged tag, ST0-7, MXCSR, XMM0-15). */
function fxsave(c: Cpu): Uint8Array {
  const w = new StructWriter(FPSTATE_SIZE);
  w.u16(0, c.fpuCw).u16(2, c.fpuSw);
  // Abridged tag word: a 1 bit per non-empty register (full tag 11 = empty).
  let ftw = 0;
  for (let i = 0; i < 8; i++) if (((c.fpuTw >> (2 * i)) & 3) !== 3) ftw |= 1 << i;
  w.u8(4, ftw);
  // ST(i) (stack order) = R[(TOP + i) & 7]: 64-bit significand, then sign and exponent.
  const top = (c.fpuSw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const r = (top + i) & 7;
    w.u32(32 + 16 * i, c.fpuMant[2 * r]!)
      .u32(36 + 16 * i, c.fpuMant[2 * r + 1]!)
      .u16(40 + 16 * i, c.fpuExp[r]!);
  }
  w.u32(24, c.mxcsr).u32(28, 0xffff);
  w.bytes.set(c.xmmBytes.subarray(0, 256), 160);
  return w.bytes;
}

function fxrstor(c: Cpu, b: Uint8Array): void {
  const r = new StructReader(b);
  c.fpuCw = r.view.getUint16(0, true);
  c.fpuSw = r.view.getUint16(2, true);
  const ftw = r.view.getUint8(4);
  let tw = 0;
  for (let i = 0; i < 8; i++) tw |= (ftw & (1 << i) ? 0 : 3) << (2 * i);
  c.fpuTw = tw;
  const top = (c.fpuSw >> 11) & 7;
  for (let i = 0; i < 8; i++) {
    const reg = (top + i) & 7;
    c.fpuMant[2 * reg] = r.i32(32 + 16 * i);
    c.fpuMant[2 * reg + 1] = r.i32(36 + 16 * i);
    c.fpuExp[reg] = r.view.getUint16(40 + 16 * i, true);
  }
  c.mxcsr = r.u32(24) & 0xffff;
  c.xmmBytes.set(b.subarray(160, 160 + 256));
}

/**
 * Build a signal frame for `info` on `c` (running thread `t`) and enter the handler of
 * `act`. Throws GuestFault when the stack cannot be written (the caller kills the process).
 */
export function enterHandler(c: Cpu, t: Thread, act: SigAction, info: SigInfo): void {
  const mem: Memory = c.mem;
  const rsp = c.reg64(4);
  const onAlt = t.altFlags !== SS_DISABLE && rsp > t.altSp && rsp <= t.altSp + t.altSize;
  let sp: number;
  if (act.flags & SA_ONSTACK && t.altFlags !== SS_DISABLE && !onAlt) sp = t.altSp + t.altSize;
  else sp = rsp - 128; // the red zone
  sp = Math.floor((sp - FPSTATE_SIZE) / 64) * 64;
  const fpAddr = sp;
  sp = Math.floor((sp - FRAME_SIZE) / 16) * 16 - 8;
  const frame = sp;

  const w = new StructWriter(FRAME_SIZE);
  w.u64(0, act.restorer);
  const uc = 8;
  w.u64(uc + 0, 0x6); // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
  w.u64(uc + 8, 0);
  w.u64(uc + 16, t.altSp);
  w.u32(uc + 24, t.altFlags === SS_DISABLE ? SS_DISABLE : onAlt ? SS_ONSTACK : 0);
  w.u64(uc + 32, t.altSize);
  const mc = uc + MC;
  for (let i = 0; i < 16; i++) {
    const r = GREG_ORDER[i]!;
    w.u32(mc + 8 * i, c.regs[2 * r]!).u32(mc + 8 * i + 4, c.regs[2 * r + 1]!);
  }
  w.u64(mc + 128, c.rip);
  w.u64(mc + 136, c.getFlags());
  w.u16(mc + 144, 0x33).u16(mc + 150, 0x2b); // cs, ss (gs, fs 0)
  w.u64(mc + 152, info.err);
  w.u64(mc + 160, info.trapno);
  w.u64(mc + 168, Number(t.sigMask & 0xffffffffn));
  w.u64(mc + 176, info.cr2);
  w.u64(mc + 184, fpAddr);
  w.u64n(uc + MC + 256, t.sigMask);
  const si = 8 + UC_SIZE;
  w.u32(si, info.sig)
    .u32(si + 4, 0)
    .u32(si + 8, info.code);
  if (info.user) w.u32(si + 16, info.pid).u32(si + 20, info.uid);
  else w.u64(si + 16, info.addr);

  mem.writeChecked(fpAddr, fxsave(c));
  mem.writeChecked(frame, w.bytes);

  // Enter the handler.
  c.setReg64(4, frame);
  c.setReg64(7, info.sig);
  c.setReg64(6, frame + si);
  c.setReg64(2, frame + uc);
  c.setReg64(0, 0);
  c.rip = act.handler;
  c.setFlags(c.getFlags() & ~(0x400 | 0x100 | 0x40000)); // clear DF, TF, AC
  let mask = t.sigMask | act.mask;
  if (!(act.flags & SA_NODEFER)) mask |= sigBit(info.sig);
  t.sigMask = mask & ~UNBLOCKABLE;
}

/**
 * rt_sigreturn: restore the context saved by {@link enterHandler} from the ucontext at RSP
 * (the restorer runs after the handler's `ret` popped the return address).
 */
export function sigreturn(c: Cpu, t: Thread): void {
  const uc = c.reg64(4);
  const b = c.mem.readChecked(uc, UC_SIZE);
  const r = new StructReader(b);
  const mc = MC;
  const fpAddr = r.u64(mc + 184);
  if (fpAddr) fxrstor(c, c.mem.readChecked(fpAddr, FPSTATE_SIZE));
  for (let i = 0; i < 16; i++) {
    const reg = GREG_ORDER[i]!;
    c.regs[2 * reg] = r.i32(mc + 8 * i);
    c.regs[2 * reg + 1] = r.i32(mc + 8 * i + 4);
  }
  c.rip = r.u64(mc + 128);
  const fl = r.u32(mc + 136);
  c.setFlags((c.getFlags() & ~FIX_EFLAGS) | (fl & FIX_EFLAGS));
  t.sigMask = r.u64n(UC_SIZE - 8) & ~UNBLOCKABLE;
  // uc_stack: the kernel restores the alternate stack settings (restore_altstack).
  const ssFlags = r.i32(24);
  if (!(ssFlags & SS_ONSTACK)) {
    t.altSp = r.u64(16);
    t.altSize = r.u64(32);
    t.altFlags = ssFlags & SS_DISABLE ? SS_DISABLE : 0;
  }
}
