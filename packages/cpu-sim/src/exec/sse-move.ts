/**
 * SSE/SSE2 data movement: MOVAPS/MOVUPS/MOVAPD/MOVUPD/MOVDQA/MOVDQU, MOVSS/MOVSD, MOVLPS/
 * MOVHPS/MOVLPD/MOVHPD/MOVHLPS/MOVLHPS, MOVD/MOVQ between XMM and GPR/memory, MOVNT*,
 * MASKMOVDQU. Moves copy bits as int32 lanes (NaN payloads are never touched by JS arithmetic).
 * @module
 */
import type { Cpu } from "../cpu.ts";
import { ea, readOp, writeOp } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";
import { B32, checkAlign, loadB, writeMem128 } from "./sse-ops.ts";

/** Full 128-bit move, register or memory on either side. */
function mov128(aligned: boolean): Handler {
  return (c, u) => {
    if (u.k0 === K.Xmm) {
      loadB(c, u, 1, aligned);
      c.xmm.set(B32, u.r0 << 2);
    } else {
      const a = ea(c, u);
      if (aligned) checkAlign(a, u);
      writeMem128(c, a, 16, c.xmm, u.r1 << 2);
    }
  };
}

/** MOVSS/MOVSD: register to register merges the low lane; a load zeroes the rest; a store writes the low lane. */
function movScalar(lanes: number): Handler {
  return (c, u) => {
    const x = c.xmm;
    if (u.k0 === K.Xmm) {
      const d = u.r0 << 2;
      if (u.k1 === K.Xmm) {
        const s = u.r1 << 2;
        x[d] = x[s]!;
        if (lanes === 2) x[d + 1] = x[s + 1]!;
      } else {
        loadB(c, u, 1, false);
        x.set(B32, d);
      }
    } else writeMem128(c, ea(c, u), lanes * 4, x, u.r1 << 2);
  };
}

/** Load/store one 64-bit half (`high`) of an XMM register from/to memory (MOVLPS/MOVHPS/MOVLPD/MOVHPD). */
function movHalf(high: boolean): Handler {
  return (c, u) => {
    const x = c.xmm;
    const o = high ? 2 : 0;
    if (u.k0 === K.Xmm) {
      const a = ea(c, u);
      const lo = c.mem.read64(a);
      const d = (u.r0 << 2) + o;
      x[d] = lo;
      x[d + 1] = c.mem.hi;
    } else writeMem128(c, ea(c, u), 8, x, (u.r1 << 2) + o);
  };
}

const movhlps: Handler = (c, u) => {
  const x = c.xmm;
  const d = u.r0 << 2;
  const s = u.r1 << 2;
  x[d] = x[s + 2]!;
  x[d + 1] = x[s + 3]!;
};
const movlhps: Handler = (c, u) => {
  const x = c.xmm;
  const d = u.r0 << 2;
  const s = u.r1 << 2;
  x[d + 2] = x[s]!;
  x[d + 3] = x[s + 1]!;
};

/** MOVD/MOVQ xmm, r/m32/64: zero-extend into the register. */
const movToXmm: Handler = (c, u) => {
  const lo = readOp(c, u, 1);
  const d = u.r0 << 2;
  const x = c.xmm;
  x[d] = lo;
  x[d + 1] = u.s1 === 8 ? c.hi : 0;
  x[d + 2] = 0;
  x[d + 3] = 0;
};

/** MOVD/MOVQ r/m32/64, xmm. */
const movFromXmm: Handler = (c, u) => {
  const s = u.r1 << 2;
  writeOp(c, u, 0, c.xmm[s]!, c.xmm[s + 1]!);
};

/** MOVQ xmm, xmm/m64 (F3 0F 7E): the upper half is zeroed. */
const movqLoad: Handler = (c, u) => {
  loadB(c, u, 1, false);
  const d = u.r0 << 2;
  const x = c.xmm;
  x[d] = B32[0]!;
  x[d + 1] = B32[1]!;
  x[d + 2] = 0;
  x[d + 3] = 0;
};

/** MOVQ xmm/m64, xmm (66 0F D6): a register destination has its upper half zeroed. */
const movqStore: Handler = (c, u) => {
  const s = u.r1 << 2;
  const x = c.xmm;
  if (u.k0 === K.Xmm) {
    const d = u.r0 << 2;
    x[d] = x[s]!;
    x[d + 1] = x[s + 1]!;
    x[d + 2] = 0;
    x[d + 3] = 0;
  } else writeMem128(c, ea(c, u), 8, x, s);
};

/** MOVNTI m32/64, r. */
const movnti: Handler = (c: Cpu, u: Uop) => {
  const lo = readOp(c, u, 1);
  writeOp(c, u, 0, lo, c.hi);
};

/** MASKMOVDQU xmm1, xmm2: store the bytes of xmm1 whose mask byte in xmm2 has its top bit set, at [rDI]. */
const maskmovdqu: Handler = (c, u) => {
  const base = u.asize === 4 ? c.regs[14]! >>> 0 : c.reg64(7);
  const xb = c.xmmBytes;
  for (let i = 0; i < 16; i++) if (xb[(u.r1 << 4) + i]! & 0x80) c.mem.write8(base + i, xb[(u.r0 << 4) + i]!);
};

/** Handlers by form name. */
export const SSE_MOVE: Record<string, Handler> = {
  movups_Vps_Wps: mov128(false),
  movups_Wps_Vps: mov128(false),
  movupd_Vpd_Wpd: mov128(false),
  movupd_Wpd_Vpd: mov128(false),
  movdqu_Vx_Wx: mov128(false),
  movdqu_Wx_Vx: mov128(false),
  movaps_Vps_Wps: mov128(true),
  movaps_Wps_Vps: mov128(true),
  movapd_Vpd_Wpd: mov128(true),
  movapd_Wpd_Vpd: mov128(true),
  movdqa_Vx_Wx: mov128(true),
  movdqa_Wx_Vx: mov128(true),
  movntps_Mps_Vps: mov128(true),
  movntpd_Mpd_Vpd: mov128(true),
  movntdq_Mx_Vx: mov128(true),
  movss_Vss_Wss: movScalar(1),
  movss_Wss_Vss: movScalar(1),
  movsd_Vsd_Wsd: movScalar(2),
  movsd_Wsd_Vsd: movScalar(2),
  movlps_Vq_Mq: movHalf(false),
  movlps_Mq_Vq: movHalf(false),
  movlpd_Vq_Mq: movHalf(false),
  movlpd_Mq_Vq: movHalf(false),
  movhps_Vq_Mq: movHalf(true),
  movhps_Mq_Vq: movHalf(true),
  movhpd_Vq_Mq: movHalf(true),
  movhpd_Mq_Vq: movHalf(true),
  movhlps_Vq_Uq: movhlps,
  movlhps_Vq_Uq: movlhps,
  movd_Vdq_Ed: movToXmm,
  movq_Vdq_Eq: movToXmm,
  movd_Ed_Vdq: movFromXmm,
  movq_Eq_Vdq: movFromXmm,
  movq_Vq_Wq: movqLoad,
  movq_Wq_Vq: movqStore,
  movnti_My_Gy: movnti,
  maskmovdqu_Vdq_Udq: maskmovdqu,
};
