/**
 * One virtual CPU's architectural state. General-purpose registers are 64-bit values kept as
 * two int32 halves (`regs[2*i]` low, `regs[2*i+1]` high) so that the interpreter never needs
 * BigInt. Flags are lazy: the last flag-setting operation is recorded (kind, size, operands,
 * result) and individual flags are computed when something reads them.
 * @module
 */
import { CONDITIONS } from "@xmc/x86-decode";
import { TICKS_PER_CYCLE } from "./cost.ts";
import type { Memory } from "./memory.ts";

/** GPR numbers. */
export enum R {
  RAX = 0,
  RCX = 1,
  RDX = 2,
  RBX = 3,
  RSP = 4,
  RBP = 5,
  RSI = 6,
  RDI = 7,
  R8 = 8,
  R9 = 9,
  R10 = 10,
  R11 = 11,
  R12 = 12,
  R13 = 13,
  R14 = 14,
  R15 = 15,
}

/** RFLAGS bits. */
export enum FL {
  CF = 0x1,
  PF = 0x4,
  AF = 0x10,
  ZF = 0x40,
  SF = 0x80,
  TF = 0x100,
  IF = 0x200,
  DF = 0x400,
  OF = 0x800,
  /** The arithmetic flags computed lazily. */
  ARITH = 0x8d5,
}

/** Kinds of the last flag-setting operation (lazy flags). */
export enum LF {
  /** Flags are materialized in `cpu.flags` (no pending operation). */
  None = 0,
  Add = 1,
  Sub = 2,
  Logic = 3,
  Inc = 4,
  Dec = 5,
  Adc = 6,
  Sbb = 7,
  Neg = 8,
  /**
   * ZF, SF and PF from the result; CF, OF and AF given explicitly as flag bits in `lfC`
   * (shifts, rotates, multiplies, bit scans, BMI).
   */
  Res = 9,
}

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = b & 1 ? 0 : FL.PF;
}

/** Mask of `size` bytes (1, 2 or 4) for the low half; 8-byte values use both halves. */
export function maskOf(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : -1;
}

/** What a CPU calls out to: the operating-system layer (syscalls) and the machine. */
export interface CpuHost {
  /** SYSCALL executed: the handler reads and writes registers (RAX, RDI, …) of `c`. */
  syscall(c: Cpu): void;
  /** CPUID leaf/subleaf → writes EAX, EBX, ECX, EDX of `c`. */
  cpuid(c: Cpu): void;
  /** VMCALL: run the host function registered under EAX; false when there is none (#UD). */
  hostcall?(c: Cpu): boolean;
}

/**
 * The condition codes by their number (the `cc` of Jcc/SETcc/CMOVcc and of {@link Cpu.cond}):
 * the decoder's list, in the order of their encodings.
 */
export const CONDITION_CODES: readonly string[] = CONDITIONS;

/** The state of one vCPU. */
export class Cpu {
  /** The OS/machine layer this CPU calls out to (set by the machine). */
  host: CpuHost | undefined;
  /** vCPU number (0-based). */
  readonly id: number;
  /** The machine's memory (shared by all vCPUs). */
  readonly mem: Memory;
  /** 16 GPRs as [lo, hi] int32 pairs. */
  readonly regs: Int32Array = new Int32Array(32);
  /** Instruction pointer (a guest address as a number). */
  rip = 0;
  /** Materialized flags (all bits other than pending arithmetic flags). Bit 1 is always set. */
  flags = 0x202;
  /** Lazy flags: pending operation, operand size in bytes, operands and result (lo/hi). */
  lfOp: LF = LF.None;
  lfSize = 4;
  lfA = 0;
  lfAh = 0;
  lfB = 0;
  lfBh = 0;
  lfR = 0;
  lfRh = 0;
  /** Carry-in for ADC/SBB, and the preserved CF for INC/DEC. */
  lfC = 0;
  /** FS and GS segment bases. */
  fsBase = 0;
  gsBase = 0;
  /** XMM0-15: 16 registers x 4 lanes of 32 bits (lane 0 least significant). */
  readonly xmm: Int32Array = new Int32Array(64);
  /** A byte view of the XMM registers (16 bytes per register). */
  readonly xmmBytes: Uint8Array;
  /** A float view of the XMM registers (lanes as float32). */
  readonly xmmF32: Float32Array;
  /** A double view of the XMM registers (2 doubles per register). */
  readonly xmmF64: Float64Array;
  /** MXCSR (default 0x1f80: all exceptions masked, round to nearest). */
  mxcsr = 0x1f80;
  /** x87 control word, status word (TOP in bits 11-13), tag word. */
  fpuCw = 0x037f;
  fpuSw = 0;
  fpuTw = 0xffff;
  /** x87 data registers R0-R7 (physical, ST(i) = R[(TOP+i)&7]): 64-bit significands as [lo, hi] int32 pairs. */
  readonly fpuMant: Int32Array = new Int32Array(16);
  /** x87 data registers R0-R7: sign (bit 15) and biased 15-bit exponent. */
  readonly fpuExp: Uint16Array = new Uint16Array(8);
  /** Modeled time spent by this CPU in ticks (1/{@link TICKS_PER_CYCLE} cycle, an integer). */
  ticks = 0;
  /**
   * Modeled cycles spent by this CPU (its TSC): {@link ticks} in cycles. Setting it takes the
   * nearest tick not below `v`, so that `c.cycles = t` makes `c.cycles >= t` hold (the scheduler
   * advances an idle CPU to a wake-up time that way).
   */
  get cycles(): number {
    return this.ticks / TICKS_PER_CYCLE;
  }
  set cycles(v: number) {
    let t = Math.round(v * TICKS_PER_CYCLE);
    if (t / TICKS_PER_CYCLE < v) t++;
    this.ticks = t;
  }
  /** Instructions retired. */
  instructions = 0;
  /** Scratch: high half of the last 64-bit operand read. */
  hi = 0;
  /** Extra modeled ticks for a taken conditional branch (profile: taken - not taken). */
  takenTicks = 50;
  /** Set by a handler (syscall) to make the run loop return after this instruction. */
  stopRequested = false;
  /** The exception or fault that stopped the run loop (CpuException, GuestFault, or a host error). */
  fault: unknown = undefined;
  /** Index within the running block of the instruction that threw (exec/block.ts). */
  blockFault = 0;
  /** Instructions the running block completed in earlier iterations when one threw. */
  blockDone = 0;
  /** The instruction that faulted, when known. */
  faultUop: unknown = undefined;

  constructor(id: number, mem: Memory) {
    this.id = id;
    this.mem = mem;
    this.xmmBytes = new Uint8Array(this.xmm.buffer);
    this.xmmF32 = new Float32Array(this.xmm.buffer);
    this.xmmF64 = new Float64Array(this.xmm.buffer);
    // A double field from the start: V8 keeps a field holding small integers untagged and, when
    // the count passes 2^31, changes the object's shape, which deoptimized every function that
    // had seen the old one (the simulator's loop and each translated block) mid-run.
    this.ticks = 0.5;
    this.ticks = 0;
  }

  /** A 64-bit register as a number (exact when below 2^53; use for addresses). */
  reg64(r: number): number {
    return (this.regs[2 * r + 1]! >>> 0) * 4294967296 + (this.regs[2 * r]! >>> 0);
  }
  /** Set a 64-bit register from a non-negative number below 2^64 (exact below 2^53). */
  setReg64(r: number, v: number): void {
    this.regs[2 * r] = v | 0;
    this.regs[2 * r + 1] = Math.floor(v / 4294967296) | 0;
  }
  /** Push a 64-bit value (a non-negative number below 2^64, exact below 2^53) as host code does: RSP -= 8, then the store. */
  push64(v: number): void {
    const sp = this.reg64(4) - 8;
    this.mem.write64(sp, v | 0, Math.floor(v / 4294967296) | 0);
    this.setReg64(4, sp);
  }
  /** Pop a 64-bit value as host code does (RSP += 8); exact below 2^53. */
  pop64(): number {
    const sp = this.reg64(4);
    const lo = this.mem.read64(sp);
    this.setReg64(4, sp + 8);
    return (this.mem.hi >>> 0) * 4294967296 + (lo >>> 0);
  }
  /** A 64-bit register as a BigInt (unsigned). */
  reg64n(r: number): bigint {
    return (BigInt(this.regs[2 * r + 1]! >>> 0) << 32n) | BigInt(this.regs[2 * r]! >>> 0);
  }
  /** Set a 64-bit register from a BigInt (taken modulo 2^64). */
  setReg64n(r: number, v: bigint): void {
    this.regs[2 * r] = Number(v & 0xffffffffn) | 0;
    this.regs[2 * r + 1] = Number((v >> 32n) & 0xffffffffn) | 0;
  }

  // ---- lazy flags -----------------------------------------------------------------------------

  /** Record a flag-setting operation (sizes 1, 2, 4: only low halves matter; 8 uses both). */
  setLazy(op: LF, size: number, a: number, ah: number, b: number, bh: number, r: number, rh: number): void {
    this.lfOp = op;
    this.lfSize = size;
    this.lfA = a;
    this.lfAh = ah;
    this.lfB = b;
    this.lfBh = bh;
    this.lfR = r;
    this.lfRh = rh;
  }

  /** The full RFLAGS value (low 32 bits), materializing pending arithmetic flags. */
  getFlags(): number {
    if (this.lfOp === LF.None) return this.flags;
    return (this.flags & ~FL.ARITH) | this.arith();
  }

  /** Replace RFLAGS (e.g. POPF, SAHF): arithmetic flags become materialized. */
  setFlags(v: number): void {
    this.flags = (v & 0x3f7fd7) | 0x2;
    this.lfOp = LF.None;
  }

  /** Materialize pending arithmetic flags into `flags`. */
  materialize(): void {
    if (this.lfOp !== LF.None) {
      this.flags = (this.flags & ~FL.ARITH) | this.arith();
      this.lfOp = LF.None;
    }
  }

  /** Compute CF PF AF ZF SF OF from the pending operation. */
  private arith(): number {
    const size = this.lfSize;
    const op = this.lfOp;
    let f = 0;
    let r = this.lfR;
    let rh = this.lfRh;
    let a = this.lfA;
    let ah = this.lfAh;
    let b = this.lfB;
    let bh = this.lfBh;
    if (size < 8) {
      const m = maskOf(size);
      r &= m;
      a &= m;
      b &= m;
      rh = 0;
      ah = 0;
      bh = 0;
    }
    // ZF, SF, PF
    if (r === 0 && rh === 0) f |= FL.ZF;
    const signBit =
      size === 8 ? rh < 0 : size === 4 ? r < 0 : size === 2 ? (r & 0x8000) !== 0 : (r & 0x80) !== 0;
    if (signBit) f |= FL.SF;
    f |= PARITY[r & 0xff]!;
    const sa = size === 8 ? ah < 0 : size === 4 ? a < 0 : size === 2 ? (a & 0x8000) !== 0 : (a & 0x80) !== 0;
    const sb = size === 8 ? bh < 0 : size === 4 ? b < 0 : size === 2 ? (b & 0x8000) !== 0 : (b & 0x80) !== 0;
    switch (op) {
      case LF.Add:
      case LF.Adc: {
        // CF: result < a (unsigned), or == a with carry-in.
        const lt = ult(r, rh, a, ah, size);
        const eq = r === a && rh === ah;
        if (lt || (op === LF.Adc && this.lfC && eq)) f |= FL.CF;
        if (sa === sb && signBit !== sa) f |= FL.OF;
        if ((a ^ b ^ r) & 0x10) f |= FL.AF;
        break;
      }
      case LF.Sub:
      case LF.Sbb: {
        const lt = ult(a, ah, b, bh, size);
        const eq = a === b && ah === bh;
        if (lt || (op === LF.Sbb && this.lfC && eq)) f |= FL.CF;
        if (sa !== sb && signBit !== sa) f |= FL.OF;
        if ((a ^ b ^ r) & 0x10) f |= FL.AF;
        break;
      }
      case LF.Logic:
        break;
      case LF.Inc:
        if (this.lfC) f |= FL.CF;
        if (!sa && signBit) f |= FL.OF;
        if ((a ^ r) & 0x10) f |= FL.AF;
        break;
      case LF.Dec:
        if (this.lfC) f |= FL.CF;
        if (sa && !signBit) f |= FL.OF;
        if ((a ^ r) & 0x10) f |= FL.AF;
        break;
      case LF.Neg:
        if (r !== 0 || rh !== 0) f |= FL.CF;
        if (signBit && sa) f |= FL.OF;
        if ((a ^ r) & 0x10) f |= FL.AF;
        break;
      case LF.Res:
        f |= this.lfC & (FL.CF | FL.OF | FL.AF);
        break;
    }
    return f;
  }

  /** Current CF (0/1) without materializing everything when cheap. */
  cf(): number {
    const op = this.lfOp;
    if (op === LF.Logic) return 0;
    if (op === LF.None) return this.flags & 1;
    if (op === LF.Res) return this.lfC & FL.CF;
    const size = this.lfSize;
    if (op === LF.Sub) {
      // Borrow: a < b unsigned.
      if (size === 8)
        return (this.lfAh !== this.lfBh ? this.lfAh >>> 0 < this.lfBh >>> 0 : this.lfA >>> 0 < this.lfB >>> 0)
          ? 1
          : 0;
      const sh = 32 - 8 * size;
      return (this.lfA << sh) >>> 0 < (this.lfB << sh) >>> 0 ? 1 : 0;
    }
    if (op === LF.Add) {
      // Carry: the result is below an operand (unsigned).
      if (size === 8)
        return (this.lfRh !== this.lfAh ? this.lfRh >>> 0 < this.lfAh >>> 0 : this.lfR >>> 0 < this.lfA >>> 0)
          ? 1
          : 0;
      const sh = 32 - 8 * size;
      return (this.lfR << sh) >>> 0 < (this.lfA << sh) >>> 0 ? 1 : 0;
    }
    return this.arith() & FL.CF;
  }

  /**
   * Evaluate condition code `cc` (0-15, the low nibble of Jcc/SETcc/CMOVcc). Conditions come
   * straight from a pending CMP/SUB (comparing the operands) or logic result, and ZF/SF-only
   * conditions from any pending result, without computing every flag.
   */
  cond(cc: number): boolean {
    const op = this.lfOp;
    if (op === LF.Sub) return this.condSub(cc);
    if (op === LF.Logic) return this.condLogic(cc);
    const k = cc >> 1;
    if (op !== LF.None && (k === 2 || k === 4)) {
      // ZF (e/ne) or SF (s/ns) of the result, for every kind of operation.
      const size = this.lfSize;
      let t: boolean;
      if (size === 8) t = k === 2 ? this.lfR === 0 && this.lfRh === 0 : this.lfRh < 0;
      else {
        const r = this.lfR << (32 - 8 * size);
        t = k === 2 ? r === 0 : r < 0;
      }
      return cc & 1 ? !t : t;
    }
    return this.condFlags(cc);
  }

  /** Condition `cc` from the materialized flags. */
  private condFlags(cc: number): boolean {
    const f = this.getFlags();
    let t: boolean;
    switch (cc >> 1) {
      case 0:
        t = (f & FL.OF) !== 0;
        break;
      case 1:
        t = (f & FL.CF) !== 0;
        break;
      case 2:
        t = (f & FL.ZF) !== 0;
        break;
      case 3:
        t = (f & (FL.CF | FL.ZF)) !== 0;
        break;
      case 4:
        t = (f & FL.SF) !== 0;
        break;
      case 5:
        t = (f & FL.PF) !== 0;
        break;
      case 6:
        t = ((f & FL.SF) !== 0) !== ((f & FL.OF) !== 0);
        break;
      default:
        t = (f & FL.ZF) !== 0 || ((f & FL.SF) !== 0) !== ((f & FL.OF) !== 0);
    }
    return cc & 1 ? !t : t;
  }

  /**
   * Condition `cc` for a pending logic result (CF = OF = 0): from the result alone. Sizes below
   * 4 bytes are shifted to the top of an int32 so that the sign and zero tests are the int32
   * ones. Parity falls back to the full computation.
   */
  private condLogic(cc: number): boolean {
    const size = this.lfSize;
    let zf: boolean;
    let sf: boolean;
    if (size === 8) {
      zf = this.lfR === 0 && this.lfRh === 0;
      sf = this.lfRh < 0;
    } else {
      const r = this.lfR << (32 - 8 * size);
      zf = r === 0;
      sf = r < 0;
    }
    let t: boolean;
    switch (cc >> 1) {
      case 0:
      case 1:
        t = false;
        break;
      case 2:
      case 3:
        t = zf;
        break;
      case 4:
      case 6:
        t = sf;
        break;
      case 7:
        t = zf || sf;
        break;
      default:
        return this.condFlags(cc);
    }
    return cc & 1 ? !t : t;
  }

  /**
   * Condition `cc` for a pending SUB/CMP (a - b): compare a and b directly (sizes below 4 bytes
   * shifted to the top of an int32). Overflow and parity fall back to the full computation.
   */
  private condSub(cc: number): boolean {
    const size = this.lfSize;
    let t: boolean;
    if (size === 8) {
      const a = this.lfA;
      const b = this.lfB;
      const ah = this.lfAh;
      const bh = this.lfBh;
      switch (cc >> 1) {
        case 1: // b / ae: unsigned a < b
          t = ah !== bh ? ah >>> 0 < bh >>> 0 : a >>> 0 < b >>> 0;
          break;
        case 2: // e / ne
          t = a === b && ah === bh;
          break;
        case 3: // be / a: unsigned a <= b
          t = ah !== bh ? ah >>> 0 < bh >>> 0 : a >>> 0 <= b >>> 0;
          break;
        case 4: // s / ns
          t = this.lfRh < 0;
          break;
        case 6: // l / ge: signed a < b
          t = ah !== bh ? ah < bh : a >>> 0 < b >>> 0;
          break;
        case 7: // le / g: signed a <= b
          t = ah !== bh ? ah < bh : a >>> 0 <= b >>> 0;
          break;
        default:
          return this.condFlags(cc);
      }
    } else {
      const sh = 32 - 8 * size;
      const a = this.lfA << sh;
      const b = this.lfB << sh;
      switch (cc >> 1) {
        case 1:
          t = a >>> 0 < b >>> 0;
          break;
        case 2:
          t = a === b;
          break;
        case 3:
          t = a >>> 0 <= b >>> 0;
          break;
        case 4:
          t = this.lfR << sh < 0;
          break;
        case 6:
          t = a < b;
          break;
        case 7:
          t = a <= b;
          break;
        default:
          return this.condFlags(cc);
      }
    }
    return cc & 1 ? !t : t;
  }
}

/** Unsigned a < b on `size`-byte values given as lo/hi halves (already masked for size < 8). */
function ult(a: number, ah: number, b: number, bh: number, size: number): boolean {
  if (size === 8 && ah !== bh) return ah >>> 0 < bh >>> 0;
  return a >>> 0 < b >>> 0;
}
