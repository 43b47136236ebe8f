/**
 * Instruction facts for probing: a function decoded from its symbol (boundaries, branch
 * targets, indirect jumps), and the plan for one displaced instruction: emulated by the
 * handler (branches, calls, returns, loops, indirect branches through a register or memory),
 * copied into an out-of-line slot (with its RIP-relative displacement fixed for the slot's
 * address), or refused with a rule.
 * @module
 */
import { Br, DecodeError, decode, Instruction, OpKind, Reg } from "@xmc/x86-decode";
import { ProbeError, type ProbeRule } from "./errors.ts";

/** One decoded instruction of a function. */
export interface FnInsn {
  readonly addr: number;
  readonly len: number;
  /** {@link Br} kind. */
  readonly branch: number;
  /** Direct branch target (when the instruction has one), else -1. */
  readonly target: number;
}

/** A function decoded from its start to its end (the symbol's size). */
export interface FunctionCode {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** The original bytes [start, end) (probes' own bytes put back). */
  readonly bytes: Uint8Array;
  /** Every instruction, in address order; empty when `error` is set. */
  readonly insns: readonly FnInsn[];
  /** Why the function does not decode completely, if it does not. */
  readonly error?: string;
}

const scratch = new Instruction();

/** Decode a whole function from `bytes` (its original text at `start`). */
export function decodeFunction(name: string, start: number, bytes: Uint8Array): FunctionCode {
  const insns: FnInsn[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = decode(bytes, at, start + at, 64, scratch);
    if (n === 0) {
      const why = scratch.error === DecodeError.Truncated ? "runs past the function's end" : "is not valid";
      return {
        name,
        start,
        end: start + bytes.length,
        bytes,
        insns: [],
        error: `the instruction at 0x${(start + at).toString(16)} ${why}`,
      };
    }
    insns.push({
      addr: start + at,
      len: n,
      branch: scratch.branch,
      target: scratch.hasTarget ? scratch.target : -1,
    });
    at += n;
  }
  return { name, start, end: start + bytes.length, bytes, insns };
}

/** Index of the instruction starting at `addr`, or -1 (binary search). */
export function insnAt(fn: FunctionCode, addr: number): number {
  const a = fn.insns;
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid]!.addr;
    if (v === addr) return mid;
    if (v < addr) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** How the handler deals with a branch it emulates. */
export type EmuKind = "jmp" | "jcc" | "call" | "ret" | "loop" | "jrcxz" | "jmp-ind" | "call-ind";

/** A memory operand `disp(base,index,scale)` (RIP-relative already resolved into `disp`). */
export interface MemRef {
  readonly base: number;
  readonly index: number;
  readonly scale: number;
  readonly disp: bigint;
}

/** The plan for a displaced instruction. */
export type InsnPlan =
  | {
      readonly how: "emulate";
      readonly kind: EmuKind;
      readonly len: number;
      /** Direct target (jmp, jcc, call, loop, jrcxz), else 0. */
      readonly target: number;
      /** jcc: condition code 0-15; loop: 0 loopne, 1 loope, 2 loop. */
      readonly cc: number;
      /** ret: bytes popped after the return address (`ret $n`). */
      readonly pop: number;
      /** jrcxz/loop: 32-bit counter (address-size prefix). */
      readonly count32: boolean;
      /** Indirect through a register (0-15), or -1. */
      readonly reg: number;
      /** Indirect through memory, or undefined. */
      readonly mem?: MemRef;
    }
  | {
      readonly how: "copy";
      readonly len: number;
      /** The original bytes. */
      readonly bytes: Uint8Array;
      /** Offset of the RIP-relative disp32, or -1. */
      readonly ripDisp: number;
    };

function refuse(rule: ProbeRule, addr: number, what: string): never {
  throw new ProbeError(rule, addr, what);
}

function gpr(reg: number): number {
  return reg >= Reg.RAX && reg < Reg.RAX + 16 ? reg - Reg.RAX : -1;
}

/**
 * The plan for the instruction `bytes` (exactly one instruction) at `addr`. Throws
 * {@link ProbeError} with the rule that refuses it.
 */
export function planInsn(bytes: Uint8Array, addr: number): InsnPlan {
  const n = decode(bytes, 0, addr, 64, scratch);
  if (n === 0 || n !== bytes.length) refuse("undecodable", addr, "the instruction does not decode");
  const i = scratch;
  const text = `the instruction at the probe (${Buffer.from(bytes).toString("hex")})`;
  switch (i.branch) {
    case Br.Int3:
    case Br.Int:
    case Br.Into:
    case Br.Int1:
    case Br.Ud:
      refuse("trap-insn", addr, `${text} is a trap (INT3, INT n, INTO, INT1 or UD): it cannot be displaced`);
      break;
    case Br.JmpFar:
    case Br.CallFar:
    case Br.RetFar:
      refuse("far-branch", addr, `${text} is a far branch`);
      break;
    case Br.Iret:
      refuse("iret", addr, `${text} is IRET`);
      break;
    case Br.Hlt:
    case Br.Sysret:
      refuse("privileged", addr, `${text} is privileged`);
      break;
    case Br.Syscall:
      refuse(
        "syscall",
        addr,
        `${text} is SYSCALL: the kernel may resume the thread elsewhere than after the slot`,
      );
      break;
    default:
  }
  if (i.changesIF) refuse("changes-if", addr, `${text} changes the interrupt flag (CLI, STI, POPF)`);
  if (i.privileged) refuse("privileged", addr, `${text} is privileged`);
  const base = { how: "emulate" as const, len: n, target: 0, cc: -1, pop: 0, count32: false, reg: -1 };
  switch (i.branch) {
    case Br.Jmp:
      return { ...base, kind: "jmp", target: i.target };
    case Br.Jcc:
      return { ...base, kind: "jcc", target: i.target, cc: i.opcode & 15 };
    case Br.Call:
      return { ...base, kind: "call", target: i.target };
    case Br.Ret:
      return { ...base, kind: "ret", pop: i.immSize > 0 ? i.immLo & 0xffff : 0 };
    case Br.Loop:
      return { ...base, kind: "loop", target: i.target, cc: i.opcode & 3, count32: i.asize === 32 };
    case Br.Jrcxz:
      return { ...base, kind: "jrcxz", target: i.target, count32: i.asize === 32 };
    case Br.JmpInd:
    case Br.CallInd: {
      const kind = i.branch === Br.JmpInd ? "jmp-ind" : "call-ind";
      if (i.opKind[0] === OpKind.Reg) {
        const r = gpr(i.opReg[0]!);
        if (r < 0 || i.osize !== 64)
          refuse("unsupported", addr, `${text}: indirect branch through a non-64-bit register`);
        return { ...base, kind, reg: r };
      }
      if (i.segment === Reg.ES + 4 || i.segment === Reg.ES + 5)
        refuse("unsupported", addr, `${text}: segment-relative indirect branch`);
      if (i.asize !== 64) refuse("unsupported", addr, `${text}: 32-bit address size`);
      const disp = BigInt(i.memDisp) + (i.ripRelative ? BigInt(addr + n) : 0n);
      const mem = {
        base: i.ripRelative ? -1 : gpr(i.memBase),
        index: gpr(i.memIndex),
        scale: i.memScale,
        disp,
      };
      return { ...base, kind, mem };
    }
    default:
  }
  if (i.hasTarget)
    refuse("unsupported", addr, `${text} has a relative target but is not a branch the handler emulates`);
  return { how: "copy", len: n, bytes: bytes.slice(), ripDisp: i.ripDispOffset };
}

/**
 * The copy of `p` placed at `at`: its RIP-relative displacement (if any) adjusted so that it
 * still reaches the same address. Throws `rip-range` when it cannot.
 */
export function relocate(p: InsnPlan & { how: "copy" }, from: number, at: number): Uint8Array {
  const b = p.bytes.slice();
  if (p.ripDisp < 0) return b;
  const v = new DataView(b.buffer);
  const disp = v.getInt32(p.ripDisp, true) + (from - at);
  if (disp < -0x80000000 || disp > 0x7fffffff)
    refuse("rip-range", from, `the RIP-relative operand is out of ±2 GiB reach of 0x${at.toString(16)}`);
  v.setInt32(p.ripDisp, disp, true);
  return b;
}
