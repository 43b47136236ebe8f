/**
 * Output files of the exporters, written through a replaceable write function so that a
 * failing write (a full disk, an I/O error; or one injected by a test) leaves a readable file:
 * the exporter cuts the file back to its last complete packet or entry and reports the counts.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";

/**
 * Writes `length` bytes of `bytes` from `offset` to the open file `fd` at file position
 * `position`; returns how many it wrote (it may write fewer, as `fs.writeSync` may) and throws
 * on failure (e.g. `ENOSPC`). The exporters' default is `fs.writeSync`.
 */
export type WriteFunction = (
  fd: number,
  bytes: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => number;

/** `fs.writeSync`. */
export const defaultWrite: WriteFunction = (fd, bytes, offset, length, position) =>
  writeSync(fd, bytes, offset, length, position);

/** A write through {@link OutputFile.put} failed; `onDisk` bytes of the file are written. */
export class OutputFailed {
  constructor(
    readonly cause: unknown,
    readonly onDisk: number,
  ) {}
}

/** A file written with a {@link WriteFunction}; short writes are continued, failures thrown as {@link OutputFailed}. */
export class OutputFile {
  readonly path: string;
  /** Bytes written to the file so far. */
  onDisk = 0;
  private readonly fd: number;
  private readonly write: WriteFunction;

  constructor(path: string, write: WriteFunction) {
    this.path = path;
    this.write = write;
    this.fd = openSync(path, "w");
  }

  /** Write all of `bytes[offset, offset + length)`. @throws OutputFailed */
  put(bytes: Uint8Array, offset = 0, length: number = bytes.length - offset): void {
    while (length > 0) {
      let n: number;
      try {
        n = this.write(this.fd, bytes, offset, length, this.onDisk);
      } catch (e) {
        throw new OutputFailed(e, this.onDisk);
      }
      // A write function that makes no progress would loop forever: treat it as a failure.
      if (!(n > 0)) throw new OutputFailed(new Error(`write returned ${n}`), this.onDisk);
      n = Math.min(n, length);
      offset += n;
      length -= n;
      this.onDisk += n;
    }
  }

  /** Cut the file back to `size` bytes (shrinking needs no space on a full disk). */
  truncate(size: number): void {
    ftruncateSync(this.fd, size);
    this.onDisk = size;
  }

  close(): void {
    closeSync(this.fd);
  }
}
