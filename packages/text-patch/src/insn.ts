/**
 * Patch instructions: which replacements the INT3 handler can emulate (XMC-MODEL.md invariant
 * 4), how to recognise them from their bytes, and the emulation itself. The set follows Linux's
 * `text_poke_bp` (arch/x86/kernel/alternative.c): INT3, RET, JMP8, JMP32, CALL32, Jcc8, Jcc32
 * and NOPs emulated as a jump over them; a JMP or RET may be padded with INT3 or NOP bytes up
 * to the replaced length, since nothing executes after it.
 * @module
 */
import { Br, DecodeError, decode, encodeNop, Instruction } from "@xmc/x86-decode";
import type { TrapCpu, TrapOutcome } from "./port.ts";

/**
 * What a patch instruction does when the INT3 handler emulates it. `breakpoint`: an INT3 over
 * the first byte of a whole instruction of any length, or that instruction's first byte put
 * back over its INT3 (the tail unchanged): a probe's own breakpoint, declined for its owner.
 */
export type PatchKind = "int3" | "ret" | "jmp" | "call" | "jcc" | "nop" | "breakpoint";

/** A recognised patch instruction at a site. */
export interface PatchInsn {
  readonly kind: PatchKind;
  /** Bytes replaced (the instruction plus any padding). */
  readonly len: number;
  /** Length of the instruction itself (bytes). */
  readonly insnLen: number;
  /** Branch target (jmp, call, jcc), else 0. */
  readonly target: number;
  /** Condition code 0-15 (jcc), else -1. */
  readonly cc: number;
}

/** Replacement lengths the protocols accept (invariant 1): INT3/RET/NOP1, JMP8/Jcc8/NOP2, JMP32/CALL32/NOP5, Jcc32/NOP6. */
export const PATCH_LENGTHS: readonly number[] = [1, 2, 5, 6];

const scratch = new Instruction();

function sameBytes(a: Uint8Array, off: number, b: Uint8Array): boolean {
  if (a.length - off < b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[off + i] !== b[i]) return false;
  return true;
}

function isPadding(bytes: Uint8Array, from: number): boolean {
  const n = bytes.length - from;
  if (n <= 0) return true;
  let allInt3 = true;
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0xcc) allInt3 = false;
  if (allInt3) return true;
  return n <= 11 && sameBytes(bytes, from, encodeNop(n));
}

/**
 * Recognise `bytes` (to be written at `site`) as a patch instruction, or say why not:
 * `{ rule: "new-instruction" | "length", why }`. Allocates only the result.
 */
export function classifyNew(
  bytes: Uint8Array,
  site: number,
): PatchInsn | { rule: "new-instruction" | "length"; why: string } {
  const len = bytes.length;
  if (!PATCH_LENGTHS.includes(len))
    return { rule: "length", why: `replacements are 1, 2, 5 or 6 bytes, not ${len}` };
  const n = decode(bytes, 0, site, 64, scratch);
  if (n === 0)
    return {
      rule: scratch.error === DecodeError.Truncated ? "length" : "new-instruction",
      why:
        scratch.error === DecodeError.Truncated
          ? `the new bytes end inside an instruction (${len} bytes are too few)`
          : "the new bytes are not a valid instruction",
    };
  const b0 = bytes[0]!;
  let kind: PatchKind | undefined;
  if (b0 === 0xcc && n === 1) kind = "int3";
  else if (b0 === 0xc3 && n === 1) kind = "ret";
  else if ((b0 === 0xe9 || b0 === 0xeb) && scratch.branch === Br.Jmp) kind = "jmp";
  else if (b0 === 0xe8 && scratch.branch === Br.Call) kind = "call";
  else if (scratch.branch === Br.Jcc && ((b0 >= 0x70 && b0 <= 0x7f) || b0 === 0x0f)) kind = "jcc";
  else if (n === len && (n === 1 || n === 2 || n === 5 || n === 6) && sameBytes(bytes, 0, encodeNop(n)))
    kind = "nop";
  if (!kind)
    return {
      rule: "new-instruction",
      why: "the INT3 handler can emulate only INT3, RET, JMP8/32, CALL32, Jcc8/32 and the canonical NOP1/2/5/6",
    };
  if (n !== len) {
    const padded = (kind === "jmp" || kind === "ret") && n < len && isPadding(bytes, n);
    if (!padded)
      return {
        rule: "length",
        why: `the new instruction is ${n} bytes, not ${len} (only a JMP or RET may be padded, with INT3s or one NOP)`,
      };
  }
  const cc = kind === "jcc" ? (b0 === 0x0f ? bytes[1]! & 15 : b0 & 15) : -1;
  const target = kind === "jmp" || kind === "call" || kind === "jcc" ? scratch.target : 0;
  return { kind, len, insnLen: n, target, cc };
}

/**
 * Recognise a breakpoint write (kprobes' arm and disarm): `cur` (in memory at `site`) and
 * `next` have the same length and tail, exactly one of them starts with INT3, and the other is
 * one whole instruction of exactly that length. Returns the patch instruction (kind
 * `breakpoint`), or undefined when the pair is not of that form.
 */
export function classifyBreakpoint(cur: Uint8Array, next: Uint8Array, site: number): PatchInsn | undefined {
  const len = cur.length;
  if (next.length !== len || len === 0) return undefined;
  const arming = next[0] === 0xcc && cur[0] !== 0xcc;
  const disarming = cur[0] === 0xcc && next[0] !== 0xcc;
  if (!arming && !disarming) return undefined;
  for (let i = 1; i < len; i++) if (cur[i] !== next[i]) return undefined;
  const insn = arming ? cur : next;
  if (decode(insn, 0, site, 64, scratch) !== len) return undefined;
  return { kind: "breakpoint", len, insnLen: len, target: 0, cc: -1 };
}

/**
 * Check that `bytes` (in memory at `site`) are whole instructions: one instruction of exactly
 * their length, or a direct JMP/RET followed by whole instructions (padding, never executed).
 * Returns undefined when they are, else why not.
 */
export function wholeInstructions(bytes: Uint8Array, site: number): string | undefined {
  const n = decode(bytes, 0, site, 64, scratch);
  if (n === 0 && scratch.error === DecodeError.Truncated)
    return `the instruction at the site is longer than the ${bytes.length} bytes replaced`;
  if (n === 0) return "the bytes at the site are not a valid instruction";
  if (n === bytes.length) return undefined;
  const b0 = bytes[0]!;
  const stops = b0 === 0xc3 || b0 === 0xe9 || b0 === 0xeb;
  if (!stops)
    return `the range covers more than one instruction (the first is ${n} bytes); replacing several needs a quiescence protocol`;
  let at = n;
  while (at < bytes.length) {
    const k = decode(bytes, at, site + at, 64, scratch);
    if (k === 0) return `the padding after the ${n}-byte JMP/RET does not end on an instruction boundary`;
    at += k;
  }
  return undefined;
}

/** Is condition `cc` (0-15, the Jcc encoding order) true for RFLAGS `f`? */
export function conditionHolds(cc: number, f: number): boolean {
  const cf = (f & 0x1) !== 0;
  const pf = (f & 0x4) !== 0;
  const zf = (f & 0x40) !== 0;
  const sf = (f & 0x80) !== 0;
  const of = (f & 0x800) !== 0;
  let r: boolean;
  switch (cc >> 1) {
    case 0:
      r = of;
      break;
    case 1:
      r = cf;
      break;
    case 2:
      r = zf;
      break;
    case 3:
      r = cf || zf;
      break;
    case 4:
      r = sf;
      break;
    case 5:
      r = pf;
      break;
    case 6:
      r = sf !== of;
      break;
    default:
      r = zf || sf !== of;
  }
  return (cc & 1) === 0 ? r : !r;
}

/**
 * Emulate patch instruction `p` at `site` on `cpu` (which trapped on the INT3 there): CALL
 * pushes the return address and jumps, JMP jumps, Jcc jumps by the flags, RET pops, NOP jumps
 * over the replaced range. An INT3 is a genuine breakpoint: declined, for its owner.
 */
export function emulate(cpu: TrapCpu, site: number, p: PatchInsn): TrapOutcome {
  switch (p.kind) {
    case "int3":
    case "breakpoint":
      return "declined";
    case "ret":
      cpu.rip = cpu.pop64();
      return "handled";
    case "jmp":
      cpu.rip = p.target;
      return "handled";
    case "call":
      cpu.push64(site + p.insnLen);
      cpu.rip = p.target;
      return "handled";
    case "jcc":
      cpu.rip = conditionHolds(p.cc, cpu.flags) ? p.target : site + p.insnLen;
      return "handled";
    default:
      cpu.rip = site + p.len;
      return "handled";
  }
}
