/**
 * String instructions MOVS STOS LODS SCAS CMPS at 1/2/4/8 bytes, with REP (F3; F2 acts as REP
 * for MOVS/STOS/LODS) and REPE/REPNE for SCAS/CMPS, the direction flag, 32-bit address size
 * (ESI/EDI/ECX), and a segment override (FS/GS) on the source.
 *
 * A repeated instruction runs at most {@link CHUNK} iterations per execution and then
 * re-executes itself (RIP stays on it), like an interrupted REP on a real CPU, so that a huge
 * count cannot stall the scheduler. RSI/RDI/RCX are written back after every iteration that
 * completed, so a fault in the middle leaves them exactly where the CPU would. Forward MOVS and
 * STOS over non-overlapping ranges copy a page at a time.
 *
 * Modeled cost: the class cost once (charged by the run loop) plus, per element,
 * {@link PER_ELEMENT} cycles (a store for MOVS/STOS, a load for LODS/SCAS, two loads for CMPS;
 * COST-MODEL.md), added to `c.cycles` here.
 * @module
 */
import { type Cpu, FL, LF, maskOf } from "../cpu.ts";
import { readMem, writeMem } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

/** Most iterations one execution performs before re-executing itself. */
const CHUNK = 1 << 16;
const TWO32 = 4294967296;
const PAGE = 4096;

enum S {
  Movs = 0,
  Stos = 1,
  Lods = 2,
  Scas = 3,
  Cmps = 4,
}

/** Modeled ticks per element, by kind (1, 1, 0.5, 0.5 and 1 cycles). */
const PER_ELEMENT = [100, 100, 50, 50, 100];

const fill = new Uint8Array(PAGE);

function getAddr(c: Cpu, r: number, a32: boolean): number {
  return a32 ? c.regs[2 * r]! >>> 0 : c.reg64(r);
}

function setAddr(c: Cpu, r: number, a32: boolean, v: number): void {
  if (a32) {
    c.regs[2 * r] = v | 0;
    c.regs[2 * r + 1] = 0;
  } else {
    // v may be slightly negative or at/above 2^64 after a step: wrap modulo 2^64.
    c.regs[2 * r] = v | 0;
    c.regs[2 * r + 1] = Math.floor(v / TWO32) | 0;
  }
}

function str(kind: S, fixed: number): Handler {
  return (c: Cpu, u: Uop) => {
    const size = fixed || u.osize;
    const a32 = u.asize === 4;
    const down = (c.flags & FL.DF) !== 0;
    const step = down ? -size : size;
    const seg = u.mSeg === 4 ? c.fsBase : u.mSeg === 5 ? c.gsBase : 0;
    const rep = u.rep;
    let count: number;
    if (rep !== 0) {
      count = getAddr(c, 1, a32);
      if (count === 0) return;
    } else count = 1;
    let si = getAddr(c, 6, a32);
    let di = getAddr(c, 7, a32);
    let n = 0;
    let stopped = false;
    const limit = count < CHUNK ? count : CHUNK;
    const mem = c.mem;
    const usesSi = kind === S.Movs || kind === S.Lods || kind === S.Cmps;
    const usesDi = kind !== S.Lods;
    try {
      while (n < limit) {
        // Bulk path: forward MOVS/STOS, whole elements up to the nearer page end, no overlap.
        if (!down && (kind === S.Movs || kind === S.Stos) && !a32 && limit - n >= 16) {
          const src = si + seg;
          let room = PAGE - (di % PAGE);
          if (kind === S.Movs) room = Math.min(room, PAGE - (src % PAGE));
          const elems = Math.min(limit - n, Math.floor(room / size));
          const len = elems * size;
          if (elems >= 4 && (kind === S.Stos || src + len <= di || di + len <= src)) {
            if (kind === S.Movs) mem.writeChecked(di, mem.readChecked(src, len));
            else {
              const r = c.regs;
              for (let i = 0; i < len; i += size) {
                for (let b = 0; b < size; b++)
                  fill[i + b] = (b < 4 ? r[0]! >>> (8 * b) : r[1]! >>> (8 * (b - 4))) & 0xff;
              }
              mem.writeChecked(di, fill.subarray(0, len));
            }
            n += elems;
            if (usesSi) si += len;
            di += len;
            continue;
          }
        }
        switch (kind) {
          case S.Movs: {
            const lo = readMem(c, si + seg, size);
            writeMem(c, di, size, lo, c.hi);
            break;
          }
          case S.Stos:
            writeMem(c, di, size, c.regs[0]!, c.regs[1]!);
            break;
          case S.Lods: {
            const lo = readMem(c, si + seg, size);
            const r = c.regs;
            if (size === 8) {
              r[0] = lo;
              r[1] = c.hi;
            } else if (size === 4) {
              r[0] = lo;
              r[1] = 0;
            } else r[0] = (r[0]! & ~maskOf(size)) | lo;
            break;
          }
          case S.Scas: {
            const b = readMem(c, di, size);
            compare(c, size, c.regs[0]!, size === 8 ? c.regs[1]! : 0, b, c.hi);
            break;
          }
          default: {
            const a = readMem(c, si + seg, size);
            const ah = c.hi;
            const b = readMem(c, di, size);
            compare(c, size, a, ah, b, c.hi);
          }
        }
        n++;
        if (usesSi) si += step;
        if (usesDi) di += step;
        if (rep !== 0 && (kind === S.Scas || kind === S.Cmps)) {
          // REPE stops on not-equal, REPNE on equal.
          const eq = c.lfR === 0 && c.lfRh === 0;
          if (rep === 1 ? !eq : eq) {
            stopped = true;
            break;
          }
        }
      }
    } finally {
      if (usesSi) setAddr(c, 6, a32, si);
      if (usesDi) setAddr(c, 7, a32, di);
      if (rep !== 0) {
        const left = count - n;
        setAddr(c, 1, a32, left);
        // Not finished and not stopped by a REPE/REPNE condition: execute again.
        if (left !== 0 && !stopped) c.rip = u.ip;
      }
      c.ticks += n * PER_ELEMENT[kind]!;
    }
  };
}

/** Flags of CMP a, b (both `size` bytes; halves for 8). */
function compare(c: Cpu, size: number, a: number, ah: number, b: number, bh: number): void {
  let r: number;
  let rh = 0;
  if (size === 8) {
    const d = (a >>> 0) - (b >>> 0);
    r = d | 0;
    rh = (ah - bh - (d < 0 ? 1 : 0)) | 0;
  } else {
    a &= maskOf(size);
    r = size === 4 ? (a - b) | 0 : (a - b) & maskOf(size);
  }
  c.setLazy(LF.Sub, size, a, ah, b, bh, r, rh);
}

/** Handlers by form name. */
export const STRING: Record<string, Handler> = {
  movsb_Yb_Xb: str(S.Movs, 1),
  movsw_Yv_Xv: str(S.Movs, 2),
  movsl_Yv_Xv: str(S.Movs, 4),
  movsq_Yv_Xv: str(S.Movs, 8),
  cmpsb_Xb_Yb: str(S.Cmps, 1),
  cmpsw_Xv_Yv: str(S.Cmps, 2),
  cmpsl_Xv_Yv: str(S.Cmps, 4),
  cmpsq_Xv_Yv: str(S.Cmps, 8),
  stos_Yb_AL: str(S.Stos, 1),
  stos_Yv_rAX: str(S.Stos, 0),
  lods_AL_Xb: str(S.Lods, 1),
  lods_rAX_Xv: str(S.Lods, 0),
  scas_AL_Yb: str(S.Scas, 1),
  scas_rAX_Yv: str(S.Scas, 0),
};
