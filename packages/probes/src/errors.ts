/**
 * Typed refusals of the probes package. Every check made before anything is written names
 * the rule it enforces; a refused registration has written nothing (no store through the port).
 * @module
 */

/**
 * The rules a probe can violate.
 *
 * Placement (any kind; the probe is refused):
 * - `no-symbol`: the symbol is unknown, or the address lies in no known function.
 * - `boundary`: the address is not an instruction boundary when the function is decoded from its symbol.
 * - `undecodable`: the instruction at the address (or the function) does not decode.
 * - `trap-insn`: INT3, INT n, INTO, INT1 or UD0/1/2 (traps of their own).
 * - `far-branch`: far JMP, CALL or RET.
 * - `iret`: IRET.
 * - `changes-if`: CLI, STI, POPF (they change the interrupt flag).
 * - `privileged`: HLT, SYSRET and other privileged instructions.
 * - `syscall`: SYSCALL (the kernel may resume the thread elsewhere than after the slot copy).
 * - `unsupported`: an instruction the out-of-line slot cannot run and the handler cannot emulate
 *   (a relative target other than a branch, e.g. XBEGIN; a segment-relative indirect branch).
 * - `rip-range`: a RIP-relative displacement does not reach its target from the slot (±2 GiB).
 * - `in-region`: the address lies inside another probe's optimized region (bytes 1..4 of its jump).
 * - `kretprobe-entry`: a kretprobe that is not at a function's first instruction.
 * - `marker`: a marker name matched no nop5 marker site.
 *
 * Optimization (djprobe; the probe stays a kprobe, `probe.refusal` says why):
 * - `branch-into-region`: a branch in the function targets bytes 1..L-1 of the replaced region.
 * - `indirect-jump`: the function has an indirect jump (a switch table) whose targets are unknown.
 * - `not-relocatable`: an instruction of the region cannot run relocated (a branch, a trap, ...).
 * - `function-end`: the 5-byte jump would run past the function's end.
 * - `probe-in-region`: another probe sits inside the region.
 * - `post-handler`: a post handler needs the trap after the displaced instruction.
 *
 * Management: `not-registered` (unregister/enable/disable of an unknown probe).
 */
export type ProbeRule =
  | "no-symbol"
  | "boundary"
  | "undecodable"
  | "trap-insn"
  | "far-branch"
  | "iret"
  | "changes-if"
  | "privileged"
  | "syscall"
  | "unsupported"
  | "rip-range"
  | "in-region"
  | "kretprobe-entry"
  | "marker"
  | "branch-into-region"
  | "indirect-jump"
  | "not-relocatable"
  | "function-end"
  | "probe-in-region"
  | "post-handler"
  | "not-registered";

/** Rules that refuse only the optimization of a djprobe (it keeps working as a kprobe). */
export const OPTIMIZE_RULES: readonly ProbeRule[] = [
  "branch-into-region",
  "indirect-jump",
  "not-relocatable",
  "function-end",
  "probe-in-region",
  "post-handler",
];

/** A refused probe: `rule` names the violated rule, `address` the instruction (or -1). */
export class ProbeError extends Error {
  override readonly name = "ProbeError";
  constructor(
    readonly rule: ProbeRule,
    readonly address: number,
    message: string,
  ) {
    super(address >= 0 ? `${rule}: 0x${address.toString(16)}: ${message}` : `${rule}: ${message}`);
  }
}
