/**
 * The clock that timestamps are counted in. The buffers never read a clock themselves: every
 * write takes a caller-supplied timestamp (modeled cycles in the simulator, nanoseconds from
 * {@link monotonicNs} in a Node program). The clock description only says what the numbers
 * mean, for the exporters.
 */
import { TraceBufferError } from "./errors.ts";

/** What a timestamp counts: modeled CPU cycles, or host nanoseconds. */
export type ClockUnit = "cycles" | "ns";

/** Description of the clock timestamps are taken from, as passed in options. */
export interface ClockSpec {
  /** What one tick is. */
  readonly unit: ClockUnit;
  /** Ticks per second (Hz). Default 1e9; must be 1e9 for `ns`. */
  readonly frequency?: number;
  /** Clock name in the CTF metadata; default `cycles` or `monotonic`. */
  readonly name?: string;
  /** Free-text description in the CTF metadata. */
  readonly description?: string;
}

/** A validated clock description with every field filled in. */
export interface ClockInfo {
  /** What one tick is. */
  readonly unit: ClockUnit;
  /** Ticks per second (Hz), a positive integer. */
  readonly frequency: number;
  /** Clock name, a TSDL identifier. */
  readonly name: string;
  /** Free-text description. */
  readonly description: string;
}

/**
 * Fill in and check a clock description.
 * @throws TraceBufferError `BAD_CONFIG` on an unknown unit, a bad frequency or name.
 */
export function normalizeClock(spec: ClockSpec | undefined): ClockInfo {
  const unit = spec?.unit ?? "ns";
  if (unit !== "cycles" && unit !== "ns") {
    throw new TraceBufferError("BAD_CONFIG", `clock unit must be "cycles" or "ns", not "${String(unit)}"`);
  }
  const frequency = spec?.frequency ?? 1e9;
  if (!Number.isSafeInteger(frequency) || frequency <= 0) {
    throw new TraceBufferError(
      "BAD_CONFIG",
      `clock frequency must be a positive integer in Hz, not ${frequency}`,
    );
  }
  if (unit === "ns" && frequency !== 1e9) {
    throw new TraceBufferError("BAD_CONFIG", `a clock in ns ticks at 1e9 Hz; got frequency ${frequency}`);
  }
  const name = spec?.name ?? (unit === "ns" ? "monotonic" : "cycles");
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new TraceBufferError("BAD_CONFIG", `clock name "${name}" must match /^[A-Za-z_][A-Za-z0-9_]*$/`);
  }
  const description =
    spec?.description ??
    (unit === "ns" ? "host monotonic clock, nanoseconds" : `modeled CPU cycles at ${frequency} Hz`);
  return { unit, frequency, name, description };
}

/**
 * Host monotonic time in nanoseconds (CLOCK_MONOTONIC, the same in every thread), as a number
 * (exact for about 104 days of uptime). Allocates one short-lived bigint per call.
 */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}
