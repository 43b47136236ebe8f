/**
 * Where everything lives in the `SharedArrayBuffer` of a set of trace buffers.
 *
 * ```
 * [set header: 128 bytes]
 * [ring 0 block][ring 1 block]...        one block per CPU: control words + slot table
 * [ring 0 slot 0][ring 0 slot 1]...      sub-buffers (packets), subBufferSize bytes each
 * [ring 1 slot 0]...
 * ```
 *
 * A ring block starts with 64 Int32 control words (writer ownership, current packet, flush
 * requests), then 24 Float64 slots at byte 64 (the writer's counters and resume state, then
 * the consuming reader's resume state; each slot has a single writer thread), then at byte
 * 256 the slot table: two Int32 words per sub-buffer, `STATE` (packet sequence number and
 * state, see {@link slotState}) and `COMMIT` (bytes of the packet that are committed).
 *
 * A sub-buffer starts with an 80-byte packet header private to this package (sequence number,
 * timestamps, sizes, counts; see the `P_*` offsets), followed by records from byte 80. On
 * export to CTF the private header is replaced by the CTF packet header and context, which
 * take exactly 80 bytes too, so records keep their offsets (and alignment) in the stream file.
 *
 * All multi-byte values are little-endian. 64-bit values written from numbers are stored as
 * two 32-bit halves (low first), which is the same as a little-endian u64.
 */

/** Magic number at word 0 of the set header ("TRBF"). */
export const SET_MAGIC = 0x46425254;
/** Layout version at word 1 of the set header. */
export const SET_VERSION = 1;
/** Bytes of the set header. */
export const SET_HEADER_BYTES = 128;

// Set-header Int32 word indices.
export const S_MAGIC = 0;
export const S_VERSION = 1;
export const S_CPUS = 2;
export const S_SUB_SIZE = 3;
export const S_SUB_COUNT = 4;
export const S_MODE = 5;
/** Nonzero while a reader sleeps in `TraceReader.wait`. */
export const S_READER_WAITING = 6;
/** Incremented (and notified) by writers when they publish a packet while a reader waits. */
export const S_WAKE = 7;
/** 1 while a consuming reader exists for the set. */
export const S_READER_OWNER = 8;

/** Bytes of a ring block before its slot table. */
export const RING_CONTROL_BYTES = 256;
// Ring-control Int32 word indices (relative to the ring block).
/** 1 while a writer is attached to the ring. */
export const R_WRITER_OWNER = 0;
/** Low 30 bits of the sequence number of the packet the writer opened last; -1 before any. */
export const R_WSEQ = 1;
/** Incremented by readers to ask the writer to flush at its next commit. */
export const R_FLUSH_REQ = 2;
// Ring-control Float64 indices (relative to byte 64 of the ring block).
export const F_NEXT_SEQ = 0;
export const F_WRITTEN = 1;
export const F_LOST_FULL = 2;
export const F_LOST_OVERWRITTEN = 3;
export const F_LOST_TOO_BIG = 4;
export const F_LAST_TS = 5;
export const F_EVENTS_BEFORE = 6;
export const F_PACKETS_OVERWRITTEN = 7;
export const F_CLAMPED = 8;
export const F_PACKETS = 9;
// Consuming-reader state, kept here so that a later reader resumes where the last one stopped.
export const F_READ_SEQ = 10;
export const F_READ_EVENTS = 11;
export const F_READ_DISCARDED = 12;
export const F_READ_TOO_BIG = 13;
/** Byte offset of the Float64 counters in a ring block. */
export const RING_F64_OFFSET = 64;

// Slot states (low 2 bits of a STATE word; the high 30 bits are the packet sequence number).
/** The writer is filling the packet; `COMMIT` says how much of it is readable. */
export const ST_WRITING = 0;
/** The packet is complete and not yet consumed. */
export const ST_CLOSED = 1;
/** A consuming reader has finished with the packet (or, in overwrite mode, claimed it). */
export const ST_CONSUMED = 2;
/** The slot has never held a packet. */
export const ST_EMPTY = 3;
/** Mask of the sequence-number bits kept in a STATE word. */
export const SEQ_MASK = 0x3fffffff;

/** The STATE word for packet `seq` in state `st` (an Int32 value). */
export function slotState(seq: number, st: number): number {
  return ((seq & SEQ_MASK) << 2) | st;
}

/**
 * Signed distance `a - b` between two 30-bit sequence numbers, correct while the true
 * distance is below 2^29 in magnitude.
 */
export function seqDiff(a: number, b: number): number {
  return ((a - b) << 2) >> 2;
}

// Private packet header, byte offsets from the start of a sub-buffer.
export const P_SEQ = 0;
export const P_TS_BEGIN = 8;
export const P_TS_END = 16;
/** Exact end of the last record, in bytes from the packet start. */
export const P_END = 24;
/** Records in the packet, padding records included. */
export const P_RECORDS = 28;
/** Padding records (discarded reservations that nested records followed). */
export const P_PADDING = 32;
export const P_FLAGS = 36;
/** Events committed to this ring before this packet (padding excluded). */
export const P_EVENTS_BEFORE = 40;
/** The ring's lost-full + lost-too-big count when the packet was opened. */
export const P_DISCARDED_OPEN = 48;
/** The same count when the packet was closed. */
export const P_DISCARDED_CLOSE = 56;
/** The ring's lost-too-big count when the packet was opened (included in P_DISCARDED_OPEN). */
export const P_TOO_BIG_OPEN = 64;
/** The same count when the packet was closed. */
export const P_TOO_BIG_CLOSE = 72;
/** Bytes of the packet header; records start here. Equal to the CTF header + context size. */
export const PACKET_HEADER_BYTES = 80;

// Record header, byte offsets from the record start. Records start 8-byte aligned.
export const R_CLASS = 0;
/** Exact record size in bytes, header included (the next record starts 8-aligned after it). */
export const R_SIZE = 4;
export const R_TIMESTAMP = 8;
export const RECORD_HEADER_BYTES = 16;
/** Class id of a padding record: a discarded reservation left in place; readers skip it. */
export const PAD_CLASS = 0xffffffff;

/** Smallest and largest sub-buffer sizes in bytes. */
export const MIN_SUB_BUFFER = 256;
export const MAX_SUB_BUFFER = 67108864;
/** Largest number of sub-buffers per ring. */
export const MAX_SUB_BUFFERS = 65536;
/** Largest total size of a set's `SharedArrayBuffer` in bytes. */
export const MAX_TOTAL_BYTES = 2147483647;

/** Write `v` (an integer 0 ≤ v < 2^53) as a little-endian u64. */
export function setU64(dv: DataView, pos: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  dv.setUint32(pos, v - hi * 4294967296, true);
  dv.setUint32(pos + 4, hi, true);
}

/** Read a little-endian u64 as a number (exact below 2^53). */
export function getU64(dv: DataView, pos: number): number {
  return dv.getUint32(pos + 4, true) * 4294967296 + dv.getUint32(pos, true);
}

/** Offsets of one set's parts in its `SharedArrayBuffer`. */
export class SetLayout {
  /** Number of rings (CPUs). */
  readonly cpus: number;
  /** Sub-buffer (packet) size in bytes, a power of two. */
  readonly subBufferSize: number;
  /** Sub-buffers per ring, a power of two. */
  readonly subBufferCount: number;
  /** Bytes of one ring block. */
  readonly ringBlockBytes: number;
  /** Byte offset of the first sub-buffer of ring 0. */
  readonly dataBase: number;
  /** Total bytes of the `SharedArrayBuffer`. */
  readonly totalBytes: number;

  /** Layout for the given shape (already validated). */
  constructor(cpus: number, subBufferSize: number, subBufferCount: number) {
    this.cpus = cpus;
    this.subBufferSize = subBufferSize;
    this.subBufferCount = subBufferCount;
    // Blocks are 128-byte aligned so that two rings' control words never share a cache line.
    this.ringBlockBytes = Math.ceil((RING_CONTROL_BYTES + subBufferCount * 8) / 128) * 128;
    this.dataBase = SET_HEADER_BYTES + cpus * this.ringBlockBytes;
    this.totalBytes = this.dataBase + cpus * subBufferCount * subBufferSize;
  }

  /** Byte offset of ring `cpu`'s block. */
  ringBase(cpu: number): number {
    return SET_HEADER_BYTES + cpu * this.ringBlockBytes;
  }

  /** Int32 index of ring `cpu`'s STATE word for slot `k` (its COMMIT word follows). */
  slotWord(cpu: number, k: number): number {
    return (this.ringBase(cpu) + RING_CONTROL_BYTES) / 4 + 2 * k;
  }

  /** Byte offset of ring `cpu`'s slot `k`. */
  slotBase(cpu: number, k: number): number {
    return this.dataBase + (cpu * this.subBufferCount + k) * this.subBufferSize;
  }
}
