/**
 * SSE2 packed integer instructions on XMM registers: add/sub (wrapping and saturating),
 * multiplies, PMADDWD, PSADBW, PAVG, PMIN/PMAX, logic, compares, packs, unpacks, shuffles,
 * shifts (by register and immediate, PSLLDQ/PSRLDQ), PMOVMSKB, PEXTRW/PINSRW. The MMX (`Pq,Qq`)
 * forms are not implemented and CPUID does not advertise MMX.
 * @module
 */
import { getGpr, readOp, setGpr } from "../ops.ts";
import { type Handler, K } from "../uop.ts";
import {
  A8,
  A8s,
  A16,
  A16u,
  A32,
  A32u,
  B8,
  B8s,
  B16,
  B16u,
  B32,
  B32u,
  loadA,
  loadB,
  R8,
  R16,
  R16u,
  R32,
  storeR,
} from "./sse-ops.ts";

/** A two-operand packed op on Vx,Wx: compute R from A and B. */
function vx(compute: () => void): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, true);
    compute();
    storeR(c, u.r0);
  };
}

const sat8s = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const sat8u = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
const sat16s = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const sat16u = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);

function bytes(f: (a: number, b: number) => number, signed: boolean): () => void {
  return signed
    ? () => {
        for (let i = 0; i < 16; i++) R8[i] = f(A8s[i]!, B8s[i]!);
      }
    : () => {
        for (let i = 0; i < 16; i++) R8[i] = f(A8[i]!, B8[i]!);
      };
}
function words(f: (a: number, b: number) => number, signed: boolean): () => void {
  return signed
    ? () => {
        for (let i = 0; i < 8; i++) R16[i] = f(A16[i]!, B16[i]!);
      }
    : () => {
        for (let i = 0; i < 8; i++) R16u[i] = f(A16u[i]!, B16u[i]!);
      };
}
function dwords(f: (a: number, b: number) => number): () => void {
  return () => {
    for (let i = 0; i < 4; i++) R32[i] = f(A32[i]!, B32[i]!);
  };
}

/** 64-bit lane add/sub on int32 halves. */
function qwords(sub: boolean): () => void {
  return () => {
    for (let i = 0; i < 4; i += 2) {
      const alo = A32[i]! >>> 0;
      const blo = B32[i]! >>> 0;
      if (sub) {
        const d = alo - blo;
        R32[i] = d | 0;
        R32[i + 1] = (A32[i + 1]! - B32[i + 1]! - (d < 0 ? 1 : 0)) | 0;
      } else {
        const s = alo + blo;
        R32[i] = s | 0;
        R32[i + 1] = (A32[i + 1]! + B32[i + 1]! + (s > 0xffffffff ? 1 : 0)) | 0;
      }
    }
  };
}

const pmuludq = (): void => {
  for (let i = 0; i < 4; i += 2) {
    const a = A32u[i]!;
    const b = B32u[i]!;
    // 32x32 → 64 exactly, split in 16-bit parts.
    const al = a & 0xffff;
    const ah = a >>> 16;
    const bl = b & 0xffff;
    const bh = b >>> 16;
    const ll = al * bl;
    const mid = ah * bl + al * bh; // < 2^33
    const lo = ll + (mid % 65536) * 65536;
    const hi = ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296);
    R32[i] = lo | 0;
    R32[i + 1] = hi | 0;
  }
};

const pmaddwd = (): void => {
  for (let i = 0; i < 4; i++) R32[i] = (A16[2 * i]! * B16[2 * i]! + A16[2 * i + 1]! * B16[2 * i + 1]!) | 0;
};

const psadbw = (): void => {
  for (let h = 0; h < 2; h++) {
    let s = 0;
    for (let i = 0; i < 8; i++) s += Math.abs(A8[8 * h + i]! - B8[8 * h + i]!);
    R32[2 * h] = s;
    R32[2 * h + 1] = 0;
  }
};

function pack(kind: "sswb" | "ssdw" | "uswb"): () => void {
  return () => {
    if (kind === "ssdw") {
      for (let i = 0; i < 4; i++) {
        R16[i] = sat16s(A32[i]!);
        R16[i + 4] = sat16s(B32[i]!);
      }
    } else {
      const sat = kind === "sswb" ? sat8s : sat8u;
      for (let i = 0; i < 8; i++) {
        R8[i] = sat(A16[i]!);
        R8[i + 8] = sat(B16[i]!);
      }
    }
  };
}

/** PUNPCKL/H: interleave lanes of `bytesPer` bytes from the low or high halves. */
function unpack(bytesPer: number, high: boolean): () => void {
  return () => {
    const base = high ? 8 : 0;
    const n = 8 / bytesPer;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < bytesPer; k++) {
        R8[2 * i * bytesPer + k] = A8[base + i * bytesPer + k]!;
        R8[(2 * i + 1) * bytesPer + k] = B8[base + i * bytesPer + k]!;
      }
    }
  };
}

const pshufd: Handler = (c, u) => {
  loadB(c, u, 1, true);
  const imm = u.immLo;
  for (let i = 0; i < 4; i++) R32[i] = B32[(imm >> (2 * i)) & 3]!;
  storeR(c, u.r0);
};
function pshufw(high: boolean): Handler {
  return (c, u) => {
    loadB(c, u, 1, true);
    const imm = u.immLo;
    R32.set(B32);
    const o = high ? 4 : 0;
    for (let i = 0; i < 4; i++) R16[o + i] = B16[o + ((imm >> (2 * i)) & 3)]!;
    storeR(c, u.r0);
  };
}

/** Shift counts from the source's low 64 bits (any high half set → huge). */
function countOf(kind: number, lo: number, hi: number): number {
  if (kind === K.Imm) return lo & 0xff;
  return hi !== 0 || lo < 0 ? 1000 : lo;
}

/** PSRL/PSRA/PSLL W/D/Q by Wx (count in the low 64 bits) or Ib. */
function shift(width: number, kind: "l" | "r" | "a"): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    let n: number;
    if (u.k1 === K.Imm) n = u.immLo & 0xff;
    else {
      loadB(c, u, 1, true);
      n = countOf(K.Xmm, B32[0]!, B32[1]!);
    }
    if (width === 16) {
      for (let i = 0; i < 8; i++) {
        if (kind === "a") R16[i] = A16[i]! >> Math.min(n, 15);
        else if (n > 15) R16[i] = 0;
        else R16u[i] = kind === "l" ? A16u[i]! << n : A16u[i]! >>> n;
      }
    } else if (width === 32) {
      for (let i = 0; i < 4; i++) {
        if (kind === "a") R32[i] = A32[i]! >> Math.min(n, 31);
        else if (n > 31) R32[i] = 0;
        else R32[i] = kind === "l" ? A32[i]! << n : A32[i]! >>> n;
      }
    } else {
      for (let i = 0; i < 4; i += 2) {
        const lo = A32[i]!;
        const hi = A32[i + 1]!;
        if (n > 63) {
          R32[i] = 0;
          R32[i + 1] = 0;
        } else if (n === 0) {
          R32[i] = lo;
          R32[i + 1] = hi;
        } else if (kind === "l") {
          if (n >= 32) {
            R32[i + 1] = lo << (n - 32);
            R32[i] = 0;
          } else {
            R32[i + 1] = (hi << n) | (lo >>> (32 - n));
            R32[i] = lo << n;
          }
        } else if (n >= 32) {
          R32[i] = hi >>> (n - 32);
          R32[i + 1] = 0;
        } else {
          R32[i] = (lo >>> n) | (hi << (32 - n));
          R32[i + 1] = hi >>> n;
        }
      }
    }
    storeR(c, u.r0);
  };
}

/** PSLLDQ/PSRLDQ Ux, Ib: byte shifts of the whole register. */
function shiftBytes(left: boolean): Handler {
  return (c, u) => {
    loadA(c, u.r0);
    const n = u.immLo & 0xff;
    for (let i = 0; i < 16; i++) {
      const j = left ? i - n : i + n;
      R8[i] = j >= 0 && j < 16 ? A8[j]! : 0;
    }
    storeR(c, u.r0);
  };
}

const pmovmskb: Handler = (c, u) => {
  loadB(c, u, 1, false);
  let m = 0;
  for (let i = 0; i < 16; i++) m |= (B8[i]! >> 7) << i;
  setGpr(c, u.r0, u.s0 === 8 ? 8 : 4, 0, m, 0);
};

const pextrw: Handler = (c, u) => {
  loadB(c, u, 1, false);
  setGpr(c, u.r0, u.s0 === 8 ? 8 : 4, 0, B16u[u.immLo & 7]!, 0);
};

const pinsrw: Handler = (c, u) => {
  const v = u.k1 === K.Gpr ? getGpr(c, u.r1, 4, 0) : readOp(c, u, 1);
  const i = (u.r0 << 3) + (u.immLo & 7);
  // 16-bit lanes of the XMM file: lane i of register r is bytes 2i..2i+1.
  c.xmmBytes[2 * i] = v & 0xff;
  c.xmmBytes[2 * i + 1] = (v >> 8) & 0xff;
};

const b = (f: (a: number, b: number) => number, s = false): Handler => vx(bytes(f, s));
const w = (f: (a: number, b: number) => number, s = false): Handler => vx(words(f, s));
const d = (f: (a: number, b: number) => number): Handler => vx(dwords(f));

/** Handlers by form name. */
export const SSE_INT: Record<string, Handler> = {
  paddb_Vx_Wx: b((x, y) => x + y),
  paddw_Vx_Wx: w((x, y) => x + y),
  paddd_Vx_Wx: d((x, y) => (x + y) | 0),
  paddq_Vx_Wx: vx(qwords(false)),
  psubb_Vx_Wx: b((x, y) => x - y),
  psubw_Vx_Wx: w((x, y) => x - y),
  psubd_Vx_Wx: d((x, y) => (x - y) | 0),
  psubq_Vx_Wx: vx(qwords(true)),
  paddsb_Vx_Wx: b((x, y) => sat8s(x + y), true),
  paddsw_Vx_Wx: w((x, y) => sat16s(x + y), true),
  paddusb_Vx_Wx: b((x, y) => sat8u(x + y)),
  paddusw_Vx_Wx: w((x, y) => sat16u(x + y)),
  psubsb_Vx_Wx: b((x, y) => sat8s(x - y), true),
  psubsw_Vx_Wx: w((x, y) => sat16s(x - y), true),
  psubusb_Vx_Wx: b((x, y) => sat8u(x - y)),
  psubusw_Vx_Wx: w((x, y) => sat16u(x - y)),
  pmullw_Vx_Wx: w((x, y) => Math.imul(x, y), true),
  pmulhw_Vx_Wx: w((x, y) => (x * y) >> 16, true),
  pmulhuw_Vx_Wx: w((x, y) => (x * y) >>> 16),
  pmuludq_Vx_Wx: vx(pmuludq),
  pmaddwd_Vx_Wx: vx(pmaddwd),
  psadbw_Vx_Wx: vx(psadbw),
  pavgb_Vx_Wx: b((x, y) => (x + y + 1) >> 1),
  pavgw_Vx_Wx: w((x, y) => (x + y + 1) >> 1),
  pminub_Vx_Wx: b((x, y) => (x < y ? x : y)),
  pmaxub_Vx_Wx: b((x, y) => (x > y ? x : y)),
  pminsw_Vx_Wx: w((x, y) => (x < y ? x : y), true),
  pmaxsw_Vx_Wx: w((x, y) => (x > y ? x : y), true),
  pand_Vx_Wx: d((x, y) => x & y),
  pandn_Vx_Wx: d((x, y) => ~x & y),
  por_Vx_Wx: d((x, y) => x | y),
  pxor_Vx_Wx: d((x, y) => x ^ y),
  pcmpeqb_Vx_Wx: b((x, y) => (x === y ? 0xff : 0)),
  pcmpeqw_Vx_Wx: w((x, y) => (x === y ? 0xffff : 0)),
  pcmpeqd_Vx_Wx: d((x, y) => (x === y ? -1 : 0)),
  pcmpgtb_Vx_Wx: b((x, y) => (x > y ? 0xff : 0), true),
  pcmpgtw_Vx_Wx: w((x, y) => (x > y ? -1 : 0), true),
  pcmpgtd_Vx_Wx: d((x, y) => (x > y ? -1 : 0)),
  packsswb_Vx_Wx: vx(pack("sswb")),
  packssdw_Vx_Wx: vx(pack("ssdw")),
  packuswb_Vx_Wx: vx(pack("uswb")),
  punpcklbw_Vx_Wx: vx(unpack(1, false)),
  punpcklwd_Vx_Wx: vx(unpack(2, false)),
  punpckldq_Vx_Wx: vx(unpack(4, false)),
  punpcklqdq_Vx_Wx: vx(unpack(8, false)),
  punpckhbw_Vx_Wx: vx(unpack(1, true)),
  punpckhwd_Vx_Wx: vx(unpack(2, true)),
  punpckhdq_Vx_Wx: vx(unpack(4, true)),
  punpckhqdq_Vx_Wx: vx(unpack(8, true)),
  unpcklps_Vps_Wps: vx(unpack(4, false)),
  unpckhps_Vps_Wps: vx(unpack(4, true)),
  unpcklpd_Vpd_Wpd: vx(unpack(8, false)),
  unpckhpd_Vpd_Wpd: vx(unpack(8, true)),
  pshufd_Vx_Wx_Ib: pshufd,
  pshuflw_Vx_Wx_Ib: pshufw(false),
  pshufhw_Vx_Wx_Ib: pshufw(true),
  psrlw_Vx_Wx: shift(16, "r"),
  psraw_Vx_Wx: shift(16, "a"),
  psllw_Vx_Wx: shift(16, "l"),
  psrld_Vx_Wx: shift(32, "r"),
  psrad_Vx_Wx: shift(32, "a"),
  pslld_Vx_Wx: shift(32, "l"),
  psrlq_Vx_Wx: shift(64, "r"),
  psllq_Vx_Wx: shift(64, "l"),
  psrlw_Ux_Ib: shift(16, "r"),
  psraw_Ux_Ib: shift(16, "a"),
  psllw_Ux_Ib: shift(16, "l"),
  psrld_Ux_Ib: shift(32, "r"),
  psrad_Ux_Ib: shift(32, "a"),
  pslld_Ux_Ib: shift(32, "l"),
  psrlq_Ux_Ib: shift(64, "r"),
  psllq_Ux_Ib: shift(64, "l"),
  psrldq_Ux_Ib: shiftBytes(false),
  pslldq_Ux_Ib: shiftBytes(true),
  pmovmskb_Gy_Ux: pmovmskb,
  pextrw_Gd_Udq_Ib: pextrw,
  pinsrw_Vdq_Rd_Ib: pinsrw,
  pinsrw_Vdq_Mw_Ib: pinsrw,
  shufps_Vps_Wps_Ib: (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, true);
    const imm = u.immLo;
    R32[0] = A32[imm & 3]!;
    R32[1] = A32[(imm >> 2) & 3]!;
    R32[2] = B32[(imm >> 4) & 3]!;
    R32[3] = B32[(imm >> 6) & 3]!;
    storeR(c, u.r0);
  },
  shufpd_Vpd_Wpd_Ib: (c, u) => {
    loadA(c, u.r0);
    loadB(c, u, 1, true);
    const imm = u.immLo;
    const i = imm & 1 ? 2 : 0;
    const j = imm & 2 ? 2 : 0;
    R32[0] = A32[i]!;
    R32[1] = A32[i + 1]!;
    R32[2] = B32[j]!;
    R32[3] = B32[j + 1]!;
    storeR(c, u.r0);
  },
};
