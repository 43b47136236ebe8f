/**
 * Typed errors for malformed or unsupported ELF input.
 *
 * Every problem found in the bytes of a file is reported as an {@link ElfError} whose `code`
 * says what kind of structure is wrong and whose message says which one and where (indices,
 * names and file offsets in hex), so that a user can act on it.
 */

/**
 * What kind of problem an {@link ElfError} reports.
 *
 * - `NOT_ELF`: the file does not start with the ELF magic `7f 45 4c 46`.
 * - `TRUNCATED`: the file ends inside the ELF header.
 * - `BAD_CLASS`: `e_ident[EI_CLASS]` is neither ELFCLASS32 (1) nor ELFCLASS64 (2).
 * - `BAD_ENDIAN`: `e_ident[EI_DATA]` is neither ELFDATA2LSB (1) nor ELFDATA2MSB (2).
 * - `BAD_HEADER`: another ELF header field is unusable (e.g. a table entry size too small).
 * - `BAD_SECTION`: the section header table or a section's extent, link or size is wrong.
 * - `BAD_SEGMENT`: the program header table or a segment's extent is wrong.
 * - `BAD_SYMBOL`: a symbol table, a symbol in it, or its version tables are wrong.
 * - `BAD_STRING`: a string index is past the end of its string table, or a string has no
 *   terminating NUL.
 * - `BAD_NOTE`: a note's header, name or description runs past the end of its area, or a
 *   note's description does not have the layout its owner defines (e.g. `stapsdt`).
 * - `BAD_DYNAMIC`: the dynamic section is malformed.
 * - `BAD_ARGUMENT`: the caller passed something that does not belong to this file (e.g. a
 *   section object from another file).
 * - `UNSUPPORTED`: valid ELF that this reader does not handle.
 */
export type ElfErrorCode =
  | "NOT_ELF"
  | "TRUNCATED"
  | "BAD_CLASS"
  | "BAD_ENDIAN"
  | "BAD_HEADER"
  | "BAD_SECTION"
  | "BAD_SEGMENT"
  | "BAD_SYMBOL"
  | "BAD_STRING"
  | "BAD_NOTE"
  | "BAD_DYNAMIC"
  | "BAD_ARGUMENT"
  | "UNSUPPORTED";

/**
 * The only exception type thrown by this package for bad input. `code` classifies the
 * problem; `message` names the structure (index, name) and the file offsets involved.
 */
export class ElfError extends Error {
  /** What kind of problem this is; stable, meant for programs. */
  readonly code: ElfErrorCode;

  /**
   * @param code - the kind of problem.
   * @param message - what is wrong and where, for people.
   */
  constructor(code: ElfErrorCode, message: string) {
    super(message);
    this.name = "ElfError";
    this.code = code;
  }
}

/** `0x` followed by lower-case hex digits: the form every offset and size takes in messages. */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
