/**
 * Argument values from `size@operand` specs (the USDT notation our notes share): a register,
 * a constant, or a memory operand `[sym][+disp](base,index,scale)`, read with the recorded size
 * and sign from the CPU's registers at the site and guest memory.
 * @module
 */
import type { UsdtArgument } from "@xmc/elf";

/** Register number (0 RAX … 15 R15) and the bytes of it a name selects (`ah` etc. start at byte 1). */
interface RegRef {
  readonly r: number;
  readonly size: number;
  readonly shift: number;
}

const LEGACY = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"];
const REGS = new Map<string, RegRef>();
for (let i = 0; i < 8; i++) {
  const n = LEGACY[i]!;
  REGS.set(`r${n}`, { r: i, size: 8, shift: 0 });
  REGS.set(`e${n}`, { r: i, size: 4, shift: 0 });
  REGS.set(n, { r: i, size: 2, shift: 0 });
}
for (const [i, n] of ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"].entries())
  REGS.set(n, { r: i, size: 1, shift: 0 });
for (const [i, n] of ["ah", "ch", "dh", "bh"].entries()) REGS.set(n, { r: i, size: 1, shift: 8 });
for (let i = 8; i < 16; i++) {
  REGS.set(`r${i}`, { r: i, size: 8, shift: 0 });
  REGS.set(`r${i}d`, { r: i, size: 4, shift: 0 });
  REGS.set(`r${i}w`, { r: i, size: 2, shift: 0 });
  REGS.set(`r${i}b`, { r: i, size: 1, shift: 0 });
}

/** The register state an argument is evaluated in. */
export interface ArgContext {
  /** A 64-bit register's value at the site (after the stub's own pushes are undone). */
  reg(r: number): bigint;
  /** Address of the instruction after the site (what `disp(%rip)` is relative to). */
  readonly nextRip: number;
  /** Read guest memory (throws when unmapped). */
  read(addr: number, len: number): Uint8Array;
  /** Address of a symbol named in an operand, if known. */
  symbol(name: string): number | undefined;
}

/** Why an argument could not be evaluated (the probe then gets 0 for it). */
export class ArgFault extends Error {
  override readonly name = "ArgFault";
}

function sized(v: bigint, size: number, signed: boolean): bigint {
  const bits = BigInt(size * 8);
  return signed ? BigInt.asIntN(Number(bits), v) : BigInt.asUintN(Number(bits), v);
}

function regValue(ctx: ArgContext, name: string): bigint {
  const ref = REGS.get(name.toLowerCase());
  if (!ref) throw new ArgFault(`unknown register %${name}`);
  const v = ctx.reg(ref.r) >> BigInt(ref.shift);
  return BigInt.asUintN(ref.size * 8, v);
}

/** Bytes as an unsigned little-endian integer. */
export function littleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** The address a memory operand names. */
export function operandAddress(a: UsdtArgument & { kind: "mem" }, ctx: ArgContext): number {
  if (a.segment) throw new ArgFault(`segment-relative operand ${a.operand} is not supported`);
  let addr = a.displacement;
  if (a.symbol !== undefined) {
    const s = ctx.symbol(a.symbol);
    if (s === undefined)
      throw new ArgFault(`symbol ${a.symbol} of operand ${a.operand} is not in the symbol table`);
    addr += BigInt(s);
  }
  if (a.base === "rip") {
    // `sym(%rip)` means sym itself; a bare displacement is relative to the next instruction.
    if (a.symbol === undefined) addr += BigInt(ctx.nextRip);
  } else if (a.base) addr += regValue(ctx, a.base);
  if (a.index) addr += regValue(ctx, a.index) * BigInt(a.scale);
  return Number(BigInt.asUintN(64, addr));
}

/** The argument's value: sized to its spec and sign-extended when signed. Throws {@link ArgFault}. */
export function argValue(a: UsdtArgument, ctx: ArgContext): bigint {
  switch (a.kind) {
    case "reg":
      return sized(regValue(ctx, a.register), a.size, a.signed);
    case "const":
      return sized(a.value, a.size, a.signed);
    case "mem": {
      const addr = operandAddress(a, ctx);
      let bytes: Uint8Array;
      try {
        bytes = ctx.read(addr, a.size);
      } catch {
        throw new ArgFault(`operand ${a.operand} reads unmapped memory at 0x${addr.toString(16)}`);
      }
      return sized(littleEndian(bytes), a.size, a.signed);
    }
    default:
      throw new ArgFault(`operand ${a.operand} is not an x86 operand`);
  }
}

/** A NUL-terminated string in guest memory (at most `max` bytes), or a note of why not. */
export function readGuestString(
  read: (addr: number, len: number) => Uint8Array,
  addr: bigint,
  max = 4096,
): string {
  if (addr === 0n) return "(null)";
  const a = Number(addr);
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total < max) {
    // Up to the end of the 256-byte chunk, so that a string at the end of a mapping is read.
    const take = Math.min(max - total, 256 - ((a + total) % 256));
    let chunk: Uint8Array;
    try {
      chunk = read(a + total, take);
    } catch {
      if (total === 0) return `(bad address 0x${addr.toString(16)})`;
      break;
    }
    const z = chunk.indexOf(0);
    if (z >= 0) {
      parts.push(chunk.subarray(0, z));
      total += z;
      break;
    }
    parts.push(chunk);
    total += take;
  }
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return new TextDecoder().decode(all);
}
