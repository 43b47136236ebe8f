/**
 * The decoded instruction: one reusable object that {@link decode} fills in place, so that a
 * decode loop allocates nothing. Addresses (`ip`, `target`) are JavaScript numbers: exact for
 * every address below 2^53, which covers user-space x86-64 and all 32-bit code; a branch
 * target that wraps below 0 is stored as a negative number and printed modulo 2^64 (2^32 in
 * 32-bit mode) by the formatters.
 * @module
 */
import { Br, F } from "./codes.ts";
import { Reg } from "./registers.ts";

/** Why a decode failed. */
export enum DecodeError {
  None = 0,
  /** The buffer ended before the instruction did. */
  Truncated = 1,
  /** The bytes are not a valid instruction (undefined or reserved encoding). */
  Invalid = 2,
  /** More than 15 bytes. */
  TooLong = 3,
}

/** Human-readable reasons, indexed by {@link DecodeError}. */
export const DECODE_ERROR_TEXT: readonly string[] = [
  "ok",
  "truncated: the buffer ends inside the instruction",
  "invalid or reserved encoding",
  "instruction longer than 15 bytes",
];

/** Operand kinds. */
export enum OpKind {
  None = 0,
  /** A register (`opReg`). */
  Reg = 1,
  /** The memory operand (fields `mem*`). */
  Mem = 2,
  /** An immediate (`immLo`/`immHi`, or `imm2` for the second immediate). */
  Imm = 3,
  /** A direct branch target (`target`). */
  Rel = 4,
  /** A far pointer `seg:offset` (`farSeg`, `immLo`). */
  Far = 5,
  /** The implicit count 1 of shift/rotate forms D0–D3 (AT&T prints nothing). */
  One = 6,
  /** Second immediate (ENTER's nesting level, EXTRQ/INSERTQ). */
  Imm2 = 7,
}

/** Branch kinds: what an instruction does to the flow of control. */
export { Br as BranchKind } from "./codes.ts";

/** Prefix bits recorded in {@link Instruction.prefixes}. */
export enum Prefix {
  Lock = 1,
  Rep = 2,
  Repne = 4,
  OpSize = 8,
  AddrSize = 16,
  Seg = 32,
  Rex = 64,
  Vex = 128,
  Evex = 256,
}

/** One decoded instruction; reuse one object for many decodes. */
export class Instruction {
  /** Length in bytes (valid when `error` is None). */
  length = 0;
  /** Address of the first byte. */
  ip = 0;
  /** Decoding mode: 64, 32 or 16. */
  mode: 16 | 32 | 64 = 64;
  /** {@link DecodeError}; 0 when the instruction decoded. */
  error: number = DecodeError.None;
  /** The buffer and offset the instruction was decoded from (not copied). */
  code: Uint8Array = new Uint8Array(0);
  offset = 0;

  /** Index of the instruction form in the generated tables; -1 when invalid. */
  form = -1;
  /** Mnemonic id (see `mnemonic()` in the formatters). */
  mnemonicId = 0;
  /** Form flags (internal `F` bits, as a signed 32-bit integer: bit 31 makes it negative). */
  flags = 0;
  /** {@link Br} branch kind. */
  branch: number = Br.None;
  /** Opcode map (internal `OpMap`) and opcode byte. */
  map = 0;
  opcode = 0;

  /** {@link Prefix} bits present. */
  prefixes = 0;
  /** Number of legacy+REX prefix bytes before the opcode (or VEX/EVEX escape). */
  prefixCount = 0;
  /** Bit i set: prefix byte i was consumed by the instruction (else printed by objdump as a prefix name). */
  prefixUsed = 0;
  /** Effective segment override register id, or Reg.None. */
  segment: number = Reg.None;
  /** REX byte (0 when absent). */
  rex = 0;
  /** REX bits (W=8,R=4,X=2,B=1) that the instruction used. */
  rexUsed = 0;
  /** Effective operand size in bits (16/32/64). */
  osize = 32;
  /** Effective address size in bits. */
  asize = 64;
  /** Vector length in bits for VEX/EVEX (128/256/512), 0 otherwise. */
  vl = 0;
  /** VEX/EVEX.W. */
  w = 0;
  /** EVEX opmask register number (0 = none), zeroing, broadcast/rounding bit, rounding control. */
  evexMask = 0;
  evexZ = 0;
  evexB = 0;
  /** Rounding: -1 none, 0..3 rn/rd/ru/rz with SAE, 4 SAE only. */
  rounding = -1;

  /** ModRM and SIB bytes (-1 when absent). */
  modrm = -1;
  sib = -1;
  /** Offset within the instruction and size (bytes) of the displacement, 0 size when none. */
  dispOffset = 0;
  dispSize = 0;
  /** Offset and size of the (first) immediate, 0 size when none. */
  immOffset = 0;
  immSize = 0;

  /** Number of operands. */
  opCount = 0;
  /** {@link OpKind} per operand, Intel order (destination first). */
  readonly opKind: Uint8Array = new Uint8Array(5);
  /** Register id per register operand. */
  readonly opReg: Uint8Array = new Uint8Array(5);
  /** Size in bits per operand (memory: the access size; 0 when sizeless). */
  readonly opBits: Uint16Array = new Uint16Array(5);
  /** Operand id from the tables (internal). */
  readonly opId: Uint8Array = new Uint8Array(5);

  /** Memory operand: base, index (Reg ids or Reg.None), scale, displacement. */
  memBase: number = Reg.None;
  memIndex: number = Reg.None;
  memScale = 1;
  memDisp = 0;
  /** High 32 bits of a 64-bit moffs (A0-A3 with 64-bit addressing); `memDisp` then holds the low 32 bits. */
  memDispHi = 0;
  /** Memory operand is RIP/EIP-relative. */
  ripRelative = false;
  /** EVEX broadcast element count (0 = no broadcast). */
  bcst = 0;
  /** Immediate value as two 32-bit halves (sign-extended to the operand's size). */
  immLo = 0;
  immHi = 0;
  /** Second immediate. */
  imm2 = 0;
  /** Far pointer segment. */
  farSeg = 0;
  /** Direct branch target (see the module note on addresses). */
  target = 0;

  /** Serializing (SDM Vol. 3A §9.3: CPUID, IRET, WRMSR, MOV to CR, SERIALIZE, ...). */
  get serializing(): boolean {
    return (this.flags & F.Ser) !== 0;
  }
  /** Privileged: faults outside CPL 0. */
  get privileged(): boolean {
    return (this.flags & F.Priv) !== 0;
  }
  /** Changes the interrupt flag (CLI, STI, POPF, IRET). */
  get changesIF(): boolean {
    return (this.flags & F.IfChg) !== 0;
  }
  /** Execution never falls through to the next instruction (JMP, RET, IRET, UD, SYSRET, far jumps). */
  get stopsFlow(): boolean {
    const b = this.branch;
    return (
      b === Br.Jmp ||
      b === Br.JmpInd ||
      b === Br.JmpFar ||
      b === Br.Ret ||
      b === Br.RetFar ||
      b === Br.Iret ||
      b === Br.Ud ||
      b === Br.Sysret
    );
  }
  /** Has a direct (relative) branch target in {@link target}. */
  get hasTarget(): boolean {
    for (let k = 0; k < this.opCount; k++) if (this.opKind[k] === OpKind.Rel) return true;
    return false;
  }
  /** LOCK prefix present (and valid: the decoder rejects LOCK where it is not allowed). */
  get lock(): boolean {
    return (this.prefixes & Prefix.Lock) !== 0;
  }
  /** REP/REPE (F3) or REPNE (F2) applies as a repeat prefix (string instructions). */
  get rep(): boolean {
    return (this.flags & (F.Rep | F.Repz)) !== 0 && (this.prefixes & (Prefix.Rep | Prefix.Repne)) !== 0;
  }
  /** Offset within the bytes of a RIP-relative displacement (-1 when not RIP-relative); size is 4. */
  get ripDispOffset(): number {
    return this.ripRelative ? this.dispOffset : -1;
  }

  /** True when the instruction decoded. */
  get ok(): boolean {
    return this.error === DecodeError.None;
  }
  /** The instruction's bytes (allocates a view; not for hot paths). */
  bytes(): Uint8Array {
    return this.code.subarray(this.offset, this.offset + this.length);
  }
}
