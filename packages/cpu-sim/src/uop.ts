/**
 * The decoded-instruction cache entry ("uop"): what the interpreter needs of one instruction,
 * extracted once from the decoder's {@link Instruction} so that executing it again costs no
 * decoding. Operands are flattened into small integer fields.
 * @module
 */
import { decode, formatAtt, Instruction, OpKind, Prefix, Reg } from "@xmc/x86-decode";
import type { Cpu } from "./cpu.ts";
import type { Block } from "./exec/block.ts";

/** An instruction handler: executes `u` on `c`. `c.rip` already points after the instruction. */
export type Handler = (c: Cpu, u: Uop) => void;

/** Operand kinds in a uop. */
export enum K {
  None = 0,
  /** General-purpose register: `r` number 0-15, `s` size in bytes; `h` 1 for AH/CH/DH/BH. */
  Gpr = 1,
  /** The memory operand (`mem*` fields), `s` access size in bytes. */
  Mem = 2,
  /** Immediate (`immLo`/`immHi`, sign-extended to `s` bytes). */
  Imm = 3,
  /** Direct branch target (`target`). */
  Rel = 4,
  /** XMM register `r` (0-15). */
  Xmm = 5,
  /** x87 register ST(r). */
  St = 6,
  /** MMX register `r`. */
  Mmx = 7,
  /** Segment register `r` (ES=0 … GS=5). */
  Seg = 8,
  /** Second immediate (`imm2`). */
  Imm2 = 9,
  /** Implicit count 1 (D0-D3 shifts). */
  One = 10,
  /** Control/debug/other register not modeled (privileged instructions). */
  Other = 11,
  /** YMM/ZMM/mask registers (not implemented by the interpreter; #UD). */
  Wide = 12,
}

/** A memory operand's base/index register number (-1 none, -2 RIP/EIP or a vector index). */
function gprNum(reg: number): number {
  if (reg === Reg.None) return -1;
  if (reg < 16) return reg;
  if (reg < 32) return reg - 16;
  if (reg < 48) return reg - 32;
  return -2; // RIP/EIP or vector index (VSIB): handled separately
}

/** One decoded instruction, ready to execute. */
export class Uop {
  /** The handler (set by the machine from the form's name). */
  fn: Handler;
  // Numeric fields start as numbers (never undefined), so that V8 keeps doubles (addresses above
  // 2^31) in place instead of boxing each store: a reloaded uop then allocates nothing.
  /** Address, length, address of the next instruction. */
  ip = 0;
  len = 0;
  next = 0;
  /** Decoder form id and mnemonic text id. */
  form = 0;
  /** Operand size and address size in bytes. */
  osize = 0;
  asize = 0;
  /** Operands (Intel order): kind, register number, size in bytes, high-byte flag. */
  nops = 0;
  k0 = 0;
  r0 = 0;
  s0 = 0;
  h0 = 0;
  k1 = 0;
  r1 = 0;
  s1 = 0;
  h1 = 0;
  k2 = 0;
  r2 = 0;
  s2 = 0;
  h2 = 0;
  k3 = 0;
  r3 = 0;
  s3 = 0;
  /** Memory operand: base and index GPR (-1 none), scale, displacement, segment (4 FS, 5 GS, else -1), RIP-relative absolute address. */
  mBase = -1;
  mIndex = -1;
  mScale = 1;
  mDisp = 0;
  mSeg = -1;
  /** For RIP-relative operands: the absolute address (base/index unused). -1 otherwise. */
  mAbs = -1;
  /** Immediate (low/high 32 bits), second immediate, branch target. */
  immLo = 0;
  immHi = 0;
  imm2 = 0;
  target = 0;
  /** 0: no repeat prefix; 1: REP/REPE (F3); 2: REPNE (F2). Only for string forms. */
  rep = 0;
  /** LOCK prefix present. */
  lock = false;
  /** Vector length in bytes (VEX/EVEX), 0 for legacy. */
  vl = 0;
  /** Modeled cost in ticks (cost.ts {@link TICKS_PER_CYCLE}; from the cost profile). */
  ticks = 0;
  /** Cost class index (for statistics). */
  costClass = 0;
  /** Straight-line successor (valid while it is `live`). */
  nextU: Uop | null = null;
  /** Last control-transfer target and its uop (valid while the uop is `live`). */
  takenU: Uop | null = null;
  takenIp = -1;
  /** True when `fn` is an operand-specialised handler (exec/fast.ts: never reads RIP). */
  spec = false;
  /** Specialisation was attempted (`CodeCache.specialize`). */
  tried = false;
  /** The compiled block starting here (exec/block.ts), once this uop is hot. */
  blk: Block | null = null;
  /** Single-step executions counted towards building a block. */
  heat = 0;
  /** False once the cache dropped this uop (a write to its bytes): links to it are stale. */
  live = true;
  private textCache: string | undefined = undefined;
  /** The decoder's AT&T text for reports (decoded from `bytes` when first asked for). */
  get text(): string {
    if (this.textCache === undefined) {
      const insn = new Instruction();
      this.textCache = decode(this.bytes, 0, this.ip, 64, insn) > 0 ? formatAtt(insn) : "(bad)";
    }
    return this.textCache;
  }
  set text(v: string) {
    this.textCache = v;
  }
  /** Raw bytes, as a plain array (cheaper to allocate per decode than a typed array). */
  raw: number[];
  private bytesCache: Uint8Array | undefined = undefined;
  /** Raw bytes (for reports). */
  get bytes(): Uint8Array {
    if (this.bytesCache === undefined) this.bytesCache = Uint8Array.from(this.raw);
    return this.bytesCache;
  }

  constructor(fn: Handler, insn: Instruction) {
    this.fn = fn;
    this.raw = [];
    this.load(fn, insn);
  }

  /**
   * Make this uop the instruction `insn` afresh, as if constructed (the code cache reuses the
   * uop object of an instruction rewritten at the same address: links to it are by address).
   */
  reload(fn: Handler, insn: Instruction): void {
    this.k0 = this.r0 = this.s0 = this.h0 = 0;
    this.k1 = this.r1 = this.s1 = this.h1 = 0;
    this.k2 = this.r2 = this.s2 = this.h2 = 0;
    this.k3 = this.r3 = this.s3 = 0;
    this.mAbs = -1;
    this.ticks = 0;
    this.costClass = 0;
    this.nextU = null;
    this.takenU = null;
    this.takenIp = -1;
    this.spec = false;
    this.tried = false;
    this.blk = null;
    this.heat = 0;
    this.live = true;
    this.textCache = undefined;
    this.bytesCache = undefined;
    this.load(fn, insn);
  }

  private load(fn: Handler, insn: Instruction): void {
    this.fn = fn;
    this.ip = insn.ip;
    this.len = insn.length;
    this.next = insn.ip + insn.length;
    this.form = insn.form;
    this.osize = insn.osize >> 3;
    this.asize = insn.asize >> 3;
    this.vl = insn.vl >> 3;
    // The bytes: into the array this uop has when the length is the same (a reload), else new.
    const n = insn.length;
    let raw = this.raw;
    if (raw.length !== n) {
      raw = [];
      for (let i = 0; i < n; i++) raw.push(0);
      this.raw = raw;
    }
    for (let i = 0, code = insn.code, o = insn.offset; i < n; i++) raw[i] = code[o + i]!;
    this.lock = (insn.prefixes & Prefix.Lock) !== 0;
    this.rep = insn.rep ? ((insn.prefixes & Prefix.Rep) !== 0 ? 1 : 2) : 0;
    this.immLo = insn.immLo | 0;
    this.immHi = insn.immHi | 0;
    this.imm2 = insn.imm2;
    this.target = insn.target;
    this.nops = insn.opCount;
    for (let k = 0; k < insn.opCount && k < 4; k++) {
      const kind = insn.opKind[k]!;
      let K_ = K.None;
      let r = 0;
      let s = insn.opBits[k]! >> 3;
      let h = 0;
      switch (kind) {
        case OpKind.Reg: {
          const reg = insn.opReg[k]!;
          if (reg < 16) {
            K_ = K.Gpr;
            r = reg;
            s = 8;
          } else if (reg < 32) {
            K_ = K.Gpr;
            r = reg - 16;
            s = 4;
          } else if (reg < 48) {
            K_ = K.Gpr;
            r = reg - 32;
            s = 2;
          } else if (reg < 64) {
            K_ = K.Gpr;
            r = reg - 48;
            s = 1;
          } else if (reg < 68) {
            K_ = K.Gpr;
            r = reg - 64;
            s = 1;
            h = 1;
          } else if (reg < Reg.CR0) {
            K_ = K.Seg;
            r = reg - Reg.ES;
            s = 2;
          } else if (reg >= Reg.ST0 && reg < Reg.MM0) {
            K_ = K.St;
            r = reg - Reg.ST0;
          } else if (reg >= Reg.MM0 && reg < Reg.XMM0) {
            K_ = K.Mmx;
            r = reg - Reg.MM0;
            s = 8;
          } else if (reg >= Reg.XMM0 && reg < Reg.XMM0 + 16) {
            K_ = K.Xmm;
            r = reg - Reg.XMM0;
          } else if (reg >= Reg.XMM0 && reg < Reg.K0 + 8) {
            K_ = K.Wide;
            r = reg;
          } else {
            K_ = K.Other;
            r = reg;
          }
          break;
        }
        case OpKind.Mem:
          K_ = K.Mem;
          break;
        case OpKind.Imm:
          K_ = K.Imm;
          break;
        case OpKind.Imm2:
          K_ = K.Imm2;
          break;
        case OpKind.Rel:
          K_ = K.Rel;
          break;
        case OpKind.One:
          K_ = K.One;
          s = 1;
          break;
        default:
          K_ = K.Other;
      }
      if (k === 0) {
        this.k0 = K_;
        this.r0 = r;
        this.s0 = s;
        this.h0 = h;
      } else if (k === 1) {
        this.k1 = K_;
        this.r1 = r;
        this.s1 = s;
        this.h1 = h;
      } else if (k === 2) {
        this.k2 = K_;
        this.r2 = r;
        this.s2 = s;
        this.h2 = h;
      } else {
        this.k3 = K_;
        this.r3 = r;
        this.s3 = s;
      }
    }
    // Memory operand.
    this.mBase = gprNum(insn.memBase);
    this.mIndex = gprNum(insn.memIndex);
    this.mScale = insn.memScale;
    this.mDisp = insn.memDisp;
    if (insn.dispSize === 8) this.mDisp = (insn.memDispHi >>> 0) * 4294967296 + (insn.memDisp >>> 0);
    if (insn.ripRelative) {
      this.mAbs = insn.ip + insn.length + insn.memDisp;
      if (insn.asize === 32) this.mAbs = this.mAbs >>> 0;
      this.mBase = -1;
    }
    const seg = insn.segment;
    this.mSeg = seg === Reg.ES + 4 ? 4 : seg === Reg.ES + 5 ? 5 : -1;
  }
}
