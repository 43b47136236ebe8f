/**
 * Data movement: MOV, MOVZX/MOVSX/MOVSXD, LEA, XCHG, PUSH/POP, LEAVE, CBW/CWDE/CDQE,
 * CWD/CDQ/CQO, CMOVcc, SETcc, NOP and hint NOPs, ENDBR.
 * @module
 */
import { CONDITION_CODES, type Cpu } from "../cpu.ts";
import { ea, getGpr, pop64, push64, readOp, setGpr, writeOp } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";

const mov: Handler = (c, u) => {
  const v = readOp(c, u, 1);
  writeOp(c, u, 0, v, c.hi);
};

/** MOV r/m, imm32 sign-extended to 64 (C7 with REX.W) is covered by readOp (immHi is the sign). */
const lea: Handler = (c, u) => {
  const a = u.mAbs >= 0 ? u.mAbs : leaAddress(c, u);
  setGpr(c, u.r0, u.s0, 0, a | 0, Math.floor(a / 4294967296) | 0);
};

/** LEA computes modulo 2^64 without canonical checks (no memory access). */
function leaAddress(c: Cpu, u: Uop): number {
  // Use BigInt only when the plain sum may leave the exact range.
  let a = u.mDisp;
  const regs = c.regs;
  if (u.mBase >= 0) a += (regs[2 * u.mBase + 1]! >>> 0) * 4294967296 + (regs[2 * u.mBase]! >>> 0);
  if (u.mIndex >= 0)
    a += ((regs[2 * u.mIndex + 1]! >>> 0) * 4294967296 + (regs[2 * u.mIndex]! >>> 0)) * u.mScale;
  if (a >= 0 && a < 2 ** 53) return a;
  let n = BigInt(u.mDisp);
  if (u.mBase >= 0) n += c.reg64n(u.mBase);
  if (u.mIndex >= 0) n += c.reg64n(u.mIndex) * BigInt(u.mScale);
  n &= 0xffffffffffffffffn;
  // Return as a number whose low/high halves are exact: split explicitly.
  const lo = Number(n & 0xffffffffn);
  const hi = Number(n >> 32n);
  return hi * 4294967296 + lo; // may be inexact above 2^53; the caller splits via | 0 and floor
}

const leaExact: Handler = (c, u) => {
  if (u.mAbs >= 0) {
    setGpr(c, u.r0, u.s0, 0, u.mAbs | 0, Math.floor(u.mAbs / 4294967296) | 0);
    return;
  }
  let a = u.mDisp;
  const regs = c.regs;
  if (u.asize === 4) {
    // 32-bit address size (67): the low halves only, modulo 2^32, zero-extended.
    if (u.mBase >= 0) a += regs[2 * u.mBase]! >>> 0;
    if (u.mIndex >= 0) a += (regs[2 * u.mIndex]! >>> 0) * u.mScale;
    setGpr(c, u.r0, u.s0, 0, a | 0, 0);
    return;
  }
  // 64-bit: add the halves exactly (no BigInt): low parts in a double, carry into the high part.
  const disp = u.mDisp;
  let L = disp >>> 0;
  let H = disp < 0 ? -1 : 0;
  if (u.mBase >= 0) {
    L += regs[2 * u.mBase]! >>> 0;
    H += regs[2 * u.mBase + 1]!;
  }
  if (u.mIndex >= 0) {
    L += (regs[2 * u.mIndex]! >>> 0) * u.mScale;
    H += Math.imul(regs[2 * u.mIndex + 1]!, u.mScale);
  }
  setGpr(c, u.r0, u.s0, 0, L | 0, (H + Math.floor(L / 4294967296)) | 0);
};
void lea;

/** MOVZX: source read at its size, zero-extended. */
const movzx: Handler = (c, u) => {
  const v = readOp(c, u, 1);
  setGpr(c, u.r0, u.s0, 0, v, 0);
};

/** MOVSX/MOVSXD: source sign-extended. */
const movsx: Handler = (c, u) => {
  let v = readOp(c, u, 1);
  const s = u.s1;
  if (s === 1) v = (v << 24) >> 24;
  else if (s === 2) v = (v << 16) >> 16;
  setGpr(c, u.r0, u.s0, 0, v, v < 0 ? -1 : 0);
};

const xchg: Handler = (c, u) => {
  const a = readOp(c, u, 0);
  const ah = c.hi;
  const b = readOp(c, u, 1);
  const bh = c.hi;
  writeOp(c, u, 0, b, bh);
  writeOp(c, u, 1, a, ah);
};

const push: Handler = (c, u) => {
  const v = readOp(c, u, 0);
  let hi = c.hi;
  if (u.k0 === K.Imm) hi = u.immHi;
  if (u.osize === 2) {
    const sp = c.reg64(4) - 2;
    c.mem.write16(sp, v);
    c.setReg64(4, sp);
    return;
  }
  push64(c, v, u.k0 === K.Gpr || u.k0 === K.Mem ? hi : hi);
};

const pop: Handler = (c, u) => {
  if (u.osize === 2) {
    const sp = c.reg64(4);
    const v = c.mem.read16(sp);
    c.setReg64(4, sp + 2);
    writeOp(c, u, 0, v, 0);
    return;
  }
  // POP with a memory operand that uses RSP computes the address after the increment.
  const lo = pop64(c);
  writeOp(c, u, 0, lo, c.hi);
};

const leave: Handler = (c, u) => {
  c.regs[8] = c.regs[10]!;
  c.regs[9] = c.regs[11]!;
  if (u.osize === 2) {
    // LEAVEW: pop 16 bits into BP (the rest of RBP unchanged).
    const sp = c.reg64(4);
    const v = c.mem.read16(sp);
    c.setReg64(4, sp + 2);
    c.regs[10] = (c.regs[10]! & ~0xffff) | v;
    return;
  }
  const lo = pop64(c);
  c.regs[10] = lo;
  c.regs[11] = c.hi;
};

/** CBW/CWDE/CDQE: sign-extend the low half of rAX into the whole. */
const cbw: Handler = (c, u) => {
  const r = c.regs;
  if (u.osize === 2) r[0] = (r[0]! & ~0xffff) | (((r[0]! << 24) >> 24) & 0xffff);
  else if (u.osize === 4) {
    r[0] = (r[0]! << 16) >> 16;
    r[1] = 0;
  } else r[1] = r[0]! < 0 ? -1 : 0;
};

/** CWD/CDQ/CQO: sign of rAX into rDX. */
const cwd: Handler = (c, u) => {
  const r = c.regs;
  if (u.osize === 2) r[4] = (r[4]! & ~0xffff) | ((r[0]! << 16) >> 16 < 0 ? 0xffff : 0);
  else if (u.osize === 4) {
    r[4] = r[0]! < 0 ? -1 : 0;
    r[5] = 0;
  } else {
    const s = r[1]! < 0 ? -1 : 0;
    r[4] = s;
    r[5] = s;
  }
};

const nop: Handler = () => {};

function cmov(cc: number): Handler {
  return (c, u) => {
    const v = readOp(c, u, 1); // the source is read (and may fault) even when the condition is false
    if (c.cond(cc)) writeOp(c, u, 0, v, c.hi);
    else if (u.s0 === 4) c.regs[2 * u.r0 + 1] = 0; // 32-bit CMOV zero-extends even when not moving
  };
}

function setcc(cc: number): Handler {
  return (c, u) => writeOp(c, u, 0, c.cond(cc) ? 1 : 0, 0);
}

const CC = CONDITION_CODES;

/** Handlers by form name. */
export const MOVE: Record<string, Handler> = {
  mov_Eb_Gb: mov,
  mov_Ev_Gv: mov,
  mov_Gb_Eb: mov,
  mov_Gv_Ev: mov,
  mov_AL_Ob: mov,
  mov_rAX_Ov: mov,
  mov_Ob_AL: mov,
  mov_Ov_rAX: mov,
  movabs_AL_Ob: mov,
  movabs_rAX_Ov: mov,
  movabs_Ob_AL: mov,
  movabs_Ov_rAX: mov,
  mov_Zb_Ib: mov,
  mov_Zv_Iv: mov,
  movabs_Zv_Iv: mov,
  mov_Eb_Ib: mov,
  mov_Ev_Iz: mov,
  lea_Gv_M: leaExact,
  movzbw_Gv_Eb: movzx,
  movzbl_Gv_Eb: movzx,
  movzbq_Gv_Eb: movzx,
  movzww_Gv_Ew: movzx,
  movzwl_Gv_Ew: movzx,
  movzwq_Gv_Ew: movzx,
  movsbw_Gv_Eb: movsx,
  movsbl_Gv_Eb: movsx,
  movsbq_Gv_Eb: movsx,
  movsww_Gv_Ew: movsx,
  movswl_Gv_Ew: movsx,
  movswq_Gv_Ew: movsx,
  movslq_Gv_Ed: movsx,
  movsxd_Gv_Ed: movsx,
  xchg_Eb_Gb: xchg,
  xchg_Ev_Gv: xchg,
  xchg_Zv_rAX: xchg,
  push_Zv: push,
  push_Ev: push,
  push_Iz: push,
  push_Ibs: push,
  pushw_Iz: push,
  pushw_Ibs: push,
  pop_Zv: pop,
  pop_Ev: pop,
  leave: leave,
  leavew: leave,
  cbtw: cbw,
  cwtl: cbw,
  cltq: cbw,
  cwtd: cwd,
  cltd: cwd,
  cqto: cwd,
  nop: nop,
  nop_Ev: nop,
  pause: nop,
  endbr64: nop,
  endbr32: nop,
  prefetchnta_Mb: nop,
  prefetcht0_Mb: nop,
  prefetcht1_Mb: nop,
  prefetcht2_Mb: nop,
  prefetchw_Mb: nop,
  prefetch_Mb: nop,
};
CC.forEach((cc, i) => {
  MOVE[`cmov${cc}_Gv_Ev`] = cmov(i);
  MOVE[`set${cc}_Eb`] = setcc(i);
});
void ea;
void getGpr;
