/**
 * Register numbering used by decoded operands. Ids are small integers so that operands fit
 * in typed arrays; {@link REG_NAMES} gives each id its name (without `%`).
 * @module
 */

/** First id of each register class. A register is `base + number`. */
export enum Reg {
  RAX = 0,
  EAX = 16,
  AX = 32,
  AL = 48,
  AH = 64,
  ES = 68,
  CR0 = 74,
  DR0 = 90,
  ST0 = 106,
  MM0 = 114,
  XMM0 = 122,
  YMM0 = 154,
  ZMM0 = 186,
  K0 = 218,
  RIP = 226,
  EIP = 227,
  BND0 = 228,
  IP = 232,
  EIZ = 233,
  RIZ = 234,
  TR0 = 235,
  /** An MPX bound register number above 3 (objdump prints `(bad)`). */
  BadBnd = 243,
  /** AMX tile registers TMM0-TMM7. */
  TMM0 = 244,
  /** No register. */
  None = 255,
}

const gp64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"];
const gp32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
const gp16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const gp8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"];

function build(): string[] {
  const n: string[] = new Array(256).fill("");
  for (let i = 0; i < 16; i++) {
    n[Reg.RAX + i] = i < 8 ? gp64[i]! : `r${i}`;
    n[Reg.EAX + i] = i < 8 ? gp32[i]! : `r${i}d`;
    n[Reg.AX + i] = i < 8 ? gp16[i]! : `r${i}w`;
    n[Reg.AL + i] = i < 8 ? gp8[i]! : `r${i}b`;
    n[Reg.CR0 + i] = `cr${i}`;
    n[Reg.DR0 + i] = `db${i}`;
  }
  ["ah", "ch", "dh", "bh"].forEach((r, i) => {
    n[Reg.AH + i] = r;
  });
  ["es", "cs", "ss", "ds", "fs", "gs"].forEach((r, i) => {
    n[Reg.ES + i] = r;
  });
  for (let i = 0; i < 8; i++) {
    n[Reg.ST0 + i] = `st(${i})`;
    n[Reg.MM0 + i] = `mm${i}`;
    n[Reg.K0 + i] = `k${i}`;
    n[Reg.TR0 + i] = `tr${i}`;
    n[Reg.TMM0 + i] = `tmm${i}`;
  }
  for (let i = 0; i < 32; i++) {
    n[Reg.XMM0 + i] = `xmm${i}`;
    n[Reg.YMM0 + i] = `ymm${i}`;
    n[Reg.ZMM0 + i] = `zmm${i}`;
  }
  for (let i = 0; i < 4; i++) n[Reg.BND0 + i] = `bnd${i}`;
  n[Reg.BadBnd] = "(bad)";
  n[Reg.RIP] = "rip";
  n[Reg.EIP] = "eip";
  n[Reg.IP] = "ip";
  n[Reg.EIZ] = "eiz";
  n[Reg.RIZ] = "riz";
  return n;
}

/** Register names by id, lower case, without `%`. */
export const REG_NAMES: readonly string[] = build();

/** Width in bits of a general-purpose register id (0 when not a GPR). */
export function gprBits(reg: number): number {
  if (reg < 16) return 64;
  if (reg < 32) return 32;
  if (reg < 48) return 16;
  if (reg < 68) return 8;
  return 0;
}
