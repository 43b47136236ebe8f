/**
 * The length fast path: how long is the instruction at `offset`? Allocates nothing. Common
 * legacy encodings are measured from small per-opcode tables; everything else (VEX/EVEX,
 * opcodes whose validity depends on ModRM or prefixes, LOCK) goes through the full decoder
 * into a private scratch object, so the answer is always the same as {@link decode}'s.
 * @module
 */
import { OpMap } from "./codes.ts";
import { decode } from "./decode.ts";
import { FAST_LENGTH, FAST_VEX, OPCODE_INFO } from "./generated/tables.ts";
import { Instruction } from "./instruction.ts";

const scratch = new Instruction();

/**
 * Per ModRM byte, bytes that follow it before any immediate (SDM vol. 2A, tables 2-1 and 2-2):
 * bits 0-2 the displacement size, bit 3 "a SIB byte follows" (its own disp32 case is checked
 * separately). 32/64-bit addressing, then 16-bit addressing.
 */
const MODRM32 = new Uint8Array(256);
/** Per byte: 0 not a prefix, 1 = 66, 2 = 67, 3 segment override, 4 F0/F2/F3 (slow path), 5 REX (40-4F; an opcode outside 64-bit mode). */
const PREFIX_KIND = new Uint8Array(256);
for (const b of [0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65]) PREFIX_KIND[b] = 3;
PREFIX_KIND[0x66] = 1;
PREFIX_KIND[0x67] = 2;
PREFIX_KIND[0xf0] = 4;
PREFIX_KIND[0xf2] = 4;
PREFIX_KIND[0xf3] = 4;
for (let b = 0x40; b < 0x50; b++) PREFIX_KIND[b] = 5;
const MODRM16 = new Uint8Array(256);
for (let m = 0; m < 256; m++) {
  const mod = m >> 6;
  const rm = m & 7;
  if (mod === 3) continue;
  MODRM32[m] = (mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 5) ? 4 : 0) | (rm === 4 ? 8 : 0);
  MODRM16[m] = mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 6) ? 2 : 0;
}

/**
 * For {@link instructionLength}'s front in 64-bit mode, per opcode key (map * 256 + byte, maps 1
 * and 0F): 1 a byte it may measure, 2 the 0F escape, 0 anything else: legacy prefixes, a second
 * REX, C4/C5 (VEX), 90 and 9B, 0F 0F, 0F 38 and 0F 3A, which {@link lengthFull} treats apart.
 */
const FRONT = new Uint8Array(512).fill(1);
for (let b = 0; b < 256; b++) if (PREFIX_KIND[b] !== 0) FRONT[b] = 0;
for (const b of [0xc4, 0xc5, 0x90, 0x9b]) FRONT[b] = 0;
FRONT[0x0f] = 2;
for (const b of [0x0f, 0x38, 0x3a]) FRONT[OpMap.M0F * 256 + b] = 0;

/**
 * Length in bytes (1–15) of the instruction at `code[offset]` in `mode` (64, 32 or 16), or a
 * negative {@link DecodeError} (`-1` truncated, `-2` invalid, `-3` longer than 15 bytes).
 */
export function instructionLength(code: Uint8Array, offset: number, mode: 16 | 32 | 64 = 64): number {
  // A front small enough (in bytecode) for the compiler to inline into the caller's loop: 64-bit
  // mode, at most a REX prefix, map 1 or 0F, 15 bytes left. It measures as lengthFull does, from
  // the same tables; everything else goes there.
  if (mode === 64 && offset + 15 <= code.length) {
    let p = offset;
    let b = code[p]!;
    let rexW = 0;
    if ((b & 0xf0) === 0x40) {
      rexW = b & 8;
      b = code[++p]!;
    }
    let key = b;
    let front = FRONT[b]!;
    if (front === 2) {
      key = OpMap.M0F * 256 + code[++p]!;
      front = FRONT[key]!;
    }
    const modrm = code[++p]!;
    const hasModrm = OPCODE_INFO[key]! & 1;
    const info =
      front === 0
        ? 0
        : FAST_LENGTH[(key << 6) | (hasModrm ? (modrm >= 0xc0 ? 8 : 0) | ((modrm >> 3) & 7) : 0)]!;
    if (info !== 0) {
      if (hasModrm) {
        p++;
        const e = MODRM32[modrm]!;
        // SIB base 101 with mod 00: disp32 and no base.
        if (e & 8 && (code[p++]! & 7) === 5 && modrm < 0x40) p += 4;
        p += e & 7;
      }
      p += (info >> 2) & 7;
      // Without 66: a z immediate is 4 bytes, a v immediate 8 with REX.W, F64 or D64, else 4.
      if (info & 0x20) p += 4;
      else if (info & 0x40) p += info & 0x300 || rexW ? 8 : 4;
      if (info & 0x80) p += 8;
      if (p - offset <= 15) return p - offset;
    }
  }
  return lengthFull(code, offset, mode);
}

/** {@link instructionLength} for every case (its front handles the commonest alone). */
function lengthFull(code: Uint8Array, offset: number, mode: 16 | 32 | 64): number {
  const len = code.length;
  let p = offset;
  const end = len < offset + 15 ? len : offset + 15;
  let opsize = false;
  let addr = false;
  let rexW = false;
  let sawRex = false;
  // Prefixes. LOCK, VEX/EVEX and anything unusual take the slow path.
  for (;;) {
    if (p >= end) return slow(code, offset, mode);
    const b = code[p]!;
    const kind = PREFIX_KIND[b]!;
    if (kind === 0) break; // the common case: no prefix at all
    if (kind === 1) opsize = true;
    else if (kind === 2) addr = true;
    else if (kind === 4) return slow(code, offset, mode);
    else if (kind === 3) {
      // segment override: no effect on length
    } else if (mode === 64) {
      rexW = (b & 8) !== 0;
      sawRex = true;
      p++;
      if (p >= end) return slow(code, offset, mode);
      const nb = code[p]!;
      // A prefix after REX (REX then ignored, or another REX): the full decoder decides.
      if (PREFIX_KIND[nb] !== 0) return slow(code, offset, mode);
      break;
    } else break;
    p++;
  }
  let map: number = OpMap.M1;
  let op = code[p++]!;
  if ((op === 0xc5 || op === 0xc4) && mode === 64 && !opsize && !sawRex)
    return vexLength(code, offset, p, end, len, op);
  if (op === 0x0f) {
    if (p >= end) return slow(code, offset, mode);
    op = code[p++]!;
    if (op === 0x38 || op === 0x3a) {
      map = op === 0x38 ? OpMap.M0F38 : OpMap.M0F3A;
      if (p >= end) return slow(code, offset, mode);
      op = code[p++]!;
    } else map = OpMap.M0F;
  }
  const key = map * 256 + op;
  const hasModrm = (OPCODE_INFO[key]! & 1) !== 0;
  const m64 = mode === 64;
  const asize = m64 ? (addr ? 32 : 64) : (mode === 32) !== addr ? 32 : 16;
  let modrm = 0;
  if (hasModrm) {
    if (p >= end) return slow(code, offset, mode);
    modrm = code[p]!;
  }
  // 90 (NOP, PAUSE, XCHG r,rAX) has no operand bytes under any prefix; the prefix scan above
  // allows at most 14 bytes before it.
  if (op === 0x90 && map === OpMap.M1) return p - offset;
  // 9B may merge with a following x87 instruction (objdump's reading);
  // 0F 0F (3DNow!) is valid only for listed imm8 suffixes: the full decoder decides.
  if ((map === OpMap.M1 && op === 0x9b) || (map === OpMap.M0F && op === 0x0f))
    return slow(code, offset, mode);
  // Per (opcode, mode, 66, mod class, reg): the immediate layout when every encoding there is
  // valid and alike (gen.ts fastFor), else 0.
  const info =
    FAST_LENGTH[
      (key << 6) | (m64 ? 0 : 32) | (opsize ? 16 : 0) | (modrm >= 0xc0 ? 8 : 0) | ((modrm >> 3) & 7)
    ]!;
  if (info === 0) return slow(code, offset, mode);
  if (hasModrm) {
    p++;
    // Displacement bytes (and whether a SIB follows) by ModRM alone, one lookup.
    const e = (asize === 16 ? MODRM16 : MODRM32)[modrm]!;
    if (e & 8) {
      if (p >= end) return slow(code, offset, mode);
      // SIB base 101 with mod 00: disp32 and no base.
      if ((code[p++]! & 7) === 5 && modrm < 0x40) p += 4;
    }
    p += e & 7;
  }
  p += (info >> 2) & 7;
  if (info & 0x60) {
    // D64/F64 of the forms this entry stands for (gen.ts fastFor requires them alike).
    let osize: number;
    if (m64) osize = info & 0x200 || rexW ? 64 : info & 0x100 ? (opsize ? 16 : 64) : opsize ? 16 : 32;
    else osize = (mode === 32) !== opsize ? 32 : 16;
    if (info & 0x20) p += osize === 16 ? 2 : 4;
    else p += osize >> 3;
  }
  if (info & 0x80) p += asize >> 3;
  const n = p - offset;
  if (n > 15) return slow(code, offset, mode);
  if (p > len) return -1;
  return n;
}

/** Length of a VEX instruction whose C4/C5 byte is at p-1 (64-bit mode, no 66/REX), via FAST_VEX. */
function vexLength(
  code: Uint8Array,
  offset: number,
  p: number,
  end: number,
  len: number,
  esc: number,
): number {
  if (p + (esc === 0xc5 ? 2 : 3) >= end) return slow(code, offset, 64);
  let map: number;
  let b2: number;
  if (esc === 0xc5) {
    b2 = code[p]!;
    map = 1;
    p += 1;
  } else {
    map = code[p]! & 31;
    if (map < 1 || map > 3) return slow(code, offset, 64);
    b2 = code[p + 1]!;
    p += 2;
  }
  const op = code[p++]!;
  if (map === 1 && op === 0x77) return slow(code, offset, 64); // VZEROUPPER/VZEROALL: no ModRM
  const modrm = code[p]!;
  const isReg = modrm >= 0xc0;
  const w = esc === 0xc5 ? 0 : b2 >> 7;
  const info =
    FAST_VEX[
      (((map - 1) * 256 + op) << 6) |
        ((b2 & 3) << 4) |
        (((b2 >> 2) & 1) << 3) |
        (w << 2) |
        (isReg ? 2 : 0) |
        ((b2 & 0x78) === 0x78 ? 1 : 0)
    ]!;
  if (info === 0) return slow(code, offset, 64);
  p++;
  const e = MODRM32[modrm]!;
  if (e & 8) {
    if (p >= end) return slow(code, offset, 64);
    if ((code[p++]! & 7) === 5 && modrm < 0x40) p += 4;
  }
  p += e & 7;
  if (info & 2) p += 1;
  const n = p - offset;
  if (n > 15) return slow(code, offset, 64);
  if (p > len) return -1;
  return n;
}

function slow(code: Uint8Array, offset: number, mode: 16 | 32 | 64): number {
  const n = decode(code, offset, 0, mode, scratch);
  return n > 0 ? n : -scratch.error;
}
