/**
 * Typed refusals. Every check that text-patch makes before writing names the rule it enforces
 * (XMC-MODEL.md "Invariants a patching engine must keep"); a refused patch has written nothing.
 * @module
 */

/**
 * The rules a patch can violate.
 *
 * - `boundary`: the site is not on an instruction boundary when decoding from the known start
 *   (invariant 1).
 * - `whole-instructions`: the replaced bytes are not one whole instruction (optionally padded
 *   after a JMP/RET, as Linux allows) (invariant 1).
 * - `length`: the new instruction does not decode to exactly the replaced length, or the length
 *   is not one of 1, 2, 5, 6 bytes (invariant 1).
 * - `new-instruction`: the new bytes are not an instruction the INT3 handler can emulate
 *   (INT3, RET, JMP8/32, CALL32, Jcc8/32, NOP1/2/5/6) (invariant 4).
 * - `old-bytes`: the bytes in memory are not what the caller expected (invariant 7).
 * - `overlap`: two sites of one batch overlap (invariant 6).
 * - `batch-bound`: a batch has more sites than the bound (invariant 6).
 * - `one-writer`: another patch is in progress (invariant 11).
 * - `unsafe`: an unsafe protocol was asked for without `unsafe: true` (invariant 2).
 * - `early`: early poke while other CPUs may run text.
 * - `unsupported`: the port lacks what the protocol needs (e.g. stop-machine).
 * - `shape`: the site does not have the shape the protocol needs (the jmp2 scheme).
 * - `unreadable`: the site or the code before it cannot be read.
 */
export type PatchRule =
  | "boundary"
  | "whole-instructions"
  | "length"
  | "new-instruction"
  | "old-bytes"
  | "overlap"
  | "batch-bound"
  | "one-writer"
  | "unsafe"
  | "early"
  | "unsupported"
  | "shape"
  | "unreadable";

/** A refused patch: `rule` names the violated invariant, `site` the address (when about one). */
export class PatchError extends Error {
  /** The rule that refused the patch. */
  readonly rule: PatchRule;
  /** The site's address, or -1 when the refusal is about the whole request. */
  readonly site: number;
  constructor(rule: PatchRule, site: number, message: string) {
    super(site >= 0 ? `${rule}: 0x${site.toString(16)}: ${message}` : `${rule}: ${message}`);
    this.name = "PatchError";
    this.rule = rule;
    this.site = site;
  }
}
