/**
 * Formatters: AT&T text as GNU objdump prints it (`objdump -d`, binutils 2.40) and Intel
 * text as `objdump -d -M intel` prints it. Formatting allocates strings; decoding does not.
 * @module
 */
import { AMD3DNOW_NAMES, Br, F, Fixed, Method } from "./codes.ts";
import { MNEMONIC_ATT, MNEMONIC_INTEL, OPERAND_METHOD, OPERAND_SIZE } from "./generated/tables.ts";
import { type Instruction, OpKind, Prefix } from "./instruction.ts";
import { REG_NAMES, Reg } from "./registers.ts";

/** Options for the formatters. */
export interface FormatOptions {
  /**
   * Names an address for branch targets and RIP-relative comments, as objdump does for ELF
   * files: returns e.g. `"main+0x10"` (printed as `401130 <main+0x10>`), or undefined. When
   * the option is absent, addresses print as in `objdump -b binary` (`0x401130`).
   */
  symbolize?: ((address: number) => string | undefined) | undefined;
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16));

/** Unsigned hex of a 64-bit value given as a (possibly negative) number. */
function hexAddr(v: number, mode: number): string {
  if (v >= 0) {
    if (mode !== 64 && v > 0xffffffff) return (v % 4294967296).toString(16);
    return v.toString(16);
  }
  if (mode !== 64) return (v >>> 0).toString(16);
  return (BigInt(v) + (1n << 64n)).toString(16);
}

function hex64(lo: number, hi: number): string {
  hi >>>= 0;
  lo >>>= 0;
  if (hi === 0) return lo.toString(16);
  const l = lo.toString(16);
  return hi.toString(16) + "00000000".slice(l.length) + l;
}

function immText(insn: Instruction, k: number): string {
  const bits = insn.opBits[k]!;
  const lo = insn.immLo;
  if (bits === 64) return hex64(lo, insn.immHi);
  if (bits === 32) return (lo >>> 0).toString(16);
  if (bits === 16) return (lo & 0xffff).toString(16);
  return (lo & 0xff).toString(16);
}

function signedHex(v: number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

function targetText(addr: number, insn: Instruction, opts: FormatOptions | undefined): string {
  const h = hexAddr(addr, insn.mode);
  if (opts?.symbolize) {
    const s = opts.symbolize(addr < 0 ? addr : addr);
    return s ? `${h} <${s}>` : h;
  }
  return `0x${h}`;
}

const PREFIX_NAMES: Record<number, string> = {
  240: "lock",
  242: "repnz",
  243: "repz",
  46: "cs",
  54: "ss",
  62: "ds",
  38: "es",
  100: "fs",
  101: "gs",
};

/** Is the instruction's segment override shown inside the memory operand? */
function segmentShown(insn: Instruction): boolean {
  if (insn.segment === Reg.None) return false;
  if (insn.mode === 64) return insn.segment === Reg.ES + 4 || insn.segment === Reg.ES + 5;
  return true;
}

function hasMemOperand(insn: Instruction): boolean {
  for (let k = 0; k < insn.opCount; k++) if (insn.opKind[k] === OpKind.Mem) return true;
  return false;
}

/** Prefix names objdump prints before the mnemonic, and the mnemonic suffixes (`,pt`). */
/** Set by {@link prefixText}: the branch-hint suffix (`,pt`/`,pn`) for the mnemonic. */
let jccHintOut = "";

function prefixText(insn: Instruction, intel: boolean): string {
  const code = insn.code;
  const base = insn.offset;
  const flags = insn.flags;
  let pre = "";
  let jccHint = "";
  const n = insn.prefixCount;
  const isVexEvex = (insn.prefixes & (Prefix.Vex | Prefix.Evex)) !== 0;
  const memShown = hasMemOperand(insn) && segmentShown(insn);
  // The last segment prefix is the effective one; earlier ones are printed.
  let lastSeg = -1;
  let lastRep = -1;
  for (let i = 0; i < n; i++) {
    const b = code[base + i]!;
    if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x64 || b === 0x65) lastSeg = i;
    if (b === 0xf2 || b === 0xf3) lastRep = i;
  }
  for (let i = 0; i < n; i++) {
    const b = code[base + i]!;
    if ((b & 0xf0) === 0x40 && insn.mode === 64) continue; // REX handled below
    if (insn.prefixUsed & (1 << i)) continue;
    let name: string | undefined;
    if (b === 0x66) name = "data16";
    else if (b === 0x67) name = insn.mode === 64 ? "addr32" : insn.mode === 32 ? "addr16" : "addr32";
    else if (b === 0xf3 || b === 0xf2) {
      if (i === lastRep) {
        if (flags & F.Rep) name = b === 0xf3 ? "rep" : "repnz";
        else if (flags & F.Repz) name = b === 0xf3 ? "repz" : "repnz";
        else if (b === 0xf2 && flags & F.Bnd) name = "bnd";
        else if (flags & F.Hle && insn.prefixes & Prefix.Lock) name = b === 0xf2 ? "xacquire" : "xrelease";
        else name = PREFIX_NAMES[b];
      } else name = PREFIX_NAMES[b];
    } else if (b === 0x2e || b === 0x3e) {
      if (i === lastSeg && insn.branch === Br.Jcc && !intel) {
        jccHint = b === 0x2e ? ",pn" : ",pt";
        continue;
      }
      if (i === lastSeg && insn.branch === Br.Jcc && intel) {
        jccHint = b === 0x2e ? ",pn" : ",pt";
        continue;
      }
      if (i === lastSeg && b === 0x3e && flags & F.Notrack) name = "notrack";
      else if (i === lastSeg && memShown) continue;
      else name = PREFIX_NAMES[b];
    } else if (b === 0x26 || b === 0x36 || b === 0x64 || b === 0x65) {
      if (i === lastSeg && memShown) continue;
      name = PREFIX_NAMES[b];
    } else name = PREFIX_NAMES[b];
    if (name) pre += `${name} `;
  }
  if (insn.rex !== 0 && !isVexEvex) {
    const rex = insn.rex;
    const used = insn.rexUsed;
    const unused = rex & 0xf & ~used & 0xf;
    if (unused !== 0 || (rex === 0x40 && !(used & 16))) {
      {
        let s = "rex";
        if (rex & 0xf) {
          s += ".";
          if (rex & 8) s += "W";
          if (rex & 4) s += "R";
          if (rex & 2) s += "X";
          if (rex & 1) s += "B";
        }
        pre += `${s} `;
      }
    }
  }
  jccHintOut = jccHint;
  return pre;
}

const SUFFIX: Record<number, string> = { 8: "b", 16: "w", 32: "l", 64: "q" };

/** x87: with a 9B (FWAIT) prefix the no-wait control forms print without the `n` (`fnstsw` -> `fstsw`). */
function fwaitName(insn: Instruction, m: string): string {
  if (m.charCodeAt(0) !== 0x66 || m.charCodeAt(1) !== 0x6e || m === "fnop") return m;
  for (let i = 0; i < insn.prefixCount; i++) if (insn.code[insn.offset + i] === 0x9b) return `f${m.slice(2)}`;
  return m;
}

/** Register operand name; the fixed x87 top of stack prints `st` (objdump), st(i) from ModRM `st(i)`. */
function regName(insn: Instruction, k: number): string {
  const id = insn.opId[k]!;
  if (OPERAND_METHOD[id] === Method.Fixed && OPERAND_SIZE[id] === Fixed.ST) return "st";
  return REG_NAMES[insn.opReg[k]!]!;
}

// Predicate pseudo-mnemonics chosen by the immediate (`vcmp{cmp}ps`, `vpcmp{pcmp}ub`,
// `vpclmul{clmul}`); an immediate outside the table prints as an operand with `raw` in its place.
const CMP_PRED =
  "eq lt le unord neq nlt nle ord eq_uq nge ngt false neq_oq ge gt true eq_os lt_oq le_oq unord_s neq_us nlt_uq nle_uq ord_s eq_us nge_uq ngt_uq false_os neq_os ge_oq gt_oq true_us".split(
    " ",
  );
const CC_TABLES: Record<string, { names: Record<number, string>; raw: string }> = {
  cmp: { names: { ...CMP_PRED }, raw: "" },
  cmp8: { names: { ...CMP_PRED.slice(0, 8) }, raw: "" },
  pcmp: { names: { 0: "eq", 1: "lt", 2: "le", 4: "neq", 5: "nlt", 6: "nle" }, raw: "" },
  xopcom: {
    names: { 0: "lt", 1: "le", 2: "gt", 3: "ge", 4: "eq", 5: "neq", 6: "false", 7: "true" },
    raw: "",
  },
  clmul: {
    names: { 0: "lqlqdq", 1: "hqlqdq", 2: "lqhqdq", 3: "hqhqdq", 16: "lqhqdq", 17: "hqhqdq" },
    raw: "qdq",
  },
  "3dnow": { names: AMD3DNOW_NAMES, raw: "" },
};
/** Set by {@link expandCc}: the immediate was folded into the mnemonic. */
let ccConsumed = false;

function expandCc(insn: Instruction, m: string): string {
  ccConsumed = false;
  const i = m.indexOf("{");
  if (i < 0) return m;
  const j = m.indexOf("}", i);
  const t = CC_TABLES[m.slice(i + 1, j)];
  if (!t) return m;
  const name = t.names[insn.immLo & 0xff];
  if (name !== undefined) ccConsumed = true;
  return m.slice(0, i) + (name ?? t.raw) + m.slice(j + 1);
}

/** Intel: `{1toN}` after a broadcast whose size the mnemonic does not tell (Xy/Xyz forms). */
function bcstShown(insn: Instruction): boolean {
  return (insn.flags & F.Xyz) !== 0 || ((insn.flags & F.Xy) !== 0 && insn.vl < 512);
}

/** Operand (Intel index) that carries the rounding/SAE mark: the last one that is not an immediate. */
function roundingOperand(insn: Instruction): number {
  if (insn.rounding < 0) return -1;
  for (let k = insn.opCount - 1; k >= 0; k--) {
    const kind = insn.opKind[k]!;
    if (kind !== OpKind.Imm && kind !== OpKind.Imm2) return k;
  }
  return -1;
}

function isHighVec(r: number): boolean {
  return r >= Reg.XMM0 && r < Reg.K0 && (r - Reg.XMM0) % 32 >= 16;
}

/** objdump's `{evex} ` pseudo-prefix: an EVEX encoding that VEX could have expressed. */
function evexTag(insn: Instruction): string {
  if (!(insn.flags & F.EvexTag) || !(insn.prefixes & Prefix.Evex)) return "";
  if (insn.evexMask || insn.evexZ || insn.evexB) return "";
  if (((insn.code[insn.offset + insn.prefixCount + 3]! >> 5) & 3) >= 2) return ""; // EVEX.L'L
  for (let k = 0; k < insn.opCount; k++)
    if (insn.opKind[k] === OpKind.Reg && isHighVec(insn.opReg[k]!)) return "";
  return isHighVec(insn.memIndex) ? "" : "{evex} ";
}

/**
 * Gathers whose destination, index and (VEX) mask registers are not all different: objdump
 * appends `/(bad)` to the clashing operands (bit k = Intel operand k). With EVEX only the index
 * is marked, and only in AT&T syntax.
 */
function gatherClash(insn: Instruction, intel: boolean): number {
  if (insn.opCount < 2 || insn.opKind[0] !== OpKind.Reg || insn.opKind[1] !== OpKind.Mem) return 0;
  if (OPERAND_METHOD[insn.opId[1]!] !== Method.MV) return 0;
  const num = (r: number) => (r - Reg.XMM0) % 32;
  const d = num(insn.opReg[0]!);
  const x = num(insn.memIndex);
  if (insn.prefixes & Prefix.Evex) return d === x && !intel ? 2 : 0;
  if (insn.opCount < 3) return 0;
  const m = num(insn.opReg[2]!);
  return (d === x || d === m ? 1 : 0) | (x === d || x === m ? 2 : 0) | (m === d || m === x ? 4 : 0);
}

function attMnemonic(insn: Instruction): string {
  let m = fwaitName(insn, expandCc(insn, MNEMONIC_ATT[insn.mnemonicId]!));
  if (insn.flags & (F.Xy | F.Xyz) && !insn.bcst && hasMemOperand(insn)) {
    m += insn.vl === 128 ? "x" : insn.vl === 256 ? "y" : insn.flags & F.Xyz ? "z" : "";
  }
  if (insn.flags & F.Sfx) {
    for (let k = 0; k < insn.opCount; k++) {
      if (insn.opKind[k] === OpKind.Mem) {
        const method = OPERAND_METHOD[insn.opId[k]!]!;
        if (method === Method.E || method === Method.M || method === Method.O) {
          const bits = insn.opBits[k]!;
          if (insn.flags & (F.D64 | F.F64) && insn.mode === 64 && bits === 64) break;
          if (insn.flags & (F.D64 | F.F64) && insn.mode !== 64 && bits === 32) break;
          m += SUFFIX[bits] ?? "";
        }
        break;
      }
    }
  }
  return m;
}

function attMem(insn: Instruction, k: number): string {
  const method = OPERAND_METHOD[insn.opId[k]!]!;
  const a64 = insn.asize === 64;
  if (method === Method.X || method === Method.Y) {
    const r = insn.asize === 64 ? Reg.RAX : insn.asize === 32 ? Reg.EAX : Reg.AX;
    if (method === Method.Y) return `%es:(%${REG_NAMES[r + 7]})`;
    const seg = insn.segment !== Reg.None ? REG_NAMES[insn.segment] : "ds";
    return `%${seg}:(%${REG_NAMES[r + 6]})`;
  }
  let s = "";
  if (isXlat(insn, k)) {
    const seg = insn.segment !== Reg.None ? REG_NAMES[insn.segment] : "ds";
    return `%${seg}:(%${REG_NAMES[insn.memBase]})`;
  }
  if (segmentShown(insn)) s = `%${REG_NAMES[insn.segment]}:`;
  if (method === Method.O) return `${s}0x${moffsText(insn)}`;
  const base = insn.memBase;
  let index = insn.memIndex;
  const hasSib = insn.sib >= 0;
  // objdump shows %riz/%eiz when a SIB byte encodes "no index" with a scale, or with no base in 32-bit addressing.
  let showIz = false;
  if (hasSib && index === Reg.None && insn.asize !== 16) {
    const scaleBits = insn.sib >> 6;
    // ... and (objdump) whenever a base other than rSP/r12 is present.
    if (
      scaleBits !== 0 ||
      (base === Reg.None && insn.asize === 32 && insn.mode === 64) ||
      (base !== Reg.None && (insn.sib & 7) !== 4)
    )
      showIz = true;
  }
  if (showIz) index = a64 ? Reg.RIZ : Reg.EIZ;
  if (base === Reg.None && index === Reg.None) {
    // Absolute address.
    const d = insn.memDisp;
    if (insn.asize === 64) return `${s}0x${hexAddr(d, 64)}`;
    if (insn.asize === 32) return `${s}0x${(d >>> 0).toString(16)}`;
    return `${s}0x${(d & 0xffff).toString(16)}`;
  }
  if (insn.dispSize > 0 || insn.ripRelative) {
    if (insn.asize === 16 && base !== Reg.None) s += signedHex(insn.memDisp);
    else if (base === Reg.None && insn.asize === 32 && insn.mode === 64)
      s += `0x${(insn.memDisp >>> 0).toString(16)}`;
    else s += signedHex(insn.memDisp);
  }
  s += "(";
  if (base !== Reg.None) s += `%${REG_NAMES[base]}`;
  if (index !== Reg.None)
    s += insn.asize === 16 ? `,%${REG_NAMES[index]}` : `,%${REG_NAMES[index]},${insn.memScale}`;
  s += ")";
  if (insn.bcst) s += `{1to${insn.bcst}}`;
  return s;
}

function moffsText(insn: Instruction): string {
  if (insn.dispSize === 8) return hex64(insn.memDisp, insn.memDispHi);
  return (insn.memDisp >>> 0).toString(16);
}

function isXlat(insn: Instruction, k: number): boolean {
  const id = insn.opId[k]!;
  return OPERAND_METHOD[id] === Method.Fixed && OPERAND_SIZE[id] === Fixed.XLAT;
}

function isPortDx(insn: Instruction, k: number): boolean {
  const id = insn.opId[k]!;
  return OPERAND_METHOD[id] === Method.Fixed && OPERAND_SIZE[id] === Fixed.DX;
}

function isIndirectBranch(insn: Instruction): boolean {
  const b = insn.branch;
  return (
    b === Br.JmpInd ||
    b === Br.CallInd ||
    ((b === Br.JmpFar || b === Br.CallFar) && insn.opKind[0] !== OpKind.Far)
  );
}

function ripComment(insn: Instruction, opts: FormatOptions | undefined): string {
  if (!insn.ripRelative) return "";
  let t = insn.ip + insn.length + insn.memDisp;
  if (insn.asize === 32) t = t >>> 0;
  return `        # ${targetText(t, insn, opts)}`;
}

/** Format in AT&T syntax exactly as `objdump -d` prints the instruction text. */
export function formatAtt(insn: Instruction, opts?: FormatOptions): string {
  if (insn.error !== 0) return "(bad)";
  let mn: string;
  if (insn.prefixCount === 0 && !(insn.flags & F.EvexTag)) mn = attMnemonic(insn);
  else {
    const pre = prefixText(insn, false);
    mn = pre + evexTag(insn) + attMnemonic(insn) + jccHintOut;
  }
  const n = insn.opCount;
  if (n === 0) return mn;
  const flags = insn.flags;
  const keep = (flags & F.Keep) !== 0;
  const indirect = isIndirectBranch(insn);
  const cc = ccConsumed;
  const rk = insn.rounding < 0 ? -1 : roundingOperand(insn);
  const clash = insn.opCount >= 2 ? gatherClash(insn, false) : 0;
  const rounding = rk < 0 ? "" : insn.rounding === 4 ? "{sae}" : `{${ROUNDING[insn.rounding]}-sae}`;
  let ops = "";
  for (let k = n - 1; k >= 0; k--) {
    const kind = insn.opKind[k]!;
    let t: string;
    switch (kind) {
      case OpKind.Reg:
        if (indirect) t = `*%${regName(insn, k)}`;
        else if (isPortDx(insn, k)) t = "(%dx)";
        else if (insn.opReg[k] === Reg.BadBnd) t = "(bad)";
        else t = `%${regName(insn, k)}`;
        break;
      case OpKind.Mem:
        t = indirect ? `*${attMem(insn, k)}` : attMem(insn, k);
        break;
      case OpKind.Imm:
        if (cc) continue;
        t = `$0x${immText(insn, k)}`;
        break;
      case OpKind.Imm2:
        t = `$0x${insn.imm2.toString(16)}`;
        break;
      case OpKind.Rel:
        t = targetText(insn.target, insn, opts);
        break;
      case OpKind.Far:
        t = `$0x${insn.farSeg.toString(16)},$0x${(insn.immLo >>> 0).toString(16)}`;
        break;
      default:
        continue;
    }
    if (clash & (1 << k)) t += "/(bad)";
    if (k === 0 && insn.evexMask) t += `{%k${insn.evexMask}}`;
    if (k === 0 && insn.evexZ) t += "{z}";
    if (k === rk && !(flags & F.RndAfter)) ops = joinOp(ops, rounding, keep);
    ops = joinOp(ops, t, keep);
    if (k === rk && flags & F.RndAfter) ops = joinOp(ops, rounding, keep);
  }
  if (mn.length < 6) mn += SPACES[6 - mn.length];
  return insn.ripRelative ? `${mn} ${ops}${ripComment(insn, opts)}` : `${mn} ${ops}`;
}

const ROUNDING = ["rn", "rd", "ru", "rz"];
const SPACES = ["", " ", "  ", "   ", "    ", "     ", "      "];

/** Append operand text `t` (AT&T order), or prepend it when the form keeps Intel order. */
function joinOp(ops: string, t: string, keep: boolean): string {
  if (ops === "") return t;
  return keep ? `${t},${ops}` : `${ops},${t}`;
}

const PTR: Record<number, string> = {
  8: "BYTE PTR ",
  16: "WORD PTR ",
  32: "DWORD PTR ",
  48: "FWORD PTR ",
  64: "QWORD PTR ",
  80: "TBYTE PTR ",
  128: "XMMWORD PTR ",
  256: "YMMWORD PTR ",
  512: "ZMMWORD PTR ",
};
const BCST: Record<number, string> = { 2: "WORD BCST ", 4: "DWORD BCST ", 8: "QWORD BCST " };

function intelMem(insn: Instruction, k: number): string {
  const method = OPERAND_METHOD[insn.opId[k]!]!;
  const bits = insn.opBits[k]!;
  let ptr = method === Method.M && OPERAND_SIZE[insn.opId[k]!] === 0 ? "" : (PTR[bits] ?? "");
  // objdump names the m128 of CMPXCHG16B (0F C7 /1) and INVEPT/INVVPID (66 0F 38 80/81) an OWORD.
  if (
    bits === 128 &&
    ((insn.map === 1 && insn.opcode === 0xc7) || (insn.map === 2 && (insn.opcode & 0xfe) === 0x80))
  )
    ptr = "OWORD PTR ";
  if (insn.bcst) ptr = BCST[insn.flags & F.Bcst64 ? 8 : insn.flags & F.Bcst16 ? 2 : 4] ?? "";
  if (method === Method.X || method === Method.Y) {
    const r = insn.asize === 64 ? Reg.RAX : insn.asize === 32 ? Reg.EAX : Reg.AX;
    if (method === Method.Y) return `${ptr}es:[${REG_NAMES[r + 7]}]`;
    const seg = insn.segment !== Reg.None ? REG_NAMES[insn.segment] : "ds";
    return `${ptr}${seg}:[${REG_NAMES[r + 6]}]`;
  }
  if (isXlat(insn, k)) {
    const sg = insn.segment !== Reg.None ? REG_NAMES[insn.segment] : "ds";
    return `${ptr}${sg}:[${REG_NAMES[insn.memBase]}]`;
  }
  let seg = segmentShown(insn) ? `${REG_NAMES[insn.segment]}:` : "";
  if (method === Method.O) return `${seg || "ds:"}0x${moffsText(insn)}`;
  const base = insn.memBase;
  let index = insn.memIndex;
  if (insn.sib >= 0 && index === Reg.None && insn.asize !== 16) {
    const scaleBits = insn.sib >> 6;
    if (
      scaleBits !== 0 ||
      (base === Reg.None && insn.asize === 32 && insn.mode === 64) ||
      (base !== Reg.None && (insn.sib & 7) !== 4)
    )
      index = insn.asize === 64 ? Reg.RIZ : Reg.EIZ;
  }
  if (base === Reg.None && index === Reg.None) {
    if (!seg) seg = "ds:";
    const d = insn.memDisp;
    const a =
      insn.asize === 64
        ? hexAddr(d, 64)
        : insn.asize === 32
          ? (d >>> 0).toString(16)
          : (d & 0xffff).toString(16);
    return `${ptr}${seg}0x${a}`;
  }
  let s = `${ptr}${seg}[`;
  if (base !== Reg.None) s += REG_NAMES[base];
  if (index !== Reg.None)
    s += `${base !== Reg.None ? "+" : ""}${REG_NAMES[index]}${insn.asize === 16 ? "" : `*${insn.memScale}`}`;
  if (insn.dispSize > 0 || insn.ripRelative) {
    const d = insn.memDisp;
    if (base === Reg.None && insn.asize === 32 && insn.mode === 64) s += `+0x${(d >>> 0).toString(16)}`;
    // objdump -M intel prints a negative RIP/EIP-relative displacement as its 64-bit two's complement.
    else if (insn.ripRelative && d < 0) s += `+0x${hexAddr(d, 64)}`;
    else s += d < 0 ? `-0x${(-d).toString(16)}` : `+0x${d.toString(16)}`;
  }
  s += "]";
  if (insn.bcst && bcstShown(insn)) s += `{1to${insn.bcst}}`;
  return s;
}

/** Format in Intel syntax as `objdump -d -M intel` prints the instruction text. */
export function formatIntel(insn: Instruction, opts?: FormatOptions): string {
  if (insn.error !== 0) return "(bad)";
  const pre = prefixText(insn, true);
  const jccHint = jccHintOut;
  let mn = pre + evexTag(insn) + fwaitName(insn, expandCc(insn, MNEMONIC_INTEL[insn.mnemonicId]!)) + jccHint;
  const cc = ccConsumed;
  const n = insn.flags & F.IntelBare ? 0 : insn.opCount;
  if (n === 0) return mn;
  const parts: string[] = [];
  const rk = roundingOperand(insn);
  const clash = gatherClash(insn, true);
  for (let k = 0; k < n; k++) {
    const kind = insn.opKind[k]!;
    let t = "";
    switch (kind) {
      case OpKind.Reg:
        t = regName(insn, k);
        // Debug registers: AT&T %db<n>, Intel dr<n> (objdump).
        if (insn.opReg[k]! >= Reg.DR0 && insn.opReg[k]! < Reg.DR0 + 16) t = `dr${insn.opReg[k]! - Reg.DR0}`;
        break;
      case OpKind.Mem:
        t = intelMem(insn, k);
        break;
      case OpKind.Imm:
        if (cc) continue;
        t = `0x${immText(insn, k)}`;
        break;
      case OpKind.Imm2:
        t = `0x${insn.imm2.toString(16)}`;
        break;
      case OpKind.Rel:
        t = targetText(insn.target, insn, opts);
        break;
      case OpKind.Far:
        t = `0x${insn.farSeg.toString(16)}:0x${(insn.immLo >>> 0).toString(16)}`;
        break;
      case OpKind.One:
        t = "1";
        break;
    }
    if (clash & (1 << k)) t += "/(bad)";
    if (k === 0 && insn.evexMask) t += `{k${insn.evexMask}}`;
    if (k === 0 && insn.evexZ) t += "{z}";
    parts.push(t);
  }
  if (rk >= 0) {
    parts[rk] += insn.rounding === 4 ? "{sae}" : `{${["rn", "rd", "ru", "rz"][insn.rounding]}-sae}`;
  }
  if (mn.length < 6) mn = mn.padEnd(6, " ");
  return `${mn} ${parts.join(",")}${ripComment(insn, opts)}`;
}
