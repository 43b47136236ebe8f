/**
 * Notes (gABI "Note Section"): a sequence of entries, each a 12-byte header
 * (namesz u32, descsz u32, type u32) followed by the owner name (namesz bytes, including
 * its NUL) and the description (descsz bytes), each padded to the note alignment.
 *
 * The alignment is 4 bytes, except in sections or segments aligned to 8, where GNU tools
 * (e.g. `.note.gnu.property` on x86-64) pad name and description to 8.
 */
import { ElfError, hex } from "./errors.ts";
import { Reader } from "./reader.ts";
import { decodeString } from "./strtab.ts";
import type { ElfNote } from "./types.ts";

/** Options for {@link parseNotes}. */
export interface ParseNotesOptions {
  /** Padding of names and descriptions, in bytes: 4 (default) or 8. */
  readonly align?: 4 | 8;
  /** Byte order of the 32-bit header words; default "little". */
  readonly endian?: "little" | "big";
  /** Added to each note's `offset` (e.g. the file offset of the area); default 0. */
  readonly baseOffset?: number;
  /** Names the area in error messages, e.g. "section 7 (.note.gnu.build-id)"; default "note area". */
  readonly where?: string;
  /** Recorded as each note's `section`. */
  readonly section?: string;
  /** Recorded as each note's `segmentIndex`. */
  readonly segmentIndex?: number;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/**
 * Parses every note in `data` (the contents of a SHT_NOTE section, a PT_NOTE segment, or any
 * buffer in note format). The returned `desc` arrays are views into `data`.
 *
 * @throws {@link ElfError} `BAD_NOTE` when a header, name or description runs past the end of
 *   `data`; the message names the area and the note's offset.
 */
export function parseNotes(data: Uint8Array, options: ParseNotesOptions = {}): ElfNote[] {
  const align = options.align ?? 4;
  const base = options.baseOffset ?? 0;
  const where = options.where ?? "note area";
  const r = new Reader(data, (options.endian ?? "little") === "little");
  const len = data.length;
  const notes: ElfNote[] = [];
  let off = 0;
  while (off < len) {
    if (len - off < 12) {
      throw new ElfError(
        "BAD_NOTE",
        `${where}: note at offset ${hex(base + off)}: header needs 12 bytes, only ${len - off} left`,
      );
    }
    const namesz = r.u32(off);
    const descsz = r.u32(off + 4);
    const type = r.u32(off + 8);
    const nameStart = off + 12;
    if (namesz > len - nameStart) {
      throw new ElfError(
        "BAD_NOTE",
        `${where}: note at offset ${hex(base + off)}: name size ${hex(namesz)} runs past the end of the area (size ${hex(len)})`,
      );
    }
    const descStart = alignUp(nameStart + namesz, align);
    if (descStart > len || descsz > len - descStart) {
      throw new ElfError(
        "BAD_NOTE",
        `${where}: note at offset ${hex(base + off)}: description size ${hex(descsz)} runs past the end of the area (size ${hex(len)})`,
      );
    }
    const nul = data.subarray(nameStart, nameStart + namesz).indexOf(0);
    const nameEnd = nul < 0 ? nameStart + namesz : nameStart + nul;
    const note: ElfNote = {
      name: decodeString(data, nameStart, nameEnd),
      type,
      desc: data.subarray(descStart, descStart + descsz),
      offset: base + off,
      ...(options.section === undefined ? {} : { section: options.section }),
      ...(options.segmentIndex === undefined ? {} : { segmentIndex: options.segmentIndex }),
    };
    notes.push(note);
    // SAFETY: every step advances by at least the 12-byte header, so the loop ends.
    off = alignUp(descStart + descsz, align);
  }
  return notes;
}
