/**
 * @xmc/probes: dynamic probes on x86 code — kprobes (INT3, out-of-line execution with
 * RIP-relative fixups, boosting, emulated branches), kretprobes (return-address trampoline,
 * maxactive), and jump-optimized probes (djprobes/optprobes: detour buffers, relocation, the
 * optimizer's safety checks, quiescence before the jump), including djprobes on marker sites
 * with the marker's decoded arguments. It reaches the machine only through the
 * {@link ProbePort} it defines.
 * @module
 */
export {
  CodeArena,
  DETOUR_PUSHED,
  DETOUR_RELOCATED,
  DETOUR_RSP_OFFSET,
  DETOUR_SIZE,
  detourBytes,
  SLOT_BOOSTED,
  SLOT_SIZE,
  slotBytes,
} from "./code.ts";
export type { ProbeContext } from "./context.ts";
export { OPTIMIZE_RULES, ProbeError, type ProbeRule } from "./errors.ts";
export {
  decodeFunction,
  type EmuKind,
  type FnInsn,
  type FunctionCode,
  type InsnPlan,
  insnAt,
  type MemRef,
  planInsn,
  relocate,
} from "./insn.ts";
export type { ProbeCpu, ProbePort, ProbeTrapHandler } from "./port.ts";
export {
  type Probe,
  type ProbeKind,
  type ProbeRunResult,
  type ProbeSpec,
  type ProbeState,
  type ProbeSteps,
  Probes,
  type ProbesOptions,
} from "./probes.ts";
