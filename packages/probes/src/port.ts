/**
 * The port: what probes needs from a machine, on top of markers' {@link MarkerPort}
 * (ARCHITECTURE.md: probes never imports a simulator; cpu-sim's `machinePort(machine)`
 * satisfies this interface structurally).
 * @module
 */
import type { MarkerCpu, MarkerPort } from "@xmc/markers";
import type { TrapOutcome } from "@xmc/text-patch";

/** A CPU as a probe's trap handler or host call sees it: registers readable and writable. */
export interface ProbeCpu extends MarkerCpu {
  /** Set a 64-bit register (0 RAX … 15 R15) from a BigInt (mod 2^64). */
  setReg64n(r: number, v: bigint): void;
  /** Replace RFLAGS. */
  setFlags(v: number): void;
  /** Charge `cycles` of host work (a handler's body) to this CPU's modeled time. */
  charge(cycles: number): void;
}

/** A trap handler that sees a {@link ProbeCpu}. */
export type ProbeTrapHandler = (trap: {
  readonly address: number;
  readonly cpu: ProbeCpu;
}) => TrapOutcome | Generator<void, TrapOutcome, void>;

/** What probes needs from a machine. */
export interface ProbePort extends MarkerPort {
  claimInt3(handler: ProbeTrapHandler): void;
  releaseInt3(handler: ProbeTrapHandler): void;
  /** Register host call `id` (guest VMCALL with EAX = id); the CPU's registers are writable. */
  onHostCall(id: number, fn: (cpu: ProbeCpu) => void): void;
  /**
   * End the declaration of a replaced range (the original instructions are back, so starting
   * inside it is legitimate again; for the checker's mid-instruction rule).
   */
  endPatched(addr: number, len: number): void;
  /** Cycles one probe handler's body costs (charged per handler call; the cost profile's figure). */
  readonly probeHandlerCycles: number;
}
