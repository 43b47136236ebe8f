/**
 * The port: what text-patch needs from a machine (ARCHITECTURE.md "Packages and the direction
 * of dependencies"). text-patch imports no simulator; a backend (cpu-sim's `PreciseMachine` or
 * `Machine`, or anything else) satisfies these interfaces, usually through a few lines of
 * adapter code.
 *
 * Protocols are generators of {@link PatchYield} steps, so that they interleave with the other
 * CPUs in modeled time: the backend runs one step of the protocol at a time (the shape of
 * cpu-sim's agent programs).
 * @module
 */

/** What a protocol step yields: nothing (a step boundary) or a condition to wait for. */
export type PatchYield = undefined | { wait: () => boolean; why: string };

/** A protocol run: a generator of steps that returns its statistics. */
export type PatchSteps<T> = Generator<PatchYield, T, void>;

/** A sync in flight (an IPI to every CPU whose handler serializes, e.g. `sync_core`). */
export interface SyncHandle {
  /** Number of CPUs the IPI was sent to. */
  readonly targets: number;
  /** True once every target has run the handler. */
  done(): boolean;
  /** Cycles the targets spent taking the IPI and serializing (valid once done). */
  stallCycles(): number;
}

/** A stop-machine rendezvous in progress. */
export interface StopHandle {
  /** True once every CPU is parked (spinning with interrupts off, executing no text). */
  parked(): boolean;
  /** Serialize every parked CPU and let it go. */
  release(): void;
  /** Cycles the CPUs spent parked, taking the IPI and serializing (valid after release). */
  stallCycles(): number;
}

/** What an INT3 handler sees of the CPU that trapped. */
export interface TrapCpu {
  /** CPU number. */
  readonly id: number;
  /** RIP (after the trap: the byte after the INT3). Setting it resumes there. */
  rip: number;
  /** RFLAGS (for emulating Jcc). */
  readonly flags: number;
  /** Push a 64-bit value on the CPU's stack (RSP -= 8). */
  push64(value: number): void;
  /** Pop a 64-bit value from the CPU's stack (RSP += 8). */
  pop64(): number;
}

/** An INT3 trap offered to a handler: `address` is the INT3 byte's address. */
export interface Int3Trap {
  readonly address: number;
  readonly cpu: TrapCpu;
}

/**
 * What a trap handler decides: `handled` (continue at the RIP it left), `declined` (not this
 * handler's: offer it to the next), `retry` (spurious: re-execute the trapping address).
 */
export type TrapOutcome = "handled" | "declined" | "retry";

/**
 * An INT3 handler. It may decide at once, or be a generator whose every `yield` is a point
 * where other CPUs and the patching CPU may run (its first segment runs with the trap
 * delivery). A backend that cannot interleave handlers runs the generator to its end.
 */
export type Int3Handler = (trap: Int3Trap) => TrapOutcome | Generator<void, TrapOutcome, void>;

/** The single patch-writer lock (invariant 11). */
export interface WriterLock {
  /** Take the lock for `owner`; false when someone holds it. */
  tryAcquire(owner: string): boolean;
  /** Release it (only its holder may). */
  release(owner: string): void;
  /** The current holder, or undefined. */
  readonly holder: string | undefined;
}

/** What text-patch needs from a machine. */
export interface TextPort {
  /** Number of CPUs (the targets of a sync). */
  readonly cpus: number;
  /** Read `len` bytes of text at `addr` (current memory). Throws when unmapped. */
  read(addr: number, len: number): Uint8Array;
  /**
   * Write `bytes` at `addr` as **one store** of the patching CPU, ignoring write protection.
   * text-patch only asks for naturally aligned stores of 1, 2, 4 or 8 bytes.
   */
  write(addr: number, bytes: Uint8Array): void;
  /** Send a sync (IPI + serializing handler) to every CPU; wait for it with `done()`. */
  syncAll(): SyncHandle;
  /** Offer INT3 traps to `handler` (before any genuine breakpoint's owner sees them). */
  claimInt3(handler: Int3Handler): void;
  /** Stop offering INT3 traps to `handler`. */
  releaseInt3(handler: Int3Handler): void;
  /** Declare that [addr, addr+len) is being replaced (for the checker's mid-instruction rules). */
  declarePatched(addr: number, len: number): void;
  /** The patch-writer lock shared by every patcher of this machine. */
  readonly lock: WriterLock;
  /** Modeled time of the patching CPU, in cycles. */
  cycles(): number;
  /** Stop-machine: park every CPU (IPI rendezvous). Optional. */
  stopMachine?(): StopHandle;
  /** True when no other CPU can execute text (boot, before SMP). Needed by early poke. */
  othersQuiet?(): boolean;
  /** Serialize the patching CPU itself (e.g. CPUID). Optional (a no-op when absent). */
  serializeSelf?(): void;
}

/** A simple {@link WriterLock} for adapters. */
export function createWriterLock(): WriterLock {
  let holder: string | undefined;
  return {
    tryAcquire(owner: string): boolean {
      if (holder !== undefined) return false;
      holder = owner;
      return true;
    },
    release(owner: string): void {
      if (holder === owner) holder = undefined;
    },
    get holder(): string | undefined {
      return holder;
    },
  };
}
