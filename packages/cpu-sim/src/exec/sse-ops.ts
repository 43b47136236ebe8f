/**
 * Operand plumbing shared by the SSE/SSE2 handlers: 128-bit scratch registers (A = destination
 * and first source, B = second source, R = result) with typed views of every lane width, loads
 * of register or memory sources (with the legacy-SSE 16-byte alignment rule), stores, and MXCSR
 * exception reporting. SAFETY: the lane views assume a little-endian host (x86-64 and arm64).
 * @module
 */
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import { ea } from "../ops.ts";
import { K, type Uop } from "../uop.ts";

const BUF = new ArrayBuffer(48);
/** Scratch A (destination's old value), B (source), R (result): 4 int32 lanes each. */
export const A32: Int32Array = new Int32Array(BUF, 0, 4);
export const B32: Int32Array = new Int32Array(BUF, 16, 4);
export const R32: Int32Array = new Int32Array(BUF, 32, 4);
export const A8: Uint8Array = new Uint8Array(BUF, 0, 16);
export const B8: Uint8Array = new Uint8Array(BUF, 16, 16);
export const R8: Uint8Array = new Uint8Array(BUF, 32, 16);
export const A8s: Int8Array = new Int8Array(BUF, 0, 16);
export const B8s: Int8Array = new Int8Array(BUF, 16, 16);
export const A16: Int16Array = new Int16Array(BUF, 0, 8);
export const B16: Int16Array = new Int16Array(BUF, 16, 8);
export const R16: Int16Array = new Int16Array(BUF, 32, 8);
export const A16u: Uint16Array = new Uint16Array(BUF, 0, 8);
export const B16u: Uint16Array = new Uint16Array(BUF, 16, 8);
export const R16u: Uint16Array = new Uint16Array(BUF, 32, 8);
export const A32u: Uint32Array = new Uint32Array(BUF, 0, 4);
export const B32u: Uint32Array = new Uint32Array(BUF, 16, 4);
export const AF32: Float32Array = new Float32Array(BUF, 0, 4);
export const BF32: Float32Array = new Float32Array(BUF, 16, 4);
export const RF32: Float32Array = new Float32Array(BUF, 32, 4);
export const AF64: Float64Array = new Float64Array(BUF, 0, 2);
export const BF64: Float64Array = new Float64Array(BUF, 16, 2);
export const RF64: Float64Array = new Float64Array(BUF, 32, 2);

/** MXCSR bits. */
export const MX_DAZ = 0x40;
export const MX_FZ = 0x8000;
export const MX_UM = 0x800;
/** Round-to-nearest, all exceptions masked, no DAZ/FZ, PE already set: the fast path needs no flag work. */
export const MX_FAST = 0x1fa0;
export const MX_FAST_MASK = 0xffe0;

/** Copy XMM register `r` into A. */
export function loadA(c: Cpu, r: number): void {
  const x = c.xmm;
  const i = r << 2;
  A32[0] = x[i]!;
  A32[1] = x[i + 1]!;
  A32[2] = x[i + 2]!;
  A32[3] = x[i + 3]!;
}

/** Raise #GP for a misaligned 16-byte legacy SSE memory operand. */
export function checkAlign(a: number, u: Uop): void {
  if (a % 16 !== 0)
    throw new CpuException(
      Vec.GP,
      `misaligned 16-byte SSE operand 0x${a.toString(16)} at 0x${u.ip.toString(16)}`,
    );
}

/**
 * Load the source operand `k` (XMM register or memory of the operand's size, 4/8/16 bytes) into B.
 * Lanes beyond a short memory operand are zeroed. `aligned`: a 16-byte memory operand must be
 * 16-byte aligned (#GP otherwise), as for all legacy SSE forms except the explicit unaligned ones.
 */
export function loadB(c: Cpu, u: Uop, k: number, aligned: boolean): void {
  const kind = k === 1 ? u.k1 : k === 0 ? u.k0 : u.k2;
  if (kind === K.Xmm) {
    const x = c.xmm;
    const i = (k === 1 ? u.r1 : k === 0 ? u.r0 : u.r2) << 2;
    B32[0] = x[i]!;
    B32[1] = x[i + 1]!;
    B32[2] = x[i + 2]!;
    B32[3] = x[i + 3]!;
    return;
  }
  const s = k === 1 ? u.s1 : k === 0 ? u.s0 : u.s2;
  const a = ea(c, u);
  const m = c.mem;
  if (s >= 16) {
    if (aligned) checkAlign(a, u);
    B32[0] = m.read64(a);
    B32[1] = m.hi;
    B32[2] = m.read64(a + 8);
    B32[3] = m.hi;
  } else if (s === 8) {
    B32[0] = m.read64(a);
    B32[1] = m.hi;
    B32[2] = 0;
    B32[3] = 0;
  } else if (s === 4) {
    B32[0] = m.read32(a);
    B32[1] = 0;
    B32[2] = 0;
    B32[3] = 0;
  } else {
    B32[0] = s === 2 ? m.read16(a) : m.read8(a);
    B32[1] = 0;
    B32[2] = 0;
    B32[3] = 0;
  }
}

/** Copy R into XMM register `r`. */
export function storeR(c: Cpu, r: number): void {
  const x = c.xmm;
  const i = r << 2;
  x[i] = R32[0]!;
  x[i + 1] = R32[1]!;
  x[i + 2] = R32[2]!;
  x[i + 3] = R32[3]!;
}

/** Write the low `size` bytes (4, 8 or 16) of `src` (4 int32 lanes) to memory at `a`; a faulting store writes nothing. */
export function writeMem128(c: Cpu, a: number, size: number, src: Int32Array, off: number): void {
  const m = c.mem;
  if (size === 4) m.write32(a, src[off]!);
  else if (size === 8) m.write64(a, src[off]!, src[off + 1]!);
  else if (a % 4096 <= 4096 - 16) {
    m.write64(a, src[off]!, src[off + 1]!);
    m.write64(a + 8, src[off + 2]!, src[off + 3]!);
  } else {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    for (let i = 0; i < 4; i++) v.setInt32(4 * i, src[off + i]!, true);
    m.writeChecked(a, b);
  }
}

/**
 * Report SIMD floating-point exception flags `f` (MXCSR bit positions 0-5): unmasked ones raise
 * #XM (the destination is left unchanged by the caller, which reports before writing); masked
 * ones become sticky MXCSR flags.
 */
export function mxRaise(c: Cpu, f: number, u: Uop): void {
  if (f === 0) return;
  c.mxcsr |= f;
  const unmasked = f & ~(c.mxcsr >> 7) & 0x3f;
  if (unmasked)
    throw new CpuException(
      Vec.XM,
      `SIMD floating-point exception 0x${unmasked.toString(16)} at 0x${u.ip.toString(16)}`,
    );
}
