/**
 * Numeric codes shared by the table generator (`scripts/gen.ts`) and the decoder. The
 * generated tables store these numbers; changing one means regenerating (`pnpm gen`).
 * @module
 */

/** Operand addressing methods (SDM Vol. 2 Appendix A notation, plus our own for EVEX). */
export enum Method {
  None = 0,
  E = 1,
  G = 2,
  M = 3,
  R = 4,
  I = 5,
  J = 6,
  O = 7,
  X = 8,
  Y = 9,
  A = 10,
  B = 11,
  C = 12,
  D = 13,
  S = 14,
  N = 15,
  P = 16,
  Q = 17,
  U = 18,
  V = 19,
  W = 20,
  H = 21,
  L = 22,
  Z = 23,
  KG = 24,
  KE = 25,
  KR = 26,
  KH = 27,
  MV = 28,
  /** A fixed register; the size field holds a {@link Fixed} code. */
  Fixed = 29,
  /** Second immediate (ENTER's imm8, EXTRQ/INSERTQ). */
  I2 = 30,
  /** MPX bound register from ModRM.reg (BND0-BND3). */
  BG = 31,
  /** MPX bound register from ModRM.rm (mod=3). */
  BR = 32,
  /** AMX tile register from ModRM.reg. */
  TG = 33,
  /** AMX tile register from ModRM.rm (mod=3). */
  TR = 34,
  /** AMX tile register from VEX.vvvv. */
  TH = 35,
}

/** Operand sizes. */
export enum Size {
  None = 0,
  b = 1,
  w = 2,
  d = 3,
  q = 4,
  v = 5,
  z = 6,
  y = 7,
  p = 8,
  dq = 9,
  qq = 10,
  oq = 11,
  x = 12,
  h = 13,
  qv = 14,
  ov = 15,
  t = 16,
  s = 17,
  ps = 18,
  pd = 19,
  ss = 20,
  sd = 21,
  sh = 22,
  /** 16/32 by operand size, 64 forbidden (used by a few system forms). */
  wd = 23,
  /** Far pointer in memory: 16:16, 16:32 or 16:64 (m16:16/32/64). */
  fp = 24,
  /** 14/28-byte x87 environment, 94/108-byte state: sizeless in AT&T. */
  env = 25,
  /** 512-byte FXSAVE area and XSAVE areas: sizeless. */
  area = 26,
  /** Immediate byte sign-extended to the operand size (83 /0, 6A, 6B). */
  bs = 27,
  /** Immediate in the low 4 bits of the preceding is4 byte (`L` operand); no byte of its own. */
  i4 = 28,
  /** Sizeless memory that must use a SIB byte (AMX `sibmem`). */
  sib = 29,
}

/** Fixed operands (Method.Fixed); the code is stored as the size. */
export enum Fixed {
  AL = 1,
  CL = 2,
  DX = 3,
  AX = 4,
  rAX = 5,
  eAX = 6,
  ST = 7,
  STi = 8,
  One = 9,
  XMM0 = 10,
  ES = 11,
  CS = 12,
  SS = 13,
  DS = 14,
  FS = 15,
  GS = 16,
  /** rAX sized as `v` but printed as the accumulator of a string op (objdump's `%al/%ax/%eax/%rax`). */
  rAXb = 17,
  ECX = 18,
  EDX = 19,
  EAX = 20,
  /** rAX sized by the address size (MONITOR). */
  RAXa = 21,
  EBX = 22,
  /** XLAT's table entry: BYTE at DS:[rBX+AL]. */
  XLAT = 23,
}

/** Tree node kinds of the generated decode tables. */
export enum Node {
  Prefix = 1,
  Mode = 2,
  W = 3,
  L = 4,
  Mod = 5,
  Reg = 6,
  Rm = 7,
  OSize = 8,
  ASize = 9,
}

/** Opcode maps (index into the ROOTS table, 256 entries each). */
export enum OpMap {
  M1 = 0,
  M0F = 1,
  M0F38 = 2,
  M0F3A = 3,
  V0F = 4,
  V0F38 = 5,
  V0F3A = 6,
  E0F = 7,
  E0F38 = 8,
  E0F3A = 9,
  E5 = 10,
  E6 = 11,
  /** AMD XOP maps 8, 9 and 0Ah (8F escape). */
  X8 = 12,
  X9 = 13,
  XA = 14,
  Count = 15,
}

/** Form flags (FORM_FLAGS). */
export enum F {
  Lock = 1 << 0,
  Rep = 1 << 1,
  Repz = 1 << 2,
  Bnd = 1 << 3,
  Notrack = 1 << 4,
  D64 = 1 << 5,
  F64 = 1 << 6,
  Sfx = 1 << 7,
  Ser = 1 << 8,
  Priv = 1 << 9,
  IfChg = 1 << 10,
  K = 1 << 11,
  Zero = 1 << 12,
  KReq = 1 << 13,
  Er = 1 << 14,
  Sae = 1 << 15,
  /** Mandatory prefix 66 was consumed by the form (not an operand-size override). */
  P66 = 1 << 16,
  /** Mandatory F3/F2 consumed. */
  PF3 = 1 << 17,
  PF2 = 1 << 18,
  /** The form was selected by operand size or W (o16/o32/o64/w0/w1): REX.W and 66 count as used. */
  OSQ = 1 << 19,
  /** Xacquire/xrelease (HLE) prefixes print on this form. */
  Hle = 1 << 20,
  /** Form is 3DNow! (imm8 suffix is the opcode). */
  Amd3dnow = 1 << 21,
  /** VEX.vvvv / EVEX.vvvv must be 1111 (no vvvv operand). Set by the generator. */
  NoVvvv = 1 << 22,
  /** VEX.L must be 0 (l0). Set by generator for validity. */
  Bcst16 = 1 << 23,
  Bcst32 = 1 << 24,
  Bcst64 = 1 << 25,
  /** AT&T keeps the Intel operand order (objdump: ENTER, BOUND, MONITOR, MWAIT...). */
  Keep = 1 << 29,
  /** Intel syntax prints no operands (objdump: MONITOR, MWAIT and their X forms). */
  IntelBare = 1 << 30,
  /** AT&T: memory source of ambiguous size gets an `x`/`y` suffix (VL 128/256); Intel shows `{1toN}` then. */
  Xy = 1 << 26,
  /** As Xy, and `z` at VL 512 too (the destination is XMM or a mask at every VL). */
  Xyz = 1 << 27,
  /** AT&T: the rounding operand follows the last source instead of preceding it (vcvtsi2ss...). */
  RndAfter = 1 << 28,
  /** EVEX form with a same-named VEX form: objdump prints `{evex}` when the encoding could have been VEX. */
  EvexTag = 1 << 31,
}

/** Branch kinds (FORM_BRANCH). */
export enum Br {
  None = 0,
  Jmp = 1,
  Jcc = 2,
  Call = 3,
  Ret = 4,
  Loop = 5,
  Jrcxz = 6,
  JmpInd = 7,
  CallInd = 8,
  JmpFar = 9,
  CallFar = 10,
  RetFar = 11,
  Int = 12,
  Int3 = 13,
  Into = 14,
  Int1 = 15,
  Ud = 16,
  Syscall = 17,
  Sysret = 18,
  Iret = 19,
  Hlt = 20,
}

/** EVEX tuple types for disp8*N compression (SDM Vol. 2 §2.7.5). */
export enum Tuple {
  None = 0,
  FV = 1,
  HV = 2,
  FVM = 3,
  HVM = 4,
  QVM = 5,
  OVM = 6,
  T1S = 7,
  T1F = 8,
  T2 = 9,
  T4 = 10,
  T8 = 11,
  M128 = 12,
  DUP = 13,
  T1S8 = 14,
  T1S16 = 15,
  T1S32 = 16,
  T1S64 = 17,
  T1F32 = 18,
  T1F64 = 19,
  /** Quarter vector with embedded broadcast (vcvtph2pd, vcvtph2qq: N = VL/32 bytes, or the element). */
  QV = 20,
}

/**
 * 3DNow! (0F 0F /r ib): the imm8 suffix selects the operation (AMD 3DNow! Technology Manual,
 * AMD APM Vol. 5). Names without their common leading `p` (the data's mnemonic is `p{3dnow}`);
 * a suffix not listed is an invalid encoding.
 */
export const AMD3DNOW_NAMES: Readonly<Record<number, string>> = {
  12: "i2fw",
  13: "i2fd",
  28: "f2iw",
  29: "f2id",
  138: "fnacc",
  142: "fpnacc",
  144: "fcmpge",
  148: "fmin",
  150: "frcp",
  151: "frsqrt",
  154: "fsub",
  158: "fadd",
  160: "fcmpgt",
  164: "fmax",
  166: "frcpit1",
  167: "frsqit1",
  170: "fsubr",
  174: "facc",
  176: "fcmpeq",
  180: "fmul",
  182: "frcpit2",
  183: "mulhrw",
  187: "swapd",
  191: "avgusb",
};
