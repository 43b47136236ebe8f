/**
 * SIMD/x87 state instructions: LDMXCSR, STMXCSR, FXSAVE(64), FXRSTOR(64), EMMS-free state
 * layout per SDM Vol. 1 §10.5.1 (Table 10-2/10-3, 64-bit format): FCW, FSW, abridged FTW, FOP,
 * FIP, FDP, MXCSR, MXCSR_MASK, ST0-ST7 (16 bytes each, ST order), XMM0-15. FOP/FIP/FDP are
 * stored as zero (not tracked).
 * @module
 */
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import * as st from "../fpu/x87state.ts";
import { ea } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

/** MXCSR bits this CPU implements (DAZ included). */
export const MXCSR_MASK = 0xffff;

function setMxcsr(c: Cpu, v: number, u: Uop): void {
  if (v & ~MXCSR_MASK)
    throw new CpuException(
      Vec.GP,
      `reserved MXCSR bits 0x${(v >>> 0).toString(16)} at 0x${u.ip.toString(16)}`,
    );
  c.mxcsr = v;
}

const ldmxcsr: Handler = (c, u) => setMxcsr(c, c.mem.read32(ea(c, u)), u);
const stmxcsr: Handler = (c, u) => c.mem.write32(ea(c, u), c.mxcsr);

function alignedArea(c: Cpu, u: Uop): number {
  const a = ea(c, u);
  if (a % 16 !== 0) throw new CpuException(Vec.GP, `misaligned FXSAVE area 0x${a.toString(16)}`);
  return a;
}

/** The 512-byte FXSAVE image of `c` (64-bit layout; FOP/FIP/FDP zero). Also for signal frames. */
export function fxsaveImage(c: Cpu): Uint8Array {
  const b = new Uint8Array(512);
  const v = new DataView(b.buffer);
  v.setUint16(0, c.fpuCw, true);
  v.setUint16(2, c.fpuSw, true);
  let ftw = 0;
  for (let p = 0; p < 8; p++) if (!st.isEmpty(c, p)) ftw |= 1 << p;
  b[4] = ftw;
  v.setUint32(24, c.mxcsr, true);
  v.setUint32(28, MXCSR_MASK, true);
  for (let i = 0; i < 8; i++) {
    const p = st.phys(c, i);
    v.setInt32(32 + 16 * i, c.fpuMant[2 * p]!, true);
    v.setInt32(36 + 16 * i, c.fpuMant[2 * p + 1]!, true);
    v.setUint16(40 + 16 * i, c.fpuExp[p]!, true);
  }
  b.set(c.xmmBytes, 160);
  return b;
}

/**
 * Load a 512-byte FXSAVE image into `c`. Throws CpuException(#GP) when the MXCSR field has
 * reserved bits set (nothing is changed then).
 */
export function fxrstorImage(c: Cpu, b: Uint8Array, u?: Uop): void {
  const v = new DataView(b.buffer, b.byteOffset, 512);
  const mx = v.getUint32(24, true);
  if (mx & ~MXCSR_MASK)
    throw new CpuException(
      Vec.GP,
      `reserved MXCSR bits 0x${(mx >>> 0).toString(16)}${u ? ` at 0x${u.ip.toString(16)}` : ""}`,
    );
  c.mxcsr = mx;
  c.fpuCw = (v.getUint16(0, true) & 0x1f7f) | 0x40;
  c.fpuSw = v.getUint16(2, true);
  let tw = 0;
  for (let p = 0; p < 8; p++) if (!(b[4]! & (1 << p))) tw |= 3 << (2 * p);
  c.fpuTw = tw;
  for (let i = 0; i < 8; i++) {
    const p = st.phys(c, i);
    c.fpuMant[2 * p] = v.getInt32(32 + 16 * i, true);
    c.fpuMant[2 * p + 1] = v.getInt32(36 + 16 * i, true);
    c.fpuExp[p] = v.getUint16(40 + 16 * i, true);
  }
  c.xmmBytes.set(b.subarray(160, 416));
}

const fxsave: Handler = (c, u) => c.mem.writeChecked(alignedArea(c, u), fxsaveImage(c));
const fxrstor: Handler = (c, u) => fxrstorImage(c, c.mem.readChecked(alignedArea(c, u), 512), u);

/** Handlers by form name. */
export const SSE_STATE: Record<string, Handler> = {
  ldmxcsr_Md: ldmxcsr,
  stmxcsr_Md: stmxcsr,
  fxsave_Marea: fxsave,
  fxsave64_Marea: fxsave,
  fxrstor_Marea: fxrstor,
  fxrstor64_Marea: fxrstor,
};
