/**
 * Read-modify-write exchanges: XADD, CMPXCHG, CMPXCHG8B, CMPXCHG16B. Instructions execute
 * whole on one vCPU, so a LOCK prefix needs nothing more than the cost the profile charges.
 * @module
 */
import { type Cpu, FL, LF, maskOf } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import { ea, getGpr, readOp, setGpr, writeOp } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";

/** XADD Ev, Gv: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (flags as ADD). */
const xadd: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const a = readOp(c, u, 0);
  const ah = c.hi;
  const b = readOp(c, u, 1);
  const bh = c.hi;
  let r: number;
  let rh = 0;
  if (size === 8) {
    const s = (a >>> 0) + (b >>> 0);
    r = s | 0;
    rh = (ah + bh + (s > 0xffffffff ? 1 : 0)) | 0;
  } else r = size === 4 ? (a + b) | 0 : (a + b) & maskOf(size);
  c.setLazy(LF.Add, size, a, ah, b, bh, r, rh);
  if (u.k0 === K.Mem) {
    // The memory operand first: its address may use the source register.
    writeOp(c, u, 0, r, rh);
    writeOp(c, u, 1, a, ah);
  } else {
    // Registers: DEST last, so that XADD r, r leaves the sum.
    writeOp(c, u, 1, a, ah);
    writeOp(c, u, 0, r, rh);
  }
};

/**
 * CMPXCHG Ev, Gv: compare rAX with DEST (flags as CMP rAX, DEST); equal → DEST = SRC, else
 * rAX = DEST. (A memory destination is written in both cases on real CPUs; writing it back
 * unchanged is unobservable here.)
 */
const cmpxchg: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const d = readOp(c, u, 0);
  const dh = c.hi;
  const a = getGpr(c, 0, size, 0);
  const ah = c.hi;
  let r: number;
  let rh = 0;
  if (size === 8) {
    const x = (a >>> 0) - (d >>> 0);
    r = x | 0;
    rh = (ah - dh - (x < 0 ? 1 : 0)) | 0;
  } else r = size === 4 ? (a - d) | 0 : (a - d) & maskOf(size);
  c.setLazy(LF.Sub, size, a, ah, d, dh, r, rh);
  if (r === 0 && rh === 0) {
    const s = readOp(c, u, 1);
    writeOp(c, u, 0, s, c.hi);
  } else setGpr(c, 0, size, 0, d, dh);
};

/** Set ZF only (CMPXCHG8B/16B leave the other flags alone). */
function setZf(c: Cpu, z: boolean): void {
  c.materialize();
  c.flags = (c.flags & ~FL.ZF) | (z ? FL.ZF : 0);
}

/** CMPXCHG8B m64: EDX:EAX vs m64; equal → m64 = ECX:EBX, else EDX:EAX = m64. */
const cmpxchg8b: Handler = (c: Cpu, u: Uop) => {
  const a = ea(c, u);
  const m = c.mem;
  const lo = m.read32(a);
  const hi = m.read32(a + 4);
  const r = c.regs;
  const eq = lo === r[0] && hi === r[4];
  setZf(c, eq);
  if (eq) m.write64(a, r[6]!, r[2]!);
  else {
    r[0] = lo;
    r[1] = 0;
    r[4] = hi;
    r[5] = 0;
  }
};

/** CMPXCHG16B m128: RDX:RAX vs m128 (16-byte aligned, else #GP); equal → m128 = RCX:RBX. */
const cmpxchg16b: Handler = (c: Cpu, u: Uop) => {
  const a = ea(c, u);
  if (a % 16 !== 0) throw new CpuException(Vec.GP, `cmpxchg16b: unaligned operand 0x${a.toString(16)}`);
  const m = c.mem;
  const l0 = m.read64(a);
  const l1 = m.hi;
  const h0 = m.read64(a + 8);
  const h1 = m.hi;
  const r = c.regs;
  const eq = l0 === r[0] && l1 === r[1] && h0 === r[4] && h1 === r[5];
  setZf(c, eq);
  if (eq) {
    m.write64(a + 8, r[2]!, r[3]!);
    m.write64(a, r[6]!, r[7]!);
  } else {
    r[0] = l0;
    r[1] = l1;
    r[4] = h0;
    r[5] = h1;
  }
};

/** Handlers by form name. */
export const ATOMIC: Record<string, Handler> = {
  xadd_Eb_Gb: xadd,
  xadd_Ev_Gv: xadd,
  cmpxchg_Eb_Gb: cmpxchg,
  cmpxchg_Ev_Gv: cmpxchg,
  cmpxchg8b_Mq: cmpxchg8b,
  cmpxchg16b_Mdq: cmpxchg16b,
};
