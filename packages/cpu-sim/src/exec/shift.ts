/**
 * Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR (by 1, CL, imm8), SHLD/SHRD, and the
 * flag-less BMI2 forms SHLX SHRX SARX RORX. Values are int32 halves; 64-bit operands use both.
 *
 * Flags (SDM Vol. 2B, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD): a masked count of 0
 * changes nothing; otherwise CF is the last bit shifted out (rotates: the bit rotated into
 * CF/bit 0), OF is defined only for a count of 1 (we compute the count-1 formula always),
 * shifts set SF ZF PF from the result and leave AF undefined (we clear it), rotates leave
 * SF ZF AF PF alone. Recorded lazily as {@link LF.Res}.
 * @module
 */
import { type Cpu, FL, LF } from "../cpu.ts";
import { readOp, writeOp } from "../ops.ts";
import { type Handler, K, type Uop } from "../uop.ts";

// Results of the helpers below (module scratch: no allocation per instruction).
let rLo = 0;
let rHi = 0;

/** 64-bit logical shift left of (lo, hi) by n (0-63) → rLo/rHi. */
function shl64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    rLo = lo;
    rHi = hi;
  } else if (n < 32) {
    rHi = (hi << n) | (lo >>> (32 - n));
    rLo = lo << n;
  } else {
    rHi = lo << (n - 32);
    rLo = 0;
  }
}

/** 64-bit logical shift right by n (0-63) → rLo/rHi. */
function shr64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    rLo = lo;
    rHi = hi;
  } else if (n < 32) {
    rLo = (lo >>> n) | (hi << (32 - n));
    rHi = hi >>> n;
  } else {
    rLo = hi >>> (n - 32);
    rHi = 0;
  }
}

/** 64-bit arithmetic shift right by n (0-63) → rLo/rHi. */
function sar64(lo: number, hi: number, n: number): void {
  if (n === 0) {
    rLo = lo;
    rHi = hi;
  } else if (n < 32) {
    rLo = (lo >>> n) | (hi << (32 - n));
    rHi = hi >> n;
  } else {
    rLo = hi >> (n - 32);
    rHi = hi >> 31;
  }
}

/** Bit `n` (0-63) of (lo, hi). */
function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

/** Zero-extended value of the low `size` bytes (size 1, 2, 4 → unsigned number). */
function zext(v: number, size: number): number {
  return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v >>> 0;
}

/** Sign bit (0/1) of a `size`-byte value given as (lo, hi). */
function msb(lo: number, hi: number, size: number): number {
  return size === 8 ? hi >>> 31 : (lo >>> (size * 8 - 1)) & 1;
}

enum Op {
  Rol = 0,
  Ror = 1,
  Rcl = 2,
  Rcr = 3,
  Shl = 4,
  Shr = 5,
  Sar = 7,
}

/** Record shift flags: SF ZF PF from the result, CF/OF given. */
function shiftFlags(c: Cpu, size: number, r: number, rh: number, cf: number, of: number): void {
  c.lfC = (cf ? FL.CF : 0) | (of ? FL.OF : 0);
  c.setLazy(LF.Res, size, 0, 0, 0, 0, r, rh);
}

/** Rotate flags: only CF and OF change; SF ZF AF PF keep their values. */
function rotateFlags(c: Cpu, cf: number, of: number): void {
  c.materialize();
  c.flags = (c.flags & ~(FL.CF | FL.OF)) | (cf ? FL.CF : 0) | (of ? FL.OF : 0);
}

/** The shift/rotate group (C0/C1/D0-D3), operation `op` = ModRM.reg. */
function group2(op: Op): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const cnt = (u.k1 === K.One ? 1 : readOp(c, u, 1)) & (size === 8 ? 63 : 31);
    const a = readOp(c, u, 0);
    const ah = size === 8 ? c.hi : 0;
    if (cnt === 0) {
      // Flags unchanged; a 32-bit register destination is still written (zero-extended).
      if (size === 4 && u.k0 === K.Gpr) c.regs[2 * u.r0 + 1] = 0;
      return;
    }
    const bits = size * 8;
    let r = 0;
    const rh = 0;
    let cf = 0;
    if (size === 8) {
      switch (op) {
        case Op.Shl:
          shl64(a, ah, cnt);
          cf = bit64(a, ah, 64 - cnt);
          shiftFlags(c, 8, rLo, rHi, cf, (rHi >>> 31) ^ cf);
          break;
        case Op.Shr:
          shr64(a, ah, cnt);
          shiftFlags(c, 8, rLo, rHi, bit64(a, ah, cnt - 1), ah >>> 31);
          break;
        case Op.Sar:
          sar64(a, ah, cnt);
          shiftFlags(c, 8, rLo, rHi, bit64(a, ah, cnt - 1), 0);
          break;
        case Op.Rol: {
          shl64(a, ah, cnt);
          const l = rLo;
          const h = rHi;
          shr64(a, ah, 64 - cnt);
          rLo |= l;
          rHi |= h;
          cf = rLo & 1;
          rotateFlags(c, cf, (rHi >>> 31) ^ cf);
          break;
        }
        case Op.Ror: {
          shr64(a, ah, cnt);
          const l = rLo;
          const h = rHi;
          shl64(a, ah, 64 - cnt);
          rLo |= l;
          rHi |= h;
          rotateFlags(c, rHi >>> 31, (rHi >>> 31) ^ ((rHi >>> 30) & 1));
          break;
        }
        default:
          rotateCarry(c, op === Op.Rcl, a, ah, 8, cnt);
          return writeOp(c, u, 0, rLo, rHi);
      }
      return writeOp(c, u, 0, rLo, rHi);
    }
    const v = zext(a, size);
    switch (op) {
      case Op.Shl:
        r = v << cnt;
        cf = cnt <= bits ? (v >>> (bits - cnt)) & 1 : 0;
        if (size === 4) r |= 0;
        else r &= size === 1 ? 0xff : 0xffff;
        shiftFlags(c, size, r, 0, cf, msb(r, 0, size) ^ cf);
        break;
      case Op.Shr:
        r = v >>> cnt;
        shiftFlags(c, size, r, 0, (v >>> (cnt - 1)) & 1, msb(v, 0, size));
        break;
      case Op.Sar: {
        const sv = size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
        r = sv >> cnt;
        if (size < 4) r &= size === 1 ? 0xff : 0xffff;
        shiftFlags(c, size, r, 0, (sv >> (cnt - 1)) & 1, 0);
        break;
      }
      case Op.Rol: {
        const n = cnt & (bits - 1);
        r = n === 0 ? v : (v << n) | (v >>> (bits - n));
        if (size < 4) r &= size === 1 ? 0xff : 0xffff;
        cf = r & 1;
        rotateFlags(c, cf, msb(r, 0, size) ^ cf);
        break;
      }
      case Op.Ror: {
        const n = cnt & (bits - 1);
        r = n === 0 ? v : (v >>> n) | (v << (bits - n));
        if (size < 4) r &= size === 1 ? 0xff : 0xffff;
        const m = msb(r, 0, size);
        rotateFlags(c, m, m ^ ((r >>> (bits - 2)) & 1));
        break;
      }
      default:
        rotateCarry(c, op === Op.Rcl, v, 0, size, cnt);
        r = rLo;
    }
    writeOp(c, u, 0, r, rh);
  };
}

/**
 * RCL/RCR through CF, one bit per step (rare in compiled code; at most 63 steps). The count
 * is already masked to 5/6 bits; 8- and 16-bit operands rotate modulo 9 and 17. Result in
 * rLo/rHi; flags written.
 */
function rotateCarry(c: Cpu, left: boolean, lo: number, hi: number, size: number, cnt: number): void {
  const bits = size * 8;
  const n = size === 1 ? cnt % 9 : size === 2 ? cnt % 17 : cnt;
  let cf = c.cf();
  let of = 0;
  if (!left) of = msb(lo, hi, size) ^ cf; // RCR: OF from the operand before rotating
  for (let i = 0; i < n; i++) {
    if (left) {
      const out = msb(lo, hi, size);
      if (size === 8) {
        hi = (hi << 1) | (lo >>> 31);
        lo = (lo << 1) | cf;
      } else lo = ((lo << 1) | cf) & (size === 4 ? -1 : (1 << bits) - 1);
      cf = out;
    } else {
      const out = lo & 1;
      if (size === 8) {
        lo = (lo >>> 1) | (hi << 31);
        hi = (hi >>> 1) | (cf << 31);
      } else lo = (lo >>> 1) | (cf << (bits - 1));
      cf = out;
    }
  }
  if (left) of = msb(lo, hi, size) ^ cf;
  rLo = size === 4 ? lo | 0 : lo;
  rHi = hi;
  rotateFlags(c, cf, of);
}

/** SHLD/SHRD Ev, Gv, Ib/CL. A count above the operand size (16-bit) gives an undefined result. */
function doubleShift(left: boolean): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const cnt = readOp(c, u, 2) & (size === 8 ? 63 : 31);
    const d = readOp(c, u, 0);
    const dh = c.hi;
    const s = readOp(c, u, 1);
    const sh = c.hi;
    if (cnt === 0) {
      if (size === 4 && u.k0 === K.Gpr) c.regs[2 * u.r0 + 1] = 0;
      return;
    }
    let r: number;
    let rh = 0;
    let cf: number;
    if (size === 8) {
      if (left) {
        shr64(s, sh, 64 - cnt);
        const l = rLo;
        const h = rHi;
        shl64(d, dh, cnt);
        r = rLo | l;
        rh = rHi | h;
        cf = bit64(d, dh, 64 - cnt);
      } else {
        shl64(s, sh, 64 - cnt);
        const l = rLo;
        const h = rHi;
        shr64(d, dh, cnt);
        r = rLo | l;
        rh = rHi | h;
        cf = bit64(d, dh, cnt - 1);
      }
    } else if (size === 4) {
      if (left) {
        r = (d << cnt) | (s >>> (32 - cnt));
        cf = (d >>> (32 - cnt)) & 1;
      } else {
        r = (d >>> cnt) | (s << (32 - cnt));
        cf = (d >>> (cnt - 1)) & 1;
      }
    } else {
      // 16-bit: shift the 32-bit concatenation; counts 17-31 are undefined (we shift through).
      const dv = d & 0xffff;
      const sv = s & 0xffff;
      if (left) {
        const w = ((dv << 16) | sv) >>> 0;
        const x = cnt < 32 ? w << cnt : 0;
        const fill = cnt > 16 ? (sv << (cnt - 16)) & 0xffff : 0;
        r = ((x >>> 16) | fill) & 0xffff;
        cf = cnt <= 32 ? (w >>> (32 - cnt)) & 1 : 0;
      } else {
        const w = ((sv << 16) | dv) >>> 0;
        const x = w >>> cnt;
        const fill = cnt > 16 ? (dv << (32 - cnt)) & 0xffff : 0;
        r = (x | fill) & 0xffff;
        cf = (w >>> (cnt - 1)) & 1;
      }
    }
    const m = msb(r, rh, size);
    shiftFlags(c, size, r, rh, cf, m ^ msb(d, dh, size));
    writeOp(c, u, 0, r, rh);
  };
}

/** SHLX/SHRX/SARX Gy, Ey, By (BMI2): count from By masked to 5/6 bits; flags untouched. */
function bmiShift(kind: Op.Shl | Op.Shr | Op.Sar): Handler {
  return (c: Cpu, u: Uop) => {
    const size = u.s0;
    const a = readOp(c, u, 1);
    const ah = c.hi;
    const n = readOp(c, u, 2) & (size === 8 ? 63 : 31);
    if (size === 8) {
      if (kind === Op.Shl) shl64(a, ah, n);
      else if (kind === Op.Shr) shr64(a, ah, n);
      else sar64(a, ah, n);
      writeOp(c, u, 0, rLo, rHi);
    } else writeOp(c, u, 0, kind === Op.Shl ? a << n : kind === Op.Shr ? a >>> n : a >> n, 0);
  };
}

/** RORX Gy, Ey, Ib (BMI2): rotate right by an immediate; flags untouched. */
const rorx: Handler = (c: Cpu, u: Uop) => {
  const size = u.s0;
  const a = readOp(c, u, 1);
  const ah = c.hi;
  const n = u.immLo & (size === 8 ? 63 : 31);
  if (size === 8) {
    shr64(a, ah, n);
    const l = rLo;
    const h = rHi;
    shl64(a, ah, (64 - n) & 63);
    writeOp(c, u, 0, n === 0 ? a : rLo | l, n === 0 ? ah : rHi | h);
  } else writeOp(c, u, 0, n === 0 ? a : (a >>> n) | (a << (32 - n)), 0);
};

const NAMES: [string, Op][] = [
  ["rol", Op.Rol],
  ["ror", Op.Ror],
  ["rcl", Op.Rcl],
  ["rcr", Op.Rcr],
  ["shl", Op.Shl],
  ["shr", Op.Shr],
  ["sar", Op.Sar],
];

/** Handlers by form name. */
export const SHIFT: Record<string, Handler> = {
  shld_Ev_Gv_Ib: doubleShift(true),
  shld_Ev_Gv_CL: doubleShift(true),
  shrd_Ev_Gv_Ib: doubleShift(false),
  shrd_Ev_Gv_CL: doubleShift(false),
  shlx_Gy_Ey_By: bmiShift(Op.Shl),
  shrx_Gy_Ey_By: bmiShift(Op.Shr),
  sarx_Gy_Ey_By: bmiShift(Op.Sar),
  rorx_Gy_Ey_Ib: rorx,
};
for (const [name, op] of NAMES) {
  const h = group2(op);
  for (const form of ["Eb_Ib", "Ev_Ib", "Eb_1", "Ev_1", "Eb_CL", "Ev_CL"]) SHIFT[`${name}_${form}`] = h;
}
