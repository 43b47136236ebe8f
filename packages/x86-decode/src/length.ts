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
 * Length in bytes (1–15) of the instruction at `code[offset]` in `mode` (64, 32 or 16), or a
 * negative {@link DecodeError} (`-1` truncated, `-2` invalid, `-3` longer than 15 bytes).
 */
export function instructionLength(code: Uint8Array, offset: number, mode: 16 | 32 | 64 = 64): number {
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
    if (b === 0x66) opsize = true;
    else if (b === 0x67) addr = true;
    else if (b === 0xf2 || b === 0xf3) return slow(code, offset, mode);
    else if (b === 0x2e || b === 0x3e || b === 0x26 || b === 0x36 || b === 0x64 || b === 0x65) {
      // segment override: no effect on length
    } else if (mode === 64 && (b & 0xf0) === 0x40) {
      rexW = (b & 8) !== 0;
      sawRex = true;
      p++;
      if (p >= end) return slow(code, offset, mode);
      const nb = code[p]!;
      if ((nb & 0xf0) === 0x40 || nb === 0x66 || nb === 0x67 || nb === 0xf0 || nb === 0xf2 || nb === 0xf3)
        return slow(code, offset, mode);
      if (nb === 0x2e || nb === 0x3e || nb === 0x26 || nb === 0x36 || nb === 0x64 || nb === 0x65)
        return slow(code, offset, mode);
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
  // 90 with REX.B is XCHG; 9B may merge with a following x87 instruction (objdump's reading);
  // 0F 0F (3DNow!) is valid only for listed imm8 suffixes: the full decoder decides.
  if ((map === OpMap.M1 && (op === 0x90 || op === 0x9b)) || (map === OpMap.M0F && op === 0x0f))
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
    const mod = modrm >> 6;
    const rm = modrm & 7;
    if (mod !== 3) {
      if (asize === 16) {
        if (mod === 1) p += 1;
        else if (mod === 2 || (mod === 0 && rm === 6)) p += 2;
      } else {
        if (rm === 4) {
          if (p >= end) return slow(code, offset, mode);
          const sib = code[p++]!;
          if ((sib & 7) === 5 && mod === 0) p += 4;
        }
        if (mod === 1) p += 1;
        else if (mod === 2 || (mod === 0 && rm === 5)) p += 4;
      }
    }
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
  if (!isReg) {
    const mod = modrm >> 6;
    const rm = modrm & 7;
    if (rm === 4) {
      if (p >= end) return slow(code, offset, 64);
      const sib = code[p++]!;
      if ((sib & 7) === 5 && mod === 0) p += 4;
    }
    if (mod === 1) p += 1;
    else if (mod === 2 || (mod === 0 && rm === 5)) p += 4;
  }
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
