/**
 * Guest time from modeled cycles. Every clock is derived from the cycle counter of the CPU
 * that asks, at a nominal frequency of {@link NOMINAL_HZ} (2 GHz: one nanosecond is two
 * cycles), so a run is deterministic: CLOCK_MONOTONIC starts at 0 when the machine starts and
 * CLOCK_REALTIME starts at {@link EPOCH_SECONDS} (2024-01-01T00:00:00Z). Host time never leaks
 * into the guest.
 * @module
 */

/** Nominal frequency of the modeled CPUs (cycles per second). */
export const NOMINAL_HZ = 2_000_000_000;
/** CLOCK_REALTIME at modeled time 0: 2024-01-01T00:00:00Z, in seconds since the Unix epoch. */
export const EPOCH_SECONDS = 1_704_067_200;

/** Nanoseconds of modeled time for `cycles`. */
export function cyclesToNs(cycles: number): number {
  return Math.floor((cycles * 1e9) / NOMINAL_HZ);
}
/** Cycles for `ns` nanoseconds of modeled time. */
export function nsToCycles(ns: number): number {
  return (ns * NOMINAL_HZ) / 1e9;
}

/** Clock ids (linux/time.h). */
export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;

/** True for the clocks measured from the Unix epoch. */
export function isRealtime(clock: number): boolean {
  return clock === CLOCK_REALTIME || clock === CLOCK_REALTIME_COARSE || clock === 8 /* REALTIME_ALARM */;
}

/** A clock's value at modeled time `cycles` as [seconds, nanoseconds] (exact: the realtime value passes 2^53 ns). */
export function clockTime(clock: number, cycles: number): [number, number] {
  const ns = cyclesToNs(cycles);
  const sec = Math.floor(ns / 1e9);
  return [(isRealtime(clock) ? EPOCH_SECONDS : 0) + sec, ns - sec * 1e9];
}
