/**
 * Typed errors thrown at the API edges of the trace buffers.
 *
 * The write path never throws for conditions that can happen at run time in a correct program
 * (a full buffer, a record too big for a sub-buffer): those are counted and reported as a
 * `false` return. It throws a {@link TraceBufferError} only when the caller misuses the API:
 * an unknown event class, a field written with the wrong type or out of range, a commit with
 * fields missing, a bad configuration. Messages name the event class, the field and the
 * expected type so that the caller can fix the call.
 */

/**
 * What kind of misuse a {@link TraceBufferError} reports.
 *
 * - `BAD_CONFIG`: options for creating buffers or attaching to them are invalid.
 * - `BAD_SCHEMA`: an event-class declaration is invalid (bad name, unknown field type...).
 * - `UNKNOWN_EVENT_CLASS`: an event class id or name that the schema does not declare.
 * - `FIELD_TYPE`: a field written with a setter or value of the wrong type.
 * - `FIELD_VALUE`: a field value of the right type but out of range (e.g. 300 for a `u8`,
 *   a string with a NUL character, a non-integer for an integer field).
 * - `FIELD_COUNT`: a commit with fields missing, or more fields written than declared.
 * - `VAR_SIZE`: the variable-size bytes declared at reserve time differ from those written.
 * - `NO_RESERVATION`: a field setter, commit or discard called with no reservation open.
 * - `NESTING`: nesting deeper than the writer supports, or flush/close during a write.
 * - `OWNERSHIP`: a second writer for one buffer, or a second consuming reader for one set.
 * - `BAD_TRACE`: data handed to a reader or exporter is not what it expects.
 * - `WRITE_FAILED`: an exporter's write failed (a full disk, an I/O error). The file is left
 *   readable up to the last complete packet (CTF) or event (Chrome JSON) and
 *   {@link TraceBufferError.writeFailure} counts what was written and what was lost.
 */
export type TraceBufferErrorCode =
  | "BAD_CONFIG"
  | "BAD_SCHEMA"
  | "UNKNOWN_EVENT_CLASS"
  | "FIELD_TYPE"
  | "FIELD_VALUE"
  | "FIELD_COUNT"
  | "VAR_SIZE"
  | "NO_RESERVATION"
  | "NESTING"
  | "OWNERSHIP"
  | "BAD_TRACE"
  | "WRITE_FAILED";

/** What an export that failed part-way wrote and lost (`WRITE_FAILED`). */
export interface WriteFailure {
  /** The file whose write failed. */
  readonly file: string;
  /** The error of the write function (e.g. Node's `ENOSPC` error). */
  readonly cause: unknown;
  /** Events in the readable part of the output (complete packets or JSON entries). */
  readonly eventsWritten: number;
  /** Events of the trace that are not in the output. */
  readonly eventsLost: number;
  /** CTF: complete packets kept, and packets not written (0 for Chrome JSON). */
  readonly packetsWritten: number;
  readonly packetsLost: number;
  /** Bytes of readable output left on disk, all files together. */
  readonly bytesWritten: number;
}

/**
 * The only exception type thrown by this package. `code` classifies the problem for programs;
 * `message` says what is wrong and how to fix it, for people.
 */
export class TraceBufferError extends Error {
  /** What kind of problem this is; stable, meant for programs. */
  readonly code: TraceBufferErrorCode;
  /** For `WRITE_FAILED`: what was written and what was lost. */
  readonly writeFailure: WriteFailure | undefined;

  /**
   * @param code - the kind of problem.
   * @param message - what is wrong and what to do about it.
   * @param writeFailure - for `WRITE_FAILED`, the counts.
   */
  constructor(code: TraceBufferErrorCode, message: string, writeFailure?: WriteFailure) {
    super(message);
    this.name = "TraceBufferError";
    this.code = code;
    this.writeFailure = writeFailure;
  }
}
