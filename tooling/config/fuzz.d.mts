/** Deterministic pseudo-random numbers: xorshift128, 32-bit words. */
export declare class FuzzRng {
  constructor(seed: number);
  /** Next unsigned 32-bit value. */
  next(): number;
  /** Integer in [0, n). */
  below(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}
/** Boundary values for lengths, counts, offsets and signs. */
export declare const INTERESTING: readonly number[];
/** One mutation of `input` (a new array). */
export declare function mutateBytes(
  rng: FuzzRng,
  input: Uint8Array,
  corpus?: readonly Uint8Array[],
  maxLen?: number,
): Uint8Array;
/** 1 to `max` mutations in a row (a new array). */
export declare function mutateMany(
  rng: FuzzRng,
  input: Uint8Array,
  corpus?: readonly Uint8Array[],
  max?: number,
  maxLen?: number,
): Uint8Array;
/** A random string of up to `maxLen` UTF-16 code units (NULs, controls, lone surrogates, astral). */
export declare function randomString(rng: FuzzRng, maxLen: number): string;
export declare function toHex(bytes: Uint8Array): string;
export declare function fromHex(text: string): Uint8Array;
/** `ciCases`, or the XMC_FUZZ_CASES long run scaled by ciCases / 100,000. */
export declare function fuzzCases(ciCases: number): number;
/** `seed`, mixed with XMC_FUZZ_SEED when set. */
export declare function fuzzSeed(seed: number): number;
export declare class FuzzFailure extends Error {
  readonly input: unknown;
  constructor(message: string, input: unknown);
}
export interface FuzzTally {
  name: string;
  seed: number;
  cases: number;
  /** Cases per outcome name. */
  outcomes: Map<string, number>;
  slowestMs: number;
  totalMs: number;
}
export interface FuzzSpec<T> {
  name: string;
  seed: number;
  cases: number;
  /** Per-case time bound in ms (default 1000). */
  caseMs?: number;
  generate: (rng: FuzzRng, i: number) => T;
  /** Throws on a property violation; returns the outcome's name for the tally. */
  check: (input: T, i: number) => string;
  /** Print the one-line summary (default true). */
  log?: boolean;
}
export declare function runFuzz<T>(spec: FuzzSpec<T>): FuzzTally;
/** A test timeout: `baseMs` (default 600,000) in CI, scaled by XMC_FUZZ_CASES / 100,000 in long runs. */
export declare function fuzzTimeoutMs(baseMs?: number): number;
