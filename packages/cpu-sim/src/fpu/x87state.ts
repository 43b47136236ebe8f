/**
 * x87 register-stack plumbing: TOP, tags, reading and writing ST(i) as raw 80-bit values or as
 * unpacked {@link SF} values, stack overflow/underflow responses, and the status-word
 * exception bits (SDM Vol. 1 §8.1-8.5). The registers live in the {@link Cpu}: `fpuMant`
 * (significand halves), `fpuExp` (sign and exponent), `fpuSw` (TOP in bits 11-13), `fpuCw`,
 * and `fpuTw`, where a register's 2-bit tag is 11 when empty and 00 otherwise (the exact
 * valid/zero/special tag is computed when the tag word is stored, {@link fullTags}).
 * @module
 */
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import * as sf from "./softfloat.ts";

/** Status word bits. */
export const SW_SF = 0x40;
export const SW_ES = 0x80;
export const SW_C0 = 0x100;
export const SW_C1 = 0x200;
export const SW_C2 = 0x400;
export const SW_C3 = 0x4000;
export const SW_B = 0x8000;
export const SW_CC: number = SW_C0 | SW_C1 | SW_C2 | SW_C3;

/** TOP. */
export function top(c: Cpu): number {
  return (c.fpuSw >> 11) & 7;
}
/** Physical register of ST(i). */
export function phys(c: Cpu, i: number): number {
  return (((c.fpuSw >> 11) & 7) + i) & 7;
}
/** Is physical register `p` empty. */
export function isEmpty(c: Cpu, p: number): boolean {
  return ((c.fpuTw >> (2 * p)) & 3) === 3;
}
function setTag(c: Cpu, p: number, empty: boolean): void {
  c.fpuTw = empty ? c.fpuTw | (3 << (2 * p)) : c.fpuTw & ~(3 << (2 * p));
}
/** Mark physical register `p` empty (FFREE). */
export function free(c: Cpu, p: number): void {
  setTag(c, p, true);
}

/** The #MF check of waiting x87 instructions: a pending unmasked exception (ES) faults. */
export function checkPending(c: Cpu): void {
  if (c.fpuSw & SW_ES) throw new CpuException(Vec.MF, "pending unmasked x87 exception");
}

/**
 * Record exception flags `f` (IE…PE, SW_SF) in the status word; unmasked ones set ES and B
 * (the #MF is delivered at the next waiting x87 instruction). Returns true when IE is unmasked
 * and set (the instruction then leaves its destination alone).
 */
export function report(c: Cpu, f: number): boolean {
  if (f === 0) return false;
  if (f & (sf.IE | sf.ZE)) f &= ~sf.DE; // priority (SDM Vol. 1 §4.9.2)
  c.fpuSw |= f;
  const unmasked = f & ~c.fpuCw & 0x3f;
  if (unmasked) c.fpuSw |= SW_ES | SW_B;
  return (unmasked & sf.IE) !== 0;
}

/** Precision-control target format. */
export function pcFmt(c: Cpu): sf.Fmt {
  const pc = (c.fpuCw >> 8) & 3;
  return pc === 0 ? sf.F80P24 : pc === 2 ? sf.F80P53 : sf.F80;
}
/** Rounding control. */
export function rc(c: Cpu): number {
  return (c.fpuCw >> 10) & 3;
}

/** Raw copy of physical register `from` into `to` (tags updated: `to` becomes non-empty). */
export function copyRaw(c: Cpu, from: number, to: number): void {
  const m = c.fpuMant;
  m[2 * to] = m[2 * from]!;
  m[2 * to + 1] = m[2 * from + 1]!;
  c.fpuExp[to] = c.fpuExp[from]!;
  setTag(c, to, false);
}

/** Write a raw 80-bit value into physical register `p` (non-empty). */
export function setRaw(c: Cpu, p: number, se: number, lo: number, hi: number): void {
  c.fpuMant[2 * p] = lo;
  c.fpuMant[2 * p + 1] = hi;
  c.fpuExp[p] = se;
  setTag(c, p, false);
}

/** Physical register `p` as an unpacked value (DE noted in sf.flags for denormals). */
export function getP(c: Cpu, p: number): sf.SF {
  const m = c.fpuMant;
  const mant = (BigInt(m[2 * p + 1]! >>> 0) << 32n) | BigInt(m[2 * p]! >>> 0);
  return sf.unpack80(c.fpuExp[p]!, mant);
}

/** Store an unpacked (already rounded) value into physical register `p`. */
export function setP(c: Cpu, p: number, x: sf.SF): void {
  const mant = sf.pack80(x);
  setRaw(c, p, sf.se80, Number(mant & 0xffffffffn) | 0, Number(mant >> 32n) | 0);
}

/** Indefinite as raw bits. */
export function setIndefinite(c: Cpu, p: number): void {
  setRaw(c, p, 0xffff, 0, 0xc0000000 | 0);
}

/**
 * ST(i) for reading, or null after a stack underflow (IE|SF, C1=0) — the caller then applies the
 * masked response (an indefinite result) unless {@link report} said IE is unmasked.
 */
export function readST(c: Cpu, i: number): sf.SF | null {
  const p = phys(c, i);
  if (isEmpty(c, p)) return null;
  return getP(c, p);
}

/** Stack underflow: IE|SF, C1 cleared. Returns true when IE is unmasked. */
export function underflow(c: Cpu): boolean {
  c.fpuSw &= ~SW_C1;
  return report(c, sf.IE | SW_SF);
}

/** Stack underflow with the masked response (the indefinite) into physical register p, unless IE is unmasked. */
export function underflowInto(c: Cpu, p: number): void {
  if (!underflow(c)) setIndefinite(c, p);
}

/**
 * Push: decrement TOP; on overflow (the new ST(0) not empty) IE|SF with C1=1 and, masked, the
 * indefinite is loaded (returns false: nothing more to store). Returns true when the caller
 * should store its value into ST(0).
 */
export function push(c: Cpu): boolean {
  const t = (top(c) - 1) & 7;
  if (!isEmpty(c, t)) {
    c.fpuSw |= SW_C1;
    if (report(c, sf.IE | SW_SF)) return false;
    c.fpuSw = (c.fpuSw & ~0x3800) | (t << 11);
    setIndefinite(c, t);
    return false;
  }
  c.fpuSw = (c.fpuSw & ~0x3800) | (t << 11);
  return true;
}

/** Pop: mark ST(0) empty and increment TOP. */
export function pop(c: Cpu): void {
  const t = top(c);
  setTag(c, t, true);
  c.fpuSw = (c.fpuSw & ~0x3800) | (((t + 1) & 7) << 11);
}

/** Set C1 from the last rounding (rounded up in magnitude), clearing it otherwise. */
export function setC1(c: Cpu, up: boolean): void {
  c.fpuSw = up ? c.fpuSw | SW_C1 : c.fpuSw & ~SW_C1;
}

/** The full tag word (valid 00, zero 01, special 10, empty 11) from the register contents. */
export function fullTags(c: Cpu): number {
  let tw = 0;
  for (let p = 0; p < 8; p++) {
    let t: number;
    if (isEmpty(c, p)) t = 3;
    else {
      const e = c.fpuExp[p]! & 0x7fff;
      const hi = c.fpuMant[2 * p + 1]!;
      const lo = c.fpuMant[2 * p]!;
      if (e === 0) t = hi === 0 && lo === 0 ? 1 : 2;
      else if (e === 0x7fff || hi >= 0)
        t = 2; // NaN/inf, or unnormal (J bit clear)
      else t = 0;
    }
    tw |= t << (2 * p);
  }
  return tw;
}

/** FNINIT state. */
export function init(c: Cpu): void {
  c.fpuCw = 0x037f;
  c.fpuSw = 0;
  c.fpuTw = 0xffff;
}
