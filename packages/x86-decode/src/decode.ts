/**
 * The full decoder: prefixes, VEX/EVEX, the generated decode tree, ModRM/SIB/displacement,
 * immediates and operands, into a reusable {@link Instruction}. Errors are return codes
 * (`Instruction.error`), never exceptions.
 * @module
 */
import { AMD3DNOW_NAMES, Br, F, Fixed, Method, Node, OpMap, Size, Tuple } from "./codes.ts";
import {
  FORM_BRANCH,
  FORM_FLAGS,
  FORM_LMASK,
  FORM_MNEMONIC,
  FORM_OPS,
  FORM_TUPLE,
  NODES,
  OPCODE_INFO,
  OPERAND_METHOD,
  OPERAND_SIZE,
  ROOTS,
} from "./generated/tables.ts";
import { DecodeError, type Instruction, OpKind, Prefix } from "./instruction.ts";
import { Reg } from "./registers.ts";

// Scratch state for one decode (module-level: decode is not re-entrant, and allocates nothing).

/** Register class base for a vector register of `bits`. */
function vecBase(bits: number): number {
  return bits >= 512 ? Reg.ZMM0 : bits >= 256 ? Reg.YMM0 : Reg.XMM0;
}

/**
 * Lookup tables for the operand loop, built once at load from the functions below (which stay
 * the readable definition). Table loads give the optimizing compiler small integers and no
 * calls, where the calls themselves would not be inlined into `decode`, which is too large.
 * Index parts: `osz` is 0/1/2 for operand size 16/32/64, `vlx` 0/1/2 for vector length
 * 128/256/512, `size` a {@link Size} (< 32).
 */
/** `gprSize(size, osize)` at `size * 3 + osz`. */
const GPR_BITS: Uint16Array = new Uint16Array(32 * 3);
/** `memSize(size, osize, vl)` at `(size * 3 + osz) * 3 + vlx`. */
const MEM_BITS: Uint16Array = new Uint16Array(32 * 9);
/** `vecRegBits(size, vl)` at `size * 3 + vlx`. */
const VEC_BITS: Uint16Array = new Uint16Array(32 * 3);
/** `vecBase(vecRegBits(size, vl))` at `size * 3 + vlx`. */
const VEC_BASE: Uint8Array = new Uint8Array(32 * 3);
/** First register of the general-purpose class of `bits` at `bits >> 3` (8, 16, 32, 64). */
const GPR_BASE: Uint8Array = new Uint8Array(9);
GPR_BASE[1] = Reg.AL;
GPR_BASE[2] = Reg.AX;
GPR_BASE[4] = Reg.EAX;
GPR_BASE[8] = Reg.RAX;
for (let size = 0; size < 32; size++)
  for (let x = 0; x < 3; x++) {
    GPR_BITS[size * 3 + x] = gprSize(size, 16 << x);
    VEC_BITS[size * 3 + x] = vecRegBits(size, 128 << x);
    VEC_BASE[size * 3 + x] = vecBase(vecRegBits(size, 128 << x));
    for (let v = 0; v < 3; v++) MEM_BITS[(size * 3 + x) * 3 + v] = memSize(size, 16 << x, 128 << v);
  }

/**
 * Decode one instruction from `code` at `offset`, whose address is `ip`, in `mode` (64, 32
 * or 16), into `out`. Returns the length, or 0 with `out.error` set (truncated, invalid,
 * too long). Never throws for any input bytes.
 */
export function decode(
  code: Uint8Array,
  offset: number,
  ip: number,
  mode: 16 | 32 | 64,
  out: Instruction,
): number {
  out.code = code;
  out.offset = offset;
  out.ip = ip;
  out.mode = mode;
  out.error = DecodeError.None;
  if (out.segment !== Reg.None) out.segment = Reg.None;
  out.rexUsed = 0;
  if (out.vl !== 0) {
    // Only a VEX/EVEX instruction sets these; reset them after one.
    out.vl = 0;
    out.evexMask = 0;
    out.evexZ = 0;
    out.evexB = 0;
    out.rounding = -1;
    out.bcst = 0;
  }
  out.modrm = -1;
  out.sib = -1;
  out.dispSize = 0;
  out.immSize = 0;
  out.memIndex = Reg.None;
  out.ripRelative = false;
  // Scratch state of this decode (locals: the hot path keeps them in registers).
  let isVex = false;
  let isEvex = false;
  let mandatory = 0; // 0 none, 1 66, 2 f3, 3 f2
  let lastRepIdx = -1;
  let opsizeIdx = -1;
  let addrIdx = -1;
  let vexR = 0; // extension bits as 0/8 or 0/16 values
  let vexRR = 0;
  let vexX = 0;
  let vexB = 0;
  let vexV = 0; // vvvv (0..31), already un-inverted

  const len = code.length;
  const hardEnd = offset + 15;
  const end = len < hardEnd ? len : hardEnd;
  let p = offset;
  const m64 = mode === 64;
  let rex = 0;
  let ru = 0; // REX bits used (stored in out.rexUsed at the end)

  let prefixes = 0;
  let b = 0;

  // ---- legacy prefixes and REX -----------------------------------------------------------
  if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
  b = code[p]!;
  // Fast paths: most instructions start with their opcode, or with a lone REX before it.
  const nb = p + 1 < end ? code[p + 1]! : -1;
  if (m64 && (b & 0xf0) === 0x40 && nb >= 0 && PREFIX_BYTE[nb] === 0 && (nb & 0xf0) !== 0x40 && nb !== 0x9b) {
    rex = b;
    p++;
    b = code[p]!;
  } else if (PREFIX_BYTE[b] !== 0 || b === 0x9b || (m64 && (b & 0xf0) === 0x40))
    for (;;) {
      if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
      b = code[p]!;
      const idx = p - offset;
      switch (b) {
        case 0xf0:
          prefixes |= Prefix.Lock;
          break;
        case 0xf2:
          prefixes = (prefixes | Prefix.Repne) & ~Prefix.Rep;
          lastRepIdx = idx;
          break;
        case 0xf3:
          prefixes = (prefixes | Prefix.Rep) & ~Prefix.Repne;
          lastRepIdx = idx;
          break;
        case 0x66:
          prefixes |= Prefix.OpSize;
          opsizeIdx = idx;
          break;
        case 0x67:
          prefixes |= Prefix.AddrSize;
          addrIdx = idx;
          break;
        case 0x26:
        case 0x2e:
        case 0x36:
        case 0x3e:
          prefixes |= Prefix.Seg;
          out.segment = Reg.ES + ((b >> 3) & 3);
          break;
        case 0x64:
        case 0x65:
          prefixes |= Prefix.Seg;
          out.segment = Reg.ES + (b - 0x60);
          break;
        case 0x9b:
          // FWAIT before an x87 opcode is taken as a prefix (objdump prints `fstsw` for 9B DF E0);
          // otherwise it is the one-byte FWAIT instruction.
          if (fwaitPrefixes(code, p, offset, end, m64)) {
            rex = 0;
            p++;
            continue;
          }
          break;
        default:
          if (m64 && (b & 0xf0) === 0x40) {
            // The last REX counts, and only when nothing but the opcode follows it.
            rex = b;

            p++;
            continue;
          }
          break;
      }
      if (PREFIX_BYTE[b] === 0) break;
      rex = 0; // a REX followed by a legacy prefix is ignored

      p++;
    }
  out.prefixCount = p - offset;
  if (rex !== 0) prefixes |= Prefix.Rex;
  out.rex = rex;

  // ---- opcode, escapes, VEX/EVEX ----------------------------------------------------------
  let map: number = OpMap.M1;
  let op = b;
  p++;
  let w = rex & 8 ? 1 : 0;
  let L = 0;
  if (b === 0x0f) {
    if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
    op = code[p++]!;
    if (op === 0x38 || op === 0x3a) {
      map = op === 0x38 ? OpMap.M0F38 : OpMap.M0F3A;
      if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
      op = code[p++]!;
    } else {
      map = OpMap.M0F;
    }
  } else if (b === 0xc4 || b === 0xc5 || b === 0x62 || (b === 0x8f && p < end && (code[p]! & 0x1f) >= 8)) {
    // 8F with XOP.mmmmm >= 8 is AMD's XOP prefix (POP Ev has ModRM.reg = 0, which such a byte never has).
    if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
    const b1 = code[p]!;
    if (m64 || b === 0x8f || (b1 & 0xc0) === 0xc0) {
      // VEX/EVEX: not allowed after 66/F2/F3/F0 or REX.
      if (prefixes & (Prefix.OpSize | Prefix.Rep | Prefix.Repne | Prefix.Lock | Prefix.Rex))
        return fail(out, DecodeError.Invalid);
      let pp = 0;
      if (b === 0xc5) {
        isVex = true;
        vexR = b1 & 0x80 ? 0 : 8;
        vexV = (~b1 >> 3) & 15;
        L = (b1 >> 2) & 1;
        pp = b1 & 3;
        map = OpMap.V0F;
        w = 0;
        p++;
      } else if (b === 0xc4 || b === 0x8f) {
        isVex = true;
        if (p + 1 >= end) return fail(out, p + 1 >= len ? DecodeError.Truncated : DecodeError.TooLong);
        const b2 = code[p + 1]!;
        vexR = b1 & 0x80 ? 0 : 8;
        vexX = b1 & 0x40 ? 0 : 8;
        vexB = b1 & 0x20 ? 0 : 8;
        const mm = b1 & 31;
        if (b === 0x8f) {
          if (mm > 10) return fail(out, DecodeError.Invalid);
          map = OpMap.X8 + mm - 8;
        } else {
          if (mm < 1 || mm > 3) return fail(out, DecodeError.Invalid);
          map = OpMap.V0F + mm - 1;
        }
        w = b2 >> 7;
        vexV = (~b2 >> 3) & 15;
        L = (b2 >> 2) & 1;
        pp = b2 & 3;
        p += 2;
      } else {
        isEvex = true;
        if (p + 2 >= end) return fail(out, p + 2 >= len ? DecodeError.Truncated : DecodeError.TooLong);
        const b2 = code[p + 1]!;
        const b3 = code[p + 2]!;
        if (b1 & 0x08 || !(b2 & 0x04)) return fail(out, DecodeError.Invalid);
        vexR = b1 & 0x80 ? 0 : 8;
        vexX = b1 & 0x40 ? 0 : 8;
        vexB = b1 & 0x20 ? 0 : 8;
        vexRR = b1 & 0x10 ? 0 : 16;
        const mmm = b1 & 7;
        if (mmm === 1) map = OpMap.E0F;
        else if (mmm === 2) map = OpMap.E0F38;
        else if (mmm === 3) map = OpMap.E0F3A;
        else if (mmm === 5) map = OpMap.E5;
        else if (mmm === 6) map = OpMap.E6;
        else return fail(out, DecodeError.Invalid);
        w = b2 >> 7;
        vexV = ((~b2 >> 3) & 15) | (b3 & 0x08 ? 0 : 16);
        pp = b2 & 3;
        out.evexZ = b3 >> 7;
        L = (b3 >> 5) & 3;
        out.evexB = (b3 >> 4) & 1;
        out.evexMask = b3 & 7;
        p += 3;
        if (!m64) {
          // In 32-bit mode EVEX.R', V' (as registers 16-31) and the X/B high bits do not exist.
          vexRR = 0;
          vexV &= 15;
        }
      }
      if (!m64) {
        vexR = 0;
        vexX = 0;
        vexB = 0;
        vexV &= 7 | (isEvex ? 0 : 8);
        if (isVex) vexV &= 15;
      }
      mandatory = pp;
      prefixes |= isEvex ? Prefix.Evex : Prefix.Vex;
      if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
      op = code[p++]!;
    }
  }
  out.w = w;
  out.map = map;
  out.opcode = op;
  out.prefixes = prefixes;

  if (!isVex && !isEvex) {
    if (prefixes & (Prefix.Rep | Prefix.Repne)) mandatory = prefixes & Prefix.Rep ? 2 : 3;
    else if (prefixes & Prefix.OpSize) mandatory = 1;
  }

  // ---- ModRM and the decode tree ------------------------------------------------------------
  // 90 with REX.B is XCHG r8,rAX, not NOP (SDM: "NOP" is XCHG eAX,eAX without REX.B).
  const key = map === OpMap.M1 && op === 0x90 && rex & 1 ? 0x91 : map * 256 + op;
  let ref = ROOTS[key]!;
  if (ref === 0) return fail(out, DecodeError.Invalid);
  let modrm = -1;
  if (OPCODE_INFO[key]! & 1) {
    if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
    modrm = code[p++]!;
    // MOV to/from CR/DR (0F 20-23): ModRM.mod is ignored, the operand is always a register (SDM).
    if (map === OpMap.M0F && (op & 0xfc) === 0x20) modrm |= 0xc0;
  }
  // Operand/address size as the tree sees them (before d64/f64 and mandatory-prefix consumption).
  const has66 = (prefixes & Prefix.OpSize) !== 0;
  let osizeSel = w ? 2 : mode === 16 ? (has66 ? 1 : 0) : has66 ? 0 : 1;
  if (isVex || isEvex) osizeSel = w ? 2 : 1;
  const has67 = (prefixes & Prefix.AddrSize) !== 0;
  const asize = m64 ? (has67 ? 32 : 64) : mode === 32 ? (has67 ? 16 : 32) : has67 ? 32 : 16;
  let asizeSelected = false; // the form was chosen by address size (67 is then used, e.g. UMONITOR)
  while (ref > 0) {
    let i = 0;
    switch (NODES[ref]!) {
      case Node.Prefix:
        i = mandatory;
        break;
      case Node.Mode:
        i = m64 ? 0 : 1;
        break;
      case Node.W:
        i = w;
        break;
      case Node.L:
        i = L;
        if (isEvex && out.evexB && modrm >= 0xc0) i = 2; // EVEX.b reg-reg: L'L is rounding; VL 512
        break;
      case Node.Mod:
        i = modrm >= 0xc0 ? 1 : 0;
        break;
      case Node.Reg:
        i = (modrm >> 3) & 7;
        break;
      case Node.Rm:
        i = modrm & 7;
        break;
      case Node.OSize:
        i = osizeSel;
        break;
      case Node.ASize:
        i = asize === 16 ? 0 : asize === 32 ? 1 : 2;
        asizeSelected = true;
        break;
    }
    ref = NODES[ref + 1 + i]!;
  }
  if (ref === 0) return fail(out, DecodeError.Invalid);
  const form = -1 - ref;
  const flags = FLAGS32[form]!;
  out.form = form;
  out.flags = flags;
  out.mnemonicId = FORM_MNEMONIC[form]!;
  out.branch = FORM_BRANCH[form]!;
  out.modrm = modrm;
  out.asize = asize;

  // Prefix consumption and effective operand size.
  let used = 0;
  let opsizeUsedAsMandatory = false;
  if (!isVex && !isEvex) {
    if (flags & F.P66) {
      opsizeUsedAsMandatory = true;
      if (opsizeIdx >= 0) used |= 1 << opsizeIdx;
    }
    if (flags & (F.PF3 | F.PF2) && lastRepIdx >= 0) used |= 1 << lastRepIdx;
  }
  const eff66 = has66 && !opsizeUsedAsMandatory;
  let osize: number;
  if (isVex || isEvex) osize = m64 && w ? 64 : 32;
  else if (m64) {
    if (flags & F.F64) osize = 64;
    else if (w) osize = 64;
    else if (flags & F.D64) osize = eff66 ? 16 : 64;
    else osize = eff66 ? 16 : 32;
  } else osize = (mode === 16) !== eff66 ? 16 : 32;
  out.osize = osize;

  // VEX/EVEX validity: vvvv unused must be 1111; L allowed by the form.
  if (isVex || isEvex) {
    // With VSIB, EVEX.V' extends the index register instead of vvvv.
    if (flags & F.NoVvvv && vexV !== 0 && !(isEvex && vexV === 16 && hasVsib(form)))
      return fail(out, DecodeError.Invalid);
    const lm = FORM_LMASK[form]!;
    let vl = L;
    if (isEvex && out.evexB && modrm >= 0xc0) {
      if (flags & F.Er) {
        out.rounding = L;
        vl = lm & 4 ? 2 : lm & 1 ? 0 : 2;
      } else if (flags & F.Sae) {
        out.rounding = 4;
        vl = lm & 4 ? 2 : 0;
      } else return fail(out, DecodeError.Invalid);
    } else if (!(lm & (1 << L)) || (isEvex && L === 3)) return fail(out, DecodeError.Invalid); // EVEX.L'L=11: reserved, #UD even when L is ignored
    if (lm === 0xf) vl = 0; // L ignored: scalar
    out.vl = 128 << vl;
    if (isEvex) {
      if (out.evexMask === 0 && flags & F.KReq) return fail(out, DecodeError.Invalid);
      if (out.evexMask !== 0 && !(flags & F.K)) return fail(out, DecodeError.Invalid);
      // Zeroing-masking needs a mask: EVEX.z=1 with aaa=000 is #UD (objdump: (bad)).
      if (out.evexZ && (out.evexMask === 0 || !(flags & F.Zero))) return fail(out, DecodeError.Invalid);
      // ... and is #UD with a memory destination (stores merge only; SDM Vol. 2 §2.7, Table "#UD
      // conditions of opmask related encoding"); objdump prints `{z}` there.
      if (out.evexZ && modrm < 0xc0) {
        const m0 = OPERAND_METHOD[FORM_OPS[form * 5]!];
        if (m0 === Method.W || m0 === Method.M) return fail(out, DecodeError.Invalid);
      }
      if (out.evexB && modrm < 0xc0 && !(flags & (F.Bcst16 | F.Bcst32 | F.Bcst64)))
        return fail(out, DecodeError.Invalid);
    }
  } else if (flags & F.Lock) {
    // LOCK needs a memory destination.
  }
  if (prefixes & Prefix.Lock) {
    // objdump always prints "lock", so it is never marked as silently consumed.
    if (!(flags & F.Lock) || modrm < 0 || modrm >= 0xc0) return fail(out, DecodeError.Invalid);
  }

  // ---- ModRM memory operand: SIB and displacement ---------------------------------------------
  let memOperand = false;
  // Memory fields are meaningful only with a memory operand; they are set here, not reset above.
  out.memBase = Reg.None;
  out.memScale = 1;
  out.memDisp = 0;
  if (modrm >= 0 && modrm < 0xc0) {
    memOperand = true;
    const mod = modrm >> 6;
    const rm = modrm & 7;
    if (asize === 16) {
      switch (rm) {
        case 0:
          out.memBase = Reg.AX + 3;
          out.memIndex = Reg.AX + 6;
          break;
        case 1:
          out.memBase = Reg.AX + 3;
          out.memIndex = Reg.AX + 7;
          break;
        case 2:
          out.memBase = Reg.AX + 5;
          out.memIndex = Reg.AX + 6;
          break;
        case 3:
          out.memBase = Reg.AX + 5;
          out.memIndex = Reg.AX + 7;
          break;
        case 4:
          out.memBase = Reg.AX + 6;
          break;
        case 5:
          out.memBase = Reg.AX + 7;
          break;
        case 6:
          out.memBase = mod === 0 ? Reg.None : Reg.AX + 5;
          break;
        default:
          out.memBase = Reg.AX + 3;
      }
      if (mod === 1) {
        if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
        out.dispOffset = p - offset;
        out.dispSize = 1;
        out.memDisp = (code[p++]! << 24) >> 24;
      } else if (mod === 2 || (mod === 0 && rm === 6)) {
        if (p + 1 >= end) return fail(out, p + 1 >= len ? DecodeError.Truncated : DecodeError.TooLong);
        out.dispOffset = p - offset;
        out.dispSize = 2;
        out.memDisp = ((code[p]! | (code[p + 1]! << 8)) << 16) >> 16;
        p += 2;
      }
    } else {
      const regBase = asize === 64 ? Reg.RAX : Reg.EAX;
      const rexB = isVex || isEvex ? vexB : rex & 1 ? 8 : 0;
      const rexX = isVex || isEvex ? vexX : rex & 2 ? 8 : 0;
      let base = rm;
      if (rm === 4) {
        if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
        const sib = code[p++]!;
        out.sib = sib;
        out.memScale = 1 << (sib >> 6);
        const idx = ((sib >> 3) & 7) | rexX;
        if (idx !== 4) {
          out.memIndex = regBase + idx;
        }
        if (rexX && idx !== 4) ru |= 2;
        if (idx === 4 && rexX) ru |= 2;
        base = sib & 7;
        if (base === 5 && mod === 0) {
          base = -1;
        }
      } else if (rm === 5 && mod === 0) {
        base = -2; // RIP/EIP-relative in 64-bit mode, absolute disp32 otherwise
      }
      if (base >= 0) {
        out.memBase = regBase + (base | rexB);
        if (rexB) ru |= 1;
      } else if (base === -2 && m64) {
        out.memBase = asize === 64 ? Reg.RIP : Reg.EIP;
        out.ripRelative = true;
      }
      if (mod === 1) {
        if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
        out.dispOffset = p - offset;
        out.dispSize = 1;
        out.memDisp = (code[p++]! << 24) >> 24;
      } else if (mod === 2 || base < 0) {
        if (p + 3 >= end) return fail(out, p + 3 >= len ? DecodeError.Truncated : DecodeError.TooLong);
        out.dispOffset = p - offset;
        out.dispSize = 4;
        out.memDisp = code[p]! | (code[p + 1]! << 8) | (code[p + 2]! << 16) | (code[p + 3]! << 24);
        p += 4;
      }
    }
  }

  // ---- operands ------------------------------------------------------------------------------
  const rexPresent = rex !== 0;
  const regField = modrm >= 0 ? ((modrm >> 3) & 7) | (isVex || isEvex ? vexR : rex & 4 ? 8 : 0) : 0;
  const rmField = modrm >= 0 ? (modrm & 7) | (isVex || isEvex ? vexB : rex & 1 ? 8 : 0) : 0;
  const vl = out.vl || 128;
  let nops = 0;
  let hasRel = false;
  let immCount = 0;
  const base5 = form * 5;
  const opId = out.opId;
  const opKind = out.opKind;
  const opReg = out.opReg;
  const opBits = out.opBits;
  const gsz = osize >> 5; // 0/1/2 for 16/32/64: GPR_BITS and MEM_BITS column
  const msz = gsz * 3 + (vl >> 8); // MEM_BITS column: osize and vector length 128/256/512
  const vlx = vl >> 8;
  // 8-bit registers 4-7 are AH-BH without REX: reg + HIGH8 when (n & 12) === 4.
  const high8 = rexPresent ? 0 : Reg.AH - Reg.AL - 4;
  const shape = FORM_SHAPE[form]!;
  if (shape === 1) {
    // A lone relative branch target (jmp, jcc, call): a fifth of typical code. As Method.J below.
    // The arrays are written in the loop's order, so that a failing decode leaves them alike.
    const id = FORM_OPS[base5]!;
    opId[0] = id;
    const n = OPERAND_SIZE[id] === Size.b ? 1 : osize === 16 && !(flags & F.F64 && m64) ? 2 : 4;
    if (p + n > end) return fail(out, p + n > len ? DecodeError.Truncated : DecodeError.TooLong);
    let rel: number;
    if (n === 1) rel = (code[p]! << 24) >> 24;
    else if (n === 2) rel = ((code[p]! | (code[p + 1]! << 8)) << 16) >> 16;
    else rel = code[p]! | (code[p + 1]! << 8) | (code[p + 2]! << 16) | (code[p + 3]! << 24);
    out.immOffset = p - offset;
    out.immSize = n;
    p += n;
    out.immLo = rel;
    hasRel = true;
    opKind[0] = OpKind.Rel;
    opReg[0] = 0;
    opBits[0] = m64 ? 64 : osize;
    nops = 1;
  } else if (shape >= 128) {
    // E and an immediate (add_Ev_Ib, mov_Ev_Iz, cmp_Eb_Ib...): as Method.E and Method.I below.
    const bits = GPR_BITS[(shape & 31) * 3 + gsz]!;
    let eKind: number = OpKind.Mem;
    let e = 0;
    if (modrm >= 0xc0) {
      eKind = OpKind.Reg;
      e = GPR_BASE[bits >> 3]! + rmField;
      if (bits === 8 && (rmField & 12) === 4) e += high8;
      if (rex & 1) ru |= 1;
      if (bits === 8 && rexPresent) ru |= 16;
    }
    opId[0] = FORM_OPS[base5]!;
    opKind[0] = eKind;
    opReg[0] = e;
    opBits[0] = bits;
    opId[1] = FORM_OPS[base5 + 1]!;
    const ic = (shape >> 5) & 3; // 0 Ib, 1 Iz, 2 Ib sign-extended to the operand size
    const n = ic === 1 ? (osize === 16 ? 2 : 4) : 1;
    if (p + n > end) return fail(out, p + n > len ? DecodeError.Truncated : DecodeError.TooLong);
    let lo: number;
    if (n === 1) lo = ic === 0 ? code[p]! : (code[p]! << 24) >> 24;
    else if (n === 2) lo = ((code[p]! | (code[p + 1]! << 8)) << 16) >> 16;
    else lo = code[p]! | (code[p + 1]! << 8) | (code[p + 2]! << 16) | (code[p + 3]! << 24);
    out.immOffset = p - offset;
    out.immSize = n;
    out.immLo = lo;
    out.immHi = ic !== 0 && lo < 0 ? -1 : 0;
    p += n;
    immCount = 1;
    opKind[1] = OpKind.Imm;
    opReg[1] = 0;
    opBits[1] = ic === 0 ? 8 : osize;
    nops = 2;
  } else if (shape !== 0) {
    // Two general-purpose operands E,G or G,E of one size (mov_Ev_Gv, add_Gv_Ev...): over a third
    // of the instructions in typical code. The same result as the loop below, in one pass.
    const bits = GPR_BITS[(shape >> 1) * 3 + gsz]!;
    const base = GPR_BASE[bits >> 3]!;
    let g = base + regField;
    if (bits === 8 && (regField & 12) === 4) g += high8;
    if (rex & 4) ru |= 4;
    if (bits === 8 && rexPresent) ru |= 16;
    let eKind: number = OpKind.Mem;
    let e = 0;
    if (modrm >= 0xc0) {
      eKind = OpKind.Reg;
      e = base + rmField;
      if (bits === 8 && (rmField & 12) === 4) e += high8;
      if (rex & 1) ru |= 1;
    }
    const ek = shape & 1; // index of the E operand
    const gk = ek ^ 1;
    if (isEvex && vexRR) {
      // G is invalid: leave the arrays as the loop would (the operand before G, and G's id).
      if (ek === 0) {
        opId[0] = FORM_OPS[base5]!;
        opKind[0] = eKind;
        opReg[0] = e;
        opBits[0] = bits;
      }
      opId[gk] = FORM_OPS[base5 + gk]!;
      return fail(out, DecodeError.Invalid);
    }
    opId[ek] = FORM_OPS[base5 + ek]!;
    opKind[ek] = eKind;
    opReg[ek] = e;
    opBits[ek] = bits;
    opId[gk] = FORM_OPS[base5 + gk]!;
    opKind[gk] = OpKind.Reg;
    opReg[gk] = g;
    opBits[gk] = bits;
    nops = 2;
  } else
    for (let k = 0; k < 5; k++) {
      const id = FORM_OPS[base5 + k]!;
      if (id === 0) break;
      const method = OPERAND_METHOD[id]!;
      const size = OPERAND_SIZE[id]!;
      opId[k] = id;
      let kind: number = OpKind.Reg;
      let reg = 0;
      let bits = 0;
      switch (method) {
        case Method.G:
          bits = GPR_BITS[size * 3 + gsz]!;
          reg = GPR_BASE[bits >> 3]! + regField;
          if (bits === 8 && (regField & 12) === 4) reg += high8;
          if (rex & 4) ru |= 4;
          if (bits === 8 && rexPresent) ru |= 16;
          if (isEvex && vexRR) return fail(out, DecodeError.Invalid);
          break;
        case Method.E:
        case Method.R:
        case Method.M:
          if (modrm < 0xc0) {
            if (method === Method.R) return fail(out, DecodeError.Invalid);
            kind = OpKind.Mem;
            bits = method === Method.M ? MEM_BITS[size * 9 + msz]! : GPR_BITS[size * 3 + gsz]!;
            if (size === Size.sib && out.sib < 0) return fail(out, DecodeError.Invalid); // AMX sibmem
          } else {
            if (method === Method.M) return fail(out, DecodeError.Invalid);
            bits = GPR_BITS[size * 3 + gsz]!;
            reg = GPR_BASE[bits >> 3]! + rmField;
            if (bits === 8 && (rmField & 12) === 4) reg += high8;
            if (rex & 1) ru |= 1;
            if (bits === 8 && rexPresent) ru |= 16;
          }
          break;
        case Method.B:
          bits = GPR_BITS[size * 3 + gsz]!;
          reg = GPR_BASE[bits >> 3]! + (vexV & 15);
          break;
        case Method.Z: {
          bits = GPR_BITS[size * 3 + gsz]!;
          const n = (op & 7) | (rex & 1 ? 8 : 0);
          reg = GPR_BASE[bits >> 3]! + n;
          if (bits === 8 && (n & 12) === 4) reg += high8;
          if (rex & 1) ru |= 1;
          if (bits === 8 && rexPresent) ru |= 16;
          break;
        }
        case Method.C:
          // CR1, CR5-CR7 and CR9-CR15 do not exist: #UD (SDM MOV—Move to/from Control Registers).
          if (regField === 1 || (regField > 4 && regField !== 8)) return fail(out, DecodeError.Invalid);
          reg = Reg.CR0 + regField;
          if (rex & 4) ru |= 4;
          bits = m64 ? 64 : 32;
          break;
        case Method.D:
          if (regField > 7) return fail(out, DecodeError.Invalid); // DR8-DR15: #UD (SDM)
          reg = Reg.DR0 + regField;
          if (rex & 4) ru |= 4;
          bits = m64 ? 64 : 32;
          break;
        case Method.S: {
          const s = (modrm >> 3) & 7;
          if (s > 5) return fail(out, DecodeError.Invalid);
          reg = Reg.ES + s;
          bits = 16;
          break;
        }
        case Method.P:
          reg = Reg.MM0 + ((modrm >> 3) & 7);
          bits = 64;
          break;
        case Method.N:
        case Method.Q:
        case Method.KE:
        case Method.KR:
          // An MMX (N, Q) or mask (KE, KR) register in ModRM.rm, or memory (not for N and KR).
          if (modrm < 0xc0) {
            if (method === Method.N || method === Method.KR) return fail(out, DecodeError.Invalid);
            kind = OpKind.Mem;
            bits = MEM_BITS[size * 9 + msz]!;
          } else {
            reg = (method === Method.N || method === Method.Q ? Reg.MM0 : Reg.K0) + (modrm & 7);
            bits = 64;
          }
          break;
        case Method.V:
          bits = VEC_BITS[size * 3 + vlx]!;
          reg = VEC_BASE[size * 3 + vlx]! + (regField | vexRR);
          if (rex & 4) ru |= 4;
          break;
        case Method.H:
          bits = VEC_BITS[size * 3 + vlx]!;
          reg = VEC_BASE[size * 3 + vlx]! + vexV;
          break;
        case Method.U:
        case Method.W:
          if (modrm < 0xc0) {
            if (method === Method.U) return fail(out, DecodeError.Invalid);
            kind = OpKind.Mem;
            bits = MEM_BITS[size * 9 + msz]!;
          } else {
            bits = VEC_BITS[size * 3 + vlx]!;
            reg = VEC_BASE[size * 3 + vlx]! + (rmField | (isEvex ? vexX << 1 : 0));
            if (rex & 1) ru |= 1;
          }
          break;
        case Method.L: {
          if (p >= end) return fail(out, p >= len ? DecodeError.Truncated : DecodeError.TooLong);
          const is4 = code[p]!;
          if (immCount === 0) {
            out.immOffset = p - offset;
            out.immSize = 1;
            out.immLo = is4;
          }
          p++;
          immCount++;
          bits = VEC_BITS[size * 3 + vlx]!;
          reg = VEC_BASE[size * 3 + vlx]! + ((is4 >> 4) & (m64 ? 15 : 7));
          break;
        }
        case Method.BG:
        case Method.BR: {
          // MPX bound registers BND0-BND3. Other numbers are #UD only while MPX is enabled; otherwise
          // the encoding is a NOP (SDM Vol. 2 BNDMK etc.): valid, printed `(bad)` as objdump does.
          if (method === Method.BR && modrm < 0xc0) return fail(out, DecodeError.Invalid);
          const n = method === Method.BG ? regField : rmField;
          reg = n > 3 ? Reg.BadBnd : Reg.BND0 + n;
          bits = 128;
          break;
        }
        case Method.KG:
          reg = Reg.K0 + ((modrm >> 3) & 7);
          bits = 64;
          if (isVex && vexR) return fail(out, DecodeError.Invalid);
          if (isEvex && (vexR || vexRR)) return fail(out, DecodeError.Invalid);
          break;
        case Method.KH:
          reg = Reg.K0 + (vexV & 7);
          if (vexV > 7) return fail(out, DecodeError.Invalid);
          bits = 64;
          break;
        case Method.TG:
        case Method.TR:
        case Method.TH: {
          // AMX tile registers TMM0-TMM7: a number above 7 is #UD.
          if (method === Method.TR && modrm < 0xc0) return fail(out, DecodeError.Invalid);
          const n = method === Method.TG ? regField : method === Method.TR ? rmField : vexV;
          if (n > 7) return fail(out, DecodeError.Invalid);
          reg = Reg.TMM0 + n;
          bits = 8192;
          break;
        }
        case Method.MV: {
          if (modrm >= 0xc0 || out.sib < 0) return fail(out, DecodeError.Invalid);
          kind = OpKind.Mem;
          const idx = ((out.sib >> 3) & 7) | (isVex || isEvex ? vexX : 0) | (isEvex ? vexV & 16 : 0);
          out.memIndex = VEC_BASE[size * 3 + vlx]! + idx;
          bits = w ? 64 : 32; // element size (objdump's DWORD/QWORD PTR)
          break;
        }
        case Method.I:
        case Method.I2: {
          kind = method === Method.I2 ? OpKind.Imm2 : OpKind.Imm;
          let n: number;
          let signExt = false;
          switch (size) {
            case Size.b:
              n = 1;
              bits = 8;
              break;
            case Size.bs:
              n = 1;
              bits = osize;
              signExt = true;
              break;
            case Size.i4:
              n = 0; // low 4 bits of the is4 byte just read (VPERMIL2PS/PD)
              bits = 8;
              break;
            case Size.w:
              n = 2;
              bits = 16;
              break;
            case Size.d:
              n = 4;
              bits = 32;
              break;
            case Size.z:
              n = osize === 16 ? 2 : 4;
              bits = osize;
              signExt = true;
              break;
            case Size.v:
              n = osize >> 3;
              bits = osize;
              break;
            default:
              n = 8;
              bits = 64;
          }
          if (p + n > end) return fail(out, p + n > len ? DecodeError.Truncated : DecodeError.TooLong);
          let lo = 0;
          let hi = 0;
          if (n === 0) lo = code[p - 1]! & 15;
          else if (n === 1) lo = signExt ? (code[p]! << 24) >> 24 : code[p]!;
          else if (n === 2)
            lo = signExt ? ((code[p]! | (code[p + 1]! << 8)) << 16) >> 16 : code[p]! | (code[p + 1]! << 8);
          else {
            lo = code[p]! | (code[p + 1]! << 8) | (code[p + 2]! << 16) | (code[p + 3]! << 24);
            if (n === 8)
              hi = code[p + 4]! | (code[p + 5]! << 8) | (code[p + 6]! << 16) | (code[p + 7]! << 24);
          }
          if (signExt || n === 4) {
            if (n < 8) hi = lo < 0 ? -1 : 0;
          }
          if (kind === OpKind.Imm2) out.imm2 = lo >>> 0;
          else {
            if (n !== 0) {
              out.immOffset = p - offset;
              out.immSize = n;
            }
            out.immLo = lo;
            out.immHi = hi;
          }
          p += n;
          immCount++;
          break;
        }
        case Method.J: {
          kind = OpKind.Rel;
          hasRel = true;
          const n = size === Size.b ? 1 : osize === 16 && !(flags & F.F64 && m64) ? 2 : 4;
          if (p + n > end) return fail(out, p + n > len ? DecodeError.Truncated : DecodeError.TooLong);
          let rel: number;
          if (n === 1) rel = (code[p]! << 24) >> 24;
          else if (n === 2) rel = ((code[p]! | (code[p + 1]! << 8)) << 16) >> 16;
          else rel = code[p]! | (code[p + 1]! << 8) | (code[p + 2]! << 16) | (code[p + 3]! << 24);
          out.immOffset = p - offset;
          out.immSize = n;
          p += n;
          // Target is computed after the length is known (below).
          out.immLo = rel;
          bits = m64 ? 64 : osize;
          break;
        }
        case Method.O: {
          kind = OpKind.Mem;
          const n = asize >> 3;
          if (p + n > end) return fail(out, p + n > len ? DecodeError.Truncated : DecodeError.TooLong);
          out.dispOffset = p - offset;
          out.dispSize = n;
          let lo = code[p]! | (code[p + 1]! << 8);
          if (n >= 4) lo |= (code[p + 2]! << 16) | (code[p + 3]! << 24);
          out.memDisp = n >= 4 ? lo >>> 0 : lo;
          out.memDispHi =
            n === 8 ? code[p + 4]! | (code[p + 5]! << 8) | (code[p + 6]! << 16) | (code[p + 7]! << 24) : 0;
          p += n;
          memOperand = true;
          bits = GPR_BITS[size * 3 + gsz]!;
          break;
        }
        case Method.A: {
          kind = OpKind.Far;
          const n = osize === 16 ? 2 : 4;
          if (p + n + 2 > end)
            return fail(out, p + n + 2 > len ? DecodeError.Truncated : DecodeError.TooLong);
          out.immOffset = p - offset;
          out.immSize = n;
          out.immLo =
            n === 2
              ? code[p]! | (code[p + 1]! << 8)
              : (code[p]! | (code[p + 1]! << 8) | (code[p + 2]! << 16) | (code[p + 3]! << 24)) >>> 0;
          out.farSeg = code[p + n]! | (code[p + n + 1]! << 8);
          p += n + 2;
          bits = 0;
          break;
        }
        case Method.X:
        case Method.Y:
          kind = OpKind.Mem;
          bits = GPR_BITS[size * 3 + gsz]!;
          break;
        case Method.Fixed:
          switch (size as number) {
            case Fixed.AL:
              reg = Reg.AL;
              bits = 8;
              break;
            case Fixed.CL:
              reg = Reg.AL + 1;
              bits = 8;
              break;
            case Fixed.DX:
              reg = Reg.AX + 2;
              bits = 16;
              break;
            case Fixed.AX:
              reg = Reg.AX;
              bits = 16;
              break;
            case Fixed.rAX:
            case Fixed.rAXb:
              bits = osize;
              reg = GPR_BASE[osize >> 3]!;
              break;
            case Fixed.eAX:
              bits = osize === 16 ? 16 : 32;
              reg = GPR_BASE[bits >> 3]!;
              break;
            case Fixed.ST:
              reg = Reg.ST0;
              bits = 80;
              break;
            case Fixed.STi:
              reg = Reg.ST0 + (modrm & 7);
              bits = 80;
              break;
            case Fixed.One:
              kind = OpKind.One;
              bits = 8;
              break;
            case Fixed.XMM0:
              reg = Reg.XMM0;
              bits = 128;
              break;
            case Fixed.EAX:
            case Fixed.ECX:
            case Fixed.EDX:
            case Fixed.EBX:
              reg =
                Reg.EAX +
                ((size as number) === Fixed.EAX
                  ? 0
                  : (size as number) === Fixed.ECX
                    ? 1
                    : (size as number) === Fixed.EDX
                      ? 2
                      : 3);
              bits = 32;
              break;
            case Fixed.XLAT:
              kind = OpKind.Mem;
              out.memBase = asize === 64 ? Reg.RAX + 3 : asize === 32 ? Reg.EAX + 3 : Reg.AX + 3;
              memOperand = true;
              bits = 8;
              break;
            case Fixed.RAXa:
              reg = asize === 64 ? Reg.RAX : asize === 32 ? Reg.EAX : Reg.AX;
              bits = asize;
              break;
            default:
              reg = Reg.ES + ((size as number) - Fixed.ES);
              bits = 16;
          }
          break;
        default:
          return fail(out, DecodeError.Invalid);
      }
      opKind[k] = kind;
      opReg[k] = reg;
      opBits[k] = bits;
      nops++;
    }
  out.opCount = nops;

  const checks = FORM_CHECKS[form]!;
  if (checks !== 0) {
    // Gathers: the destination, the index and (VEX) the mask register must all differ, else #UD
    // (SDM VPGATHERDD/VGATHERDPS...; objdump prints them with `/(bad)` marks).
    if (checks & Check.Gather && nops >= 2 && opKind[1] === OpKind.Mem) {
      const d = (opReg[0]! - Reg.XMM0) % 32;
      const x = (out.memIndex - Reg.XMM0) % 32;
      if (d === x) return fail(out, DecodeError.Invalid);
      if (isVex && nops >= 3) {
        const m = (opReg[2]! - Reg.XMM0) % 32;
        if (m === d || m === x) return fail(out, DecodeError.Invalid);
      }
    }

    // AMX dot products (TDP*, TCMM*): the three tile registers must all differ, else #UD (SDM).
    if (checks & Check.Tiles && nops === 3) {
      if (opReg[0] === opReg[1] || opReg[0] === opReg[2] || opReg[1] === opReg[2])
        return fail(out, DecodeError.Invalid);
    }

    // 3DNow!: the imm8 suffix is the opcode; unlisted suffixes are invalid.
    if (checks & Check.Amd3dnow && AMD3DNOW_NAMES[out.immLo & 0xff] === undefined)
      return fail(out, DecodeError.Invalid);
  }

  // AVX512-FP16 complex multiplies (map 6: 56/57/D6/D7, VF[C]MADDC*, VF[C]MULC*): the destination
  // must differ from both sources, else #UD (SDM; objdump prints the destination as (bad)).
  if (map === OpMap.E6 && (op & 0x7e) === 0x56 && nops >= 3) {
    const d = (opReg[0]! - Reg.XMM0) % 32;
    if (d === (opReg[1]! - Reg.XMM0) % 32) return fail(out, DecodeError.Invalid);
    if (opKind[2] === OpKind.Reg && d === (opReg[2]! - Reg.XMM0) % 32) return fail(out, DecodeError.Invalid);
  }

  // EVEX compressed displacement and broadcast.
  if (isEvex && memOperand) {
    const tuple = FORM_TUPLE[form]!;
    let esz = flags & F.Bcst64 ? 8 : flags & F.Bcst16 ? 2 : 4;
    if (out.evexB) {
      if (!(flags & (F.Bcst16 | F.Bcst32 | F.Bcst64))) return fail(out, DecodeError.Invalid);
      // Half-vector conversions (vcvtps2pd...) broadcast one element per destination element.
      out.bcst = (tuple === Tuple.HV ? vl / 16 : tuple === Tuple.QV ? vl / 32 : vl / 8) / esz;
    }
    if (out.dispSize === 1) out.memDisp *= disp8Scale(tuple, vl, out.evexB, esz, w);
    if (out.evexB) esz = 0;
  }

  const length = p - offset;
  out.length = length;

  // Direct branch target.
  if (hasRel) {
    let t = ip + length + out.immLo;
    if (!m64) {
      if (osize === 16) t = (t & 0xffff) >>> 0;
      else t = t >>> 0;
    }
    out.target = t;
  }

  // Prefix usage (objdump prints unused prefixes by name).
  const opsize16 = opsizeIdx >= 0 && eff66 && osize === 16;
  if (opsize16 || rex & 8) {
    const sized = (flags & F.OSQ) !== 0 || SIZED[form] === 1;
    if (opsize16 && sized) used |= 1 << opsizeIdx;
    if (rex & 8 && ((flags & F.OSQ) !== 0 || (sized && !(flags & (F.D64 | F.F64))))) ru |= 8;
  }
  if (addrIdx >= 0 && (memOperand || asizeSelected || out.branch === Br.Loop || out.branch === Br.Jrcxz))
    used |= 1 << addrIdx;
  out.prefixUsed = used;
  out.rexUsed = ru;
  return length;
}

/**
 * Is the 9B at `p` a prefix of an x87 opcode (objdump's rule)? Prefix scanning stops at a 9B
 * that follows another prefix byte, or at the first non-prefix byte; 9B is a prefix when the byte
 * after that stop is D8-DF. A 9B after other prefixes looks only at the next byte.
 */
function fwaitPrefixes(code: Uint8Array, p: number, offset: number, end: number, m64: boolean): boolean {
  let q = p + 1;
  if (p === offset) {
    while (q < end) {
      const c = code[q]!;
      if (c === 0x9b) {
        q++;
        break;
      }
      if (!(isLegacyPrefix(c) || (m64 && (c & 0xf0) === 0x40))) break;
      q++;
    }
  }
  if (q >= end) return false;
  const c = code[q]!;
  return c >= 0xd8 && c <= 0xdf;
}

/** 1 for the legacy prefix bytes (F0 F2 F3 66 67 26 2E 36 3E 64 65), 0 otherwise. */
const PREFIX_BYTE: Uint8Array = new Uint8Array(256);
for (const b of [0xf0, 0xf2, 0xf3, 0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) PREFIX_BYTE[b] = 1;

function isLegacyPrefix(b: number): boolean {
  return (
    b === 0xf0 ||
    b === 0xf2 ||
    b === 0xf3 ||
    b === 0x66 ||
    b === 0x67 ||
    b === 0x26 ||
    b === 0x2e ||
    b === 0x36 ||
    b === 0x3e ||
    b === 0x64 ||
    b === 0x65
  );
}

function fail(out: Instruction, err: DecodeError): number {
  out.error = err;
  out.form = -1;
  out.length = 0;
  out.opCount = 0;
  out.branch = Br.None;
  // VEX/EVEX fields may have been set before the failure; the next decode only resets them
  // after a VEX/EVEX instruction (vl != 0).
  out.vl = 0;
  out.evexMask = 0;
  out.evexZ = 0;
  out.evexB = 0;
  out.rounding = -1;
  out.bcst = 0;
  return 0;
}

/** True when the form has a VSIB memory operand. */
function hasVsib(form: number): boolean {
  for (let k = 0; k < 5; k++) if (OPERAND_METHOD[FORM_OPS[form * 5 + k]!] === Method.MV) return true;
  return false;
}

/**
 * FORM_FLAGS read as signed 32-bit integers (F.EvexTag is bit 31): the values stay small
 * integers, so `out.flags` holds no boxed number and the tests `flags & F.X` are unchanged.
 */
const FLAGS32: Int32Array = new Int32Array(FORM_FLAGS.buffer, FORM_FLAGS.byteOffset, FORM_FLAGS.length);

/**
 * Per form, the fast paths of the operand loop: `size << 1 | (index of E)` when the form's
 * operands are exactly E and G (either order) of one {@link Size}; `128 | ic << 5 | size` for E
 * and an immediate (ic: 0 Ib, 1 Iz, 2 Ib sign-extended); 1 when its one operand is a relative
 * target (J); 0 otherwise.
 */
const FORM_SHAPE: Uint8Array = new Uint8Array(FORM_FLAGS.length);
for (let f = 0; f < FORM_SHAPE.length; f++) {
  const a = FORM_OPS[f * 5]!;
  const b = FORM_OPS[f * 5 + 1]!;
  if (a !== 0 && b === 0 && OPERAND_METHOD[a] === Method.J) FORM_SHAPE[f] = 1;
  if (a === 0 || b === 0 || FORM_OPS[f * 5 + 2] !== 0) continue;
  const size = OPERAND_SIZE[a]!;
  if (size === Size.None || size === Size.sib) continue;
  const sb = OPERAND_SIZE[b]!;
  const ma = OPERAND_METHOD[a]!;
  const mb = OPERAND_METHOD[b]!;
  if (ma === Method.E && mb === Method.G && sb === size) FORM_SHAPE[f] = (size << 1) | 0;
  else if (ma === Method.G && mb === Method.E && sb === size) FORM_SHAPE[f] = (size << 1) | 1;
  else if (ma === Method.E && mb === Method.I) {
    const ic = sb === Size.b ? 0 : sb === Size.z ? 1 : sb === Size.bs ? 2 : -1;
    if (ic >= 0) FORM_SHAPE[f] = 128 | (ic << 5) | size;
  }
}

/** Bits of {@link FORM_CHECKS}: validity checks that look at the decoded operands. */
enum Check {
  /** Operand 1 is a VSIB memory operand (gathers). */
  Gather = 1,
  /** Operand 2 is a tile register from VEX.vvvv (AMX dot products). */
  Tiles = 2,
  /** 3DNow!: the imm8 suffix is the opcode. */
  Amd3dnow = 4,
}

/** Per form: the {@link Check} bits (computed once at load; 0 for nearly every form). */
const FORM_CHECKS: Uint8Array = new Uint8Array(FORM_FLAGS.length);
for (let f = 0; f < FORM_CHECKS.length; f++)
  FORM_CHECKS[f] =
    (OPERAND_METHOD[FORM_OPS[f * 5 + 1]!] === Method.MV ? Check.Gather : 0) |
    (OPERAND_METHOD[FORM_OPS[f * 5 + 2]!] === Method.TH ? Check.Tiles : 0) |
    (FORM_FLAGS[f]! & F.Amd3dnow ? Check.Amd3dnow : 0);

/** Per form: 1 when an operand's size follows the operand size (computed once at load). */
const SIZED: Uint8Array = new Uint8Array(FORM_FLAGS.length);
for (let f = 0; f < SIZED.length; f++) SIZED[f] = osizeMatters(f) ? 1 : 0;

/** True when the form has an operand whose size depends on the operand size. */
function osizeMatters(form: number): boolean {
  const base = form * 5;
  for (let k = 0; k < 5; k++) {
    const id = FORM_OPS[base + k]!;
    if (id === 0) break;
    const s = OPERAND_SIZE[id]!;
    const m = OPERAND_METHOD[id]!;
    if (m === Method.Fixed) {
      if (s === Fixed.rAX || s === Fixed.eAX || s === Fixed.rAXb) return true;
      continue;
    }
    if (
      s === Size.v ||
      s === Size.z ||
      s === Size.y ||
      s === Size.bs ||
      s === Size.p ||
      s === Size.wd ||
      s === Size.fp
    )
      return true;
    if (m === Method.J && s !== Size.b) return true;
  }
  return FORM_BRANCH[form] === Br.Ret || FORM_BRANCH[form] === Br.RetFar || FORM_BRANCH[form] === Br.Iret;
}

function gprSize(size: number, osize: number): number {
  switch (size) {
    case Size.b:
      return 8;
    case Size.w:
      return 16;
    case Size.d:
      return 32;
    case Size.q:
      return 64;
    case Size.v:
      return osize;
    case Size.z:
      return osize === 16 ? 16 : 32;
    case Size.y:
      return osize === 64 ? 64 : 32;
    case Size.wd:
      return osize === 16 ? 16 : 32;
    default:
      return osize;
  }
}

/** Register width in bits of a vector operand of `size` at vector length `vl`. */
function vecRegBits(size: number, vl: number): number {
  switch (size) {
    case Size.x:
    case Size.ps:
    case Size.pd:
      return vl;
    case Size.h:
      return vl >= 512 ? 256 : 128;
    case Size.qq:
      return 256;
    case Size.oq:
      return 512;
    default:
      return 128;
  }
}

/** Memory access size in bits (0 = sizeless). */
function memSize(size: number, osize: number, vl: number): number {
  switch (size) {
    case Size.b:
      return 8;
    case Size.w:
      return 16;
    case Size.d:
      return 32;
    case Size.q:
      return 64;
    case Size.v:
      return osize;
    case Size.z:
      return osize === 16 ? 16 : 32;
    case Size.y:
      return osize === 64 ? 64 : 32;
    case Size.dq:
      return 128;
    case Size.qq:
      return 256;
    case Size.oq:
      return 512;
    case Size.x:
    case Size.ps:
    case Size.pd:
      return vl;
    case Size.h:
      return vl >> 1;
    case Size.qv:
      return vl >> 2;
    case Size.ov:
      return vl >> 3;
    case Size.t:
      return 80;
    case Size.ss:
      return 32;
    case Size.sd:
      return 64;
    case Size.sh:
      return 16;
    case Size.p:
    case Size.fp:
      return osize === 16 ? 32 : osize === 32 ? 48 : 80;
    case Size.s:
      return 0;
    default:
      return 0;
  }
}

/** Disp8*N scale factor (SDM Vol. 2 §2.7.5, tables 2-34 and 2-35). */
function disp8Scale(tuple: number, vl: number, b: number, esz: number, w: number): number {
  const vb = vl >> 3;
  switch (tuple) {
    case Tuple.FV:
      return b ? esz : vb;
    case Tuple.HV:
      return b ? esz : vb >> 1;
    case Tuple.QV:
      return b ? esz : vb >> 2;
    case Tuple.FVM:
      return vb;
    case Tuple.HVM:
      return vb >> 1;
    case Tuple.QVM:
      return vb >> 2;
    case Tuple.OVM:
      return vb >> 3;
    case Tuple.T1S:
      return w ? 8 : 4;
    case Tuple.T1S8:
      return 1;
    case Tuple.T1S16:
      return 2;
    case Tuple.T1S32:
    case Tuple.T1F32:
      return 4;
    case Tuple.T1S64:
    case Tuple.T1F64:
      return 8;
    case Tuple.T1F:
      return w ? 8 : 4;
    case Tuple.T2:
      return w ? 16 : 8;
    case Tuple.T4:
      return w ? 32 : 16;
    case Tuple.T8:
      return 32;
    case Tuple.M128:
      return 16;
    case Tuple.DUP:
      return vl === 128 ? 8 : vb;
    default:
      return 1;
  }
}
