/**
 * Typed errors of the markers package: every refusal names its rule.
 * @module
 */

/** Why a markers operation was refused. */
export type MarkerRule =
  /** A name or glob matched no marker. */
  | "no-match"
  /** The probe's format differs from the marker's. */
  | "format"
  /** A format string could not be parsed, or does not fit the marker's arguments. */
  | "bad-format"
  /** A marker name or glob is malformed. */
  | "bad-pattern"
  /** Disarming a marker that is not armed. */
  | "not-armed"
  /** The marker's site does not hold the bytes its kind promises (e.g. not a NOP). */
  | "site"
  /** The note or section describing sites is malformed. */
  | "note"
  /** The connection was already disconnected. */
  | "disconnected"
  /** An unsafe patching protocol without `unsafe: true`. */
  | "protocol";

/** An error of the markers package; `rule` says which rule refused. */
export class MarkerError extends Error {
  override readonly name = "MarkerError";
  constructor(
    readonly rule: MarkerRule,
    message: string,
  ) {
    super(message);
  }
}
