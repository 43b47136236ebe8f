/**
 * The port: what markers needs from a machine, on top of text-patch's {@link TextPort}
 * (ARCHITECTURE.md: markers never imports a simulator; cpu-sim's `machinePort(machine)`
 * satisfies this interface structurally).
 * @module
 */
import type { TextPort, TrapCpu, TrapOutcome } from "@xmc/text-patch";

/** A CPU as the host side sees it at a host call or a breakpoint. */
export interface MarkerCpu extends TrapCpu {
  /** Modeled time of this CPU (cycles). */
  readonly cycles: number;
  /** A 64-bit register (0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15) unsigned. */
  reg64n(r: number): bigint;
  /** Charge `cycles` of host work (a probe's body) to this CPU's modeled time, when the backend models time. */
  charge?(cycles: number): void;
}

/** A breakpoint handler: `handled` when the trap was this handler's, else `declined`. */
export type MarkerTrapHandler = (trap: {
  readonly address: number;
  readonly cpu: MarkerCpu;
}) => TrapOutcome | Generator<void, TrapOutcome, void>;

/** What markers needs from a machine. */
export interface MarkerPort extends TextPort {
  /** Offer INT3 traps to `handler`; the CPU it sees has registers (text-patch's see a subset). */
  claimInt3(handler: MarkerTrapHandler): void;
  releaseInt3(handler: MarkerTrapHandler): void;
  /** Executable memory (RX, page-aligned) within ±2 GiB of `near`. */
  allocExec(near: number, size: number): number;
  /** Free executable memory; executing it afterwards is an error (a hazard in precise mode). */
  freeExec(addr: number, len: number): void;
  /** No thread's RIP and no return address on any thread's stack lies in `ranges`. */
  quiescent(ranges: readonly { start: number; len: number }[]): boolean;
  /** Register host call `id` (guest VMCALL with EAX = id). */
  onHostCall(id: number, fn: (cpu: MarkerCpu) => void): void;
  /** Host read of guest memory (data: argument strings, memory operands). Throws when unmapped. */
  readMem(addr: number, len: number): Uint8Array;
  /** Cycles a probe handler's body costs by the machine's cost profile, when it has one. */
  readonly probeHandlerCycles?: number;
  /** Host write of guest memory (data: USDT semaphores, call-variant flags). */
  writeMem(addr: number, bytes: Uint8Array): void;
}
