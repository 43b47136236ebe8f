/**
 * Validation before any write (XMC-MODEL.md invariants 1, 6, 7): the site is on an instruction
 * boundary of the code around it (decoded from a known start), the replaced range is whole
 * instructions, the new instruction is one the INT3 handler emulates and has exactly the
 * replaced length, memory holds what the caller expected, and the sites of a batch are sorted,
 * disjoint and bounded in number. Every refusal is a {@link PatchError} naming its rule.
 * @module
 */
import { DecodeError, decode, Instruction } from "@xmc/x86-decode";
import { PatchError } from "./errors.ts";
import { classifyBreakpoint, classifyNew, type PatchInsn, wholeInstructions } from "./insn.ts";
import type { TextPort } from "./port.ts";

/** One site to patch. */
export interface PatchSite {
  /** Address of the first replaced byte. */
  readonly addr: number;
  /**
   * A known instruction start at or before `addr` in the same code (e.g. the function's
   * symbol): decoding from it must reach `addr` exactly. Pass `addr` itself to assert it.
   */
  readonly from: number;
  /** The bytes the caller expects at `addr` (their length is the replaced length). */
  readonly old: Uint8Array;
  /** The replacement: one patch instruction of the same length. */
  readonly new: Uint8Array;
}

/** A validated site (internal to the protocols). */
export interface PlannedSite {
  readonly addr: number;
  readonly old: Uint8Array;
  readonly new: Uint8Array;
  readonly insn: PatchInsn;
}

/** Bytes decoded from `from` to the site at most (a function larger than this cannot be checked). */
export const MAX_BOUNDARY_SCAN: number = 1 << 20;

const scratch = new Instruction();

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Validate one site against current memory; throws PatchError, writes nothing. */
export function validateSite(port: TextPort, s: PatchSite): PlannedSite {
  const { addr, from } = s;
  const len = s.old.length;
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(from) || addr < 0)
    throw new PatchError("boundary", addr, "addresses must be non-negative integers");
  if (s.new.length !== len)
    throw new PatchError(
      "length",
      addr,
      `the new bytes (${s.new.length}) must have the replaced length (${len})`,
    );
  if (from > addr)
    throw new PatchError(
      "boundary",
      addr,
      `the known start 0x${from.toString(16)} is after the site: cannot prove an instruction boundary`,
    );
  if (addr - from > MAX_BOUNDARY_SCAN)
    throw new PatchError(
      "boundary",
      addr,
      `the known start is ${addr - from} bytes before the site (more than ${MAX_BOUNDARY_SCAN})`,
    );
  let code: Uint8Array;
  try {
    code = port.read(from, addr - from + len);
  } catch (e) {
    throw new PatchError("unreadable", addr, `cannot read the code: ${(e as Error).message}`);
  }
  let at = 0;
  while (from + at < addr) {
    const n = decode(code, at, from + at, 64, scratch);
    if (n === 0) {
      const why = scratch.error === DecodeError.Truncated ? "runs past the site" : "is not valid";
      throw new PatchError(
        "boundary",
        addr,
        `decoding from 0x${from.toString(16)}: the instruction at 0x${(from + at).toString(16)} ${why}`,
      );
    }
    at += n;
  }
  if (from + at !== addr)
    throw new PatchError(
      "boundary",
      addr,
      `decoding from 0x${from.toString(16)}, the instruction at 0x${(from + at - scratch.length).toString(16)} covers the site (next boundary 0x${(from + at).toString(16)})`,
    );
  const cur = code.subarray(at, at + len);
  for (let i = 0; i < len; i++)
    if (cur[i] !== s.old[i])
      throw new PatchError("old-bytes", addr, `expected ${hex(s.old)}, found ${hex(cur)}`);
  const whole = wholeInstructions(cur, addr);
  const insn = whole ? undefined : classifyNew(s.new, addr);
  if (whole || (insn && "rule" in insn)) {
    // A probe's breakpoint (INT3 over the first byte of an instruction of any length, or that
    // byte put back): no new instruction to emulate; the owner's handler takes the traps.
    const bp = classifyBreakpoint(cur, s.new, addr);
    if (bp) return { addr, old: cur.slice(), new: s.new.slice(), insn: bp };
    if (whole) throw new PatchError("whole-instructions", addr, whole);
    if (insn && "rule" in insn) throw new PatchError(insn.rule, addr, insn.why);
  }
  if (!insn || "rule" in insn) throw new PatchError("new-instruction", addr, "unreachable");
  return { addr, old: cur.slice(), new: s.new.slice(), insn };
}

/** Validate a batch: each site, then sorted order, no overlap, at most `maxBatch` sites. */
export function validateBatch(port: TextPort, sites: readonly PatchSite[], maxBatch: number): PlannedSite[] {
  if (sites.length > maxBatch)
    throw new PatchError(
      "batch-bound",
      -1,
      `${sites.length} sites in one batch; the bound is ${maxBatch} (split the batch)`,
    );
  const planned = sites.map((s) => validateSite(port, s)).sort((a, b) => a.addr - b.addr);
  for (let i = 1; i < planned.length; i++) {
    const p = planned[i - 1]!;
    const q = planned[i]!;
    if (p.addr + p.old.length > q.addr)
      throw new PatchError(
        "overlap",
        q.addr,
        `overlaps the site at 0x${p.addr.toString(16)} (${p.old.length} bytes) in the same batch`,
      );
  }
  return planned;
}
