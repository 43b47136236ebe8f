/**
 * The write path: one writer per ring, reserve → fields → commit (or discard), nestable.
 *
 * Protocol (one producer per ring, nesting up to {@link MAX_NESTING} levels):
 * - `reserve` takes the next bytes of the current packet for a record of known size. If the
 *   record does not fit, the packet is finished and the next sub-buffer is taken (in discard
 *   mode only if the reader has consumed it; otherwise the record is dropped and counted).
 * - A write that starts while another is between `reserve` and `commit` (an interrupt-like
 *   handler) is nested: it reserves after the outer record, commits first, and its bytes
 *   become visible only when the outermost write commits. As in the Linux ftrace ring buffer,
 *   only the outermost commit moves the commit point (and publishes packets finished
 *   meanwhile, which nested writes may have caused).
 * - Publication uses `Atomics.store` on the packet's COMMIT word (once per outermost commit)
 *   and STATE word (once per packet), so a reader in another thread that loads those words
 *   with `Atomics.load` sees every byte written before them. No locks, no waiting.
 * - A discarded record is rolled back when nothing was reserved after it, and otherwise left
 *   in place as a padding record that readers and exporters skip.
 *
 * Nothing on the write path allocates. Conditions a correct program can hit at run time
 * (full, too big) are counted and reported as `false`; misuse throws a TraceBufferError
 * (after discarding the record being written, so the buffer stays consistent).
 */
import { TraceBufferError } from "./errors.ts";
import {
  F_CLAMPED,
  F_EVENTS_BEFORE,
  F_LAST_TS,
  F_LOST_FULL,
  F_LOST_OVERWRITTEN,
  F_LOST_TOO_BIG,
  F_NEXT_SEQ,
  F_PACKETS,
  F_PACKETS_OVERWRITTEN,
  F_WRITTEN,
  getU64,
  P_DISCARDED_CLOSE,
  P_DISCARDED_OPEN,
  P_END,
  P_EVENTS_BEFORE,
  P_FLAGS,
  P_PADDING,
  P_RECORDS,
  P_SEQ,
  P_TOO_BIG_CLOSE,
  P_TOO_BIG_OPEN,
  P_TS_BEGIN,
  P_TS_END,
  PACKET_HEADER_BYTES,
  PAD_CLASS,
  R_FLUSH_REQ,
  R_SIZE,
  R_TIMESTAMP,
  R_WRITER_OWNER,
  R_WSEQ,
  RECORD_HEADER_BYTES,
  RING_F64_OFFSET,
  S_READER_WAITING,
  S_WAKE,
  SEQ_MASK,
  ST_CLOSED,
  ST_CONSUMED,
  ST_EMPTY,
  ST_WRITING,
  setU64,
  slotState,
} from "./layout.ts";
import {
  FIELD_TYPES,
  FIXED_SIZE,
  T_BYTES,
  T_F64,
  T_S8,
  T_S16,
  T_S32,
  T_S64,
  T_STRING,
  T_U8,
  T_U16,
  T_U32,
  T_U64,
  type TraceSchema,
} from "./schema.ts";
import { encodeUtf8, utf8Length } from "./utf8.ts";
import type { SetViews } from "./views.ts";
import {
  badTimestamp,
  badValue,
  badVarBytes,
  commitIncomplete,
  noReservation,
  unknownClass,
  varOverflow,
  wrongField,
} from "./writer-errors.ts";

/** Deepest nesting of writes on one writer (outermost write included). */
export const MAX_NESTING = 16;

/** A value for one field: numbers for numeric fields (or bigint for 64-bit ones), strings, bytes. */
export type FieldValue = number | bigint | string | Uint8Array;

/** Counters of one buffer (ring). All counts are events (records), not bytes. */
export interface BufferStats {
  /** Records committed. */
  readonly recordsWritten: number;
  /** Records dropped because no sub-buffer was free (discard mode, or nesting deeper than the ring). */
  readonly lostFull: number;
  /** Records lost because the packet holding them was overwritten before being read (overwrite mode). */
  readonly lostOverwritten: number;
  /** Records refused because they are bigger than a sub-buffer minus its 80-byte header. */
  readonly lostTooBig: number;
  /** Packets overwritten before being read (overwrite mode). */
  readonly packetsOverwritten: number;
  /** Packets published (closed) so far. */
  readonly packets: number;
  /** Timestamps raised to the previous record's because they went backwards. */
  readonly timestampsRaised: number;
}

// Module-local copies of constants used on the hot path (a local binding is a constant to
// the compiler, whatever module system the code is loaded through).
const HEADER = RECORD_HEADER_BYTES;
const U8 = T_U8;
const U16 = T_U16;
const U32 = T_U32;
const U64 = T_U64;
const S8 = T_S8;
const S16 = T_S16;
const S32 = T_S32;
const S64 = T_S64;
const F64 = T_F64;
const STR = T_STRING;
const BYTES = T_BYTES;
/** Marks the end of a class's field codes in `codes` (and index 0, used outside writes). */
const END = 255;
const STACK = 4;
/** A record size no packet can hold: makes `reserve` take its general path. */
const NO_FAST_PATH = 0x40000000;
const TWO32 = 4294967296;
const U64_MAX = 0xffffffffffffffffn;
const S64_MIN = -0x8000000000000000n;
const S64_MAX = 0x7fffffffffffffffn;

/**
 * Writes records into one ring. Get one from `TraceBuffers.writer(cpu)`; use it from one
 * thread only (the thread that owns the CPU). Timestamps are numbers: integer ticks of the
 * set's clock (modeled cycles or ns), from 0 to 2^53-1, non-decreasing per writer (a smaller
 * one is raised to the previous one and counted in `timestampsRaised`).
 *
 * @example
 * const SAMPLE = schema.id("sample");
 * if (w.reserve(SAMPLE, cycles)) w.u64(a).u64(b).u64(c).commit();
 */
export class TraceWriter {
  /** The CPU (ring index) this writer writes to. */
  readonly cpu: number;
  /** The schema of the set. */
  readonly schema: TraceSchema;

  private readonly mem: Uint8Array;
  private readonly dv: DataView;
  private readonly i32: Int32Array;
  private readonly counters: Float64Array;
  private readonly overwrite: boolean;
  private readonly n: number;
  private readonly mask: number;
  private readonly size: number;
  private readonly slot0: number;
  private readonly slotWord0: number;
  private readonly ctlWord: number;
  private readonly fBase: number;
  private readonly writtenIdx: number;
  private readonly flushIdx: number;
  private readonly maxRecord: number;
  private nClasses: number;
  /** Per class: payload bytes not counting string/byte contents. */
  private readonly classFixed: Int32Array;
  /** Per class: record size of a fixed-size class (header included); NO_FAST_PATH otherwise. */
  private readonly classSize: Int32Array;
  /** Per class: index of its first field code in `codes`. */
  private readonly classFirst: Int32Array;
  /** Field type codes of all classes, each class's followed by END; `codes[0]` is END. */
  private readonly codes: Uint8Array;
  /** Per code index: fixed bytes of the fields after it (for bounds checks of var fields). */
  private readonly fixedAfter: Int32Array;
  /** Per code index: the class it belongs to (its END included). */
  private readonly codeClass: Int32Array;

  // The record being written (top of the nesting stack).
  private depth = 0;
  private pos = 0;
  private end = 0;
  private recStart = 0;
  /**
   * Index in `codes` of the next field to write (the class's END when all are written); it
   * also identifies the class (see `codeClass`).
   */
  private ci = 0;
  private readonly stack: Float64Array = new Float64Array(MAX_NESTING * STACK);

  // The packet being filled (the tail packet).
  private open = false;
  private tailSeq = -1;
  private nextSeq: number;
  private slotStart = 0;
  private commitWord = 0;
  private tail = 0;
  /** End of the open packet's sub-buffer; 0 when no packet is open (fails the fast path). */
  private tailEnd = 0;
  private lastEnd = 0;
  private count = 0;
  private pad = 0;
  // Finished packets not yet published because an outer write is pending: `pending` packets
  // from `pendingFrom`.
  private pendingFrom = 0;
  private pending = 0;

  private eventsBefore: number;
  private ts: number;
  private lostFull: number;
  private lostOver: number;
  private lostBig: number;
  private packetsOver: number;
  private packets: number;
  private clamped: number;
  private flushSeen: number;
  private closed = false;

  /**
   * Use `TraceBuffers.writer(cpu)`.
   * @throws TraceBufferError `OWNERSHIP` when the ring already has a writer.
   */
  constructor(views: SetViews, cpu: number, schema: TraceSchema) {
    const L = views.layout;
    this.cpu = cpu;
    this.schema = schema;
    this.mem = views.u8;
    this.dv = views.dv;
    this.i32 = views.i32;
    this.counters = views.f64;
    this.overwrite = views.mode === "overwrite";
    this.n = L.subBufferCount;
    this.mask = L.subBufferCount - 1;
    this.size = L.subBufferSize;
    this.slot0 = L.slotBase(cpu, 0);
    this.slotWord0 = L.slotWord(cpu, 0);
    this.ctlWord = L.ringBase(cpu) / 4;
    this.fBase = (L.ringBase(cpu) + RING_F64_OFFSET) / 8;
    this.writtenIdx = this.fBase + F_WRITTEN;
    this.flushIdx = this.ctlWord + R_FLUSH_REQ;
    this.maxRecord = L.subBufferSize - PACKET_HEADER_BYTES;

    const classes = schema.classes;
    this.nClasses = classes.length;
    this.classFixed = new Int32Array(classes.length);
    this.classSize = new Int32Array(classes.length);
    this.classFirst = new Int32Array(classes.length);
    let total = 1;
    for (const c of classes) total += c.codes.length + 1;
    this.codes = new Uint8Array(total);
    this.fixedAfter = new Int32Array(total);
    this.codeClass = new Int32Array(total);
    this.codes[0] = END;
    let at = 1;
    for (const c of classes) {
      this.classFixed[c.id] = c.fixedSize;
      this.classSize[c.id] = c.variable ? NO_FAST_PATH : RECORD_HEADER_BYTES + c.fixedSize;
      this.classFirst[c.id] = at;
      this.codes.set(c.codes, at);
      let after = 0;
      for (let i = c.codes.length - 1; i >= 0; i--) {
        this.fixedAfter[at + i] = after;
        after += FIXED_SIZE[c.codes[i]!]!;
      }
      this.codeClass.fill(c.id, at, at + c.codes.length + 1);
      at += c.codes.length;
      this.codes[at++] = END;
    }

    if (Atomics.compareExchange(this.i32, this.ctlWord + R_WRITER_OWNER, 0, 1) !== 0) {
      throw new TraceBufferError(
        "OWNERSHIP",
        `CPU ${cpu} already has a writer; use one writer per CPU (close() the other one first)`,
      );
    }
    const f = this.counters;
    const b = this.fBase;
    this.nextSeq = f[b + F_NEXT_SEQ]!;
    this.eventsBefore = f[b + F_EVENTS_BEFORE]!;
    this.ts = f[b + F_LAST_TS]!;
    this.lostFull = f[b + F_LOST_FULL]!;
    this.lostOver = f[b + F_LOST_OVERWRITTEN]!;
    this.lostBig = f[b + F_LOST_TOO_BIG]!;
    this.packetsOver = f[b + F_PACKETS_OVERWRITTEN]!;
    this.packets = f[b + F_PACKETS]!;
    this.clamped = f[b + F_CLAMPED]!;
    this.flushSeen = Atomics.load(this.i32, this.flushIdx);
  }

  /**
   * Reserve room for one record of class `classId` at `timestamp`, and start writing it.
   * Then write every field in declaration order with the typed setters and call
   * {@link commit} (or {@link discard}). Writes may nest: another reserve/commit pair can run
   * between this reserve and its commit (it lands after this record in the buffer).
   *
   * @param classId - event-class id from `schema.id(name)`.
   * @param timestamp - integer clock ticks (cycles or ns) from 0 to 2^53-1.
   * @param varBytes - for classes with `string`/`bytes` fields: the total number of content
   *   bytes of those fields (UTF-8 bytes without the NUL, see `utf8Length`; byte-array
   *   lengths). 0 for fixed-size classes.
   * @returns true when the record was reserved; false when it was dropped and counted
   *   (`lostFull` or `lostTooBig`) — then write no fields and do not commit.
   * @throws TraceBufferError `UNKNOWN_EVENT_CLASS`, `VAR_SIZE` (bad `varBytes`),
   *   `FIELD_VALUE` (bad timestamp), `NESTING` (too deep), `OWNERSHIP` (writer closed).
   */
  reserve(classId: number, timestamp: number, varBytes?: number): boolean {
    // Fast path, small enough for the compiler to inline: outermost write of a fixed-size
    // record with a valid timestamp into the open packet. An unknown class id reads
    // `undefined` here and a variable-size class NO_FAST_PATH; both take the general path.
    const start = this.tail;
    const size = this.classSize[classId]!;
    if (
      start + size <= this.tailEnd &&
      this.depth === 0 &&
      !varBytes &&
      Number.isSafeInteger(timestamp) &&
      timestamp >= this.ts
    ) {
      const e = start + size;
      this.tail = (e + 7) & ~7;
      this.lastEnd = e;
      this.end = e;
      this.count++;
      this.ts = timestamp;
      const dv = this.dv;
      dv.setUint32(start, classId, true);
      dv.setUint32(start + 4, size, true);
      // SAFETY: 0 <= timestamp < 2^53, so `>>> 0` takes its low word exactly.
      dv.setUint32(start + 8, timestamp >>> 0, true);
      dv.setUint32(start + 12, (timestamp / TWO32) >>> 0, true);
      this.recStart = start;
      this.pos = start + HEADER;
      this.ci = this.classFirst[classId]!;
      this.depth = 1;
      return true;
    }
    return this.reserveSlow(classId, timestamp, varBytes ?? 0);
  }

  // Field setters: a small fast path (inlined by the compiler), and `setSlow` for 64-bit
  // bigints and for every error.

  /** Write the next field, a `u8` (integer 0..255). @throws TraceBufferError on a wrong field type or value. */
  u8(v: number): this {
    const ci = this.ci;
    if (this.codes[ci] === U8 && typeof v === "number" && (v & 0xff) === v) {
      this.dv.setUint8(this.pos, v);
      this.pos += 1;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(U8, v);
  }

  /** Write the next field, a `u16` (integer 0..65535). @throws TraceBufferError on a wrong field type or value. */
  u16(v: number): this {
    const ci = this.ci;
    if (this.codes[ci] === U16 && typeof v === "number" && (v & 0xffff) === v) {
      this.dv.setUint16(this.pos, v, true);
      this.pos += 2;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(U16, v);
  }

  /** Write the next field, a `u32` (integer 0..2^32-1). @throws TraceBufferError on a wrong field type or value. */
  u32(v: number): this {
    const ci = this.ci;
    if (this.codes[ci] === U32 && typeof v === "number" && v >>> 0 === v) {
      this.dv.setUint32(this.pos, v, true);
      this.pos += 4;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(U32, v);
  }

  /**
   * Write the next field, a `u64`: a number (integer 0..2^53-1) or a bigint (0..2^64-1).
   * @throws TraceBufferError on a wrong field type or value.
   */
  u64(v: number | bigint): this {
    const ci = this.ci;
    // SAFETY: Number.isSafeInteger is false for a bigint, so `v` is a number inside.
    if (this.codes[ci] === U64 && Number.isSafeInteger(v) && (v as number) >= 0) {
      const p = this.pos;
      this.dv.setUint32(p, (v as number) >>> 0, true);
      this.dv.setUint32(p + 4, ((v as number) / TWO32) >>> 0, true);
      this.pos = p + 8;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(U64, v);
  }

  /** Write the next field, an `s8` (integer -128..127). @throws TraceBufferError on a wrong field type or value. */
  s8(v: number): this {
    const ci = this.ci;
    if (this.codes[ci] === S8 && typeof v === "number" && (v << 24) >> 24 === v) {
      this.dv.setInt8(this.pos, v);
      this.pos += 1;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(S8, v);
  }

  /** Write the next field, an `s16` (integer -32768..32767). @throws TraceBufferError on a wrong field type or value. */
  s16(v: number): this {
    const ci = this.ci;
    if (this.codes[ci] === S16 && typeof v === "number" && (v << 16) >> 16 === v) {
      this.dv.setInt16(this.pos, v, true);
      this.pos += 2;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(S16, v);
  }

  /** Write the next field, an `s32` (integer -2^31..2^31-1). @throws TraceBufferError on a wrong field type or value. */
  s32(v: number): this {
    const ci = this.ci;
    if (this.codes[ci] === S32 && typeof v === "number" && (v | 0) === v) {
      this.dv.setInt32(this.pos, v, true);
      this.pos += 4;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(S32, v);
  }

  /**
   * Write the next field, an `s64`: a number (integer, |v| ≤ 2^53-1) or a bigint (-2^63..2^63-1).
   * @throws TraceBufferError on a wrong field type or value.
   */
  s64(v: number | bigint): this {
    const ci = this.ci;
    // SAFETY: Number.isSafeInteger is false for a bigint, so `v` is a number inside.
    if (this.codes[ci] === S64 && Number.isSafeInteger(v)) {
      const p = this.pos;
      this.dv.setUint32(p, (v as number) >>> 0, true);
      this.dv.setInt32(p + 4, Math.floor((v as number) / TWO32), true);
      this.pos = p + 8;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(S64, v);
  }

  /** Write the next field, an `f64` (any number). @throws TraceBufferError on a wrong field type or value. */
  f64(v: number): this {
    const ci = this.ci;
    if (this.codes[ci] === F64 && typeof v === "number") {
      this.dv.setFloat64(this.pos, v, true);
      this.pos += 8;
      this.ci = ci + 1;
      return this;
    }
    return this.setSlow(F64, v);
  }

  /**
   * Write the next field, a `string` (UTF-8, no NUL character). Its UTF-8 length must be part
   * of the `varBytes` given to {@link reserve}.
   * @throws TraceBufferError on a wrong field type, a NUL, or more bytes than reserved.
   */
  string(s: string): this {
    const ci = this.ci;
    if (this.codes[ci] !== STR) this.fieldError(STR, s);
    if (typeof s !== "string") this.fieldError(STR, s);
    const n = utf8Length(s);
    if (n < 0) this.fieldError(STR, s);
    const p = this.pos;
    if (p + n + 1 + this.fixedAfter[ci]! > this.end)
      this.fail(varOverflow(this.schema, this.codeClass[ci]!, this.fieldNo(), n));
    const q = encodeUtf8(s, this.mem, p);
    this.mem[q] = 0;
    this.pos = q + 1;
    this.ci = ci + 1;
    return this;
  }

  /**
   * Write the next field, a `bytes` array. Its length must be part of the `varBytes` given to
   * {@link reserve}.
   * @throws TraceBufferError on a wrong field type or more bytes than reserved.
   */
  bytes(b: Uint8Array): this {
    const ci = this.ci;
    if (this.codes[ci] !== BYTES) this.fieldError(BYTES, b);
    if (!(b instanceof Uint8Array)) this.fieldError(BYTES, b);
    const n = b.length;
    const p = this.pos;
    if (p + 4 + n + this.fixedAfter[ci]! > this.end)
      this.fail(varOverflow(this.schema, this.codeClass[ci]!, this.fieldNo(), n));
    this.dv.setUint32(p, n, true);
    const mem = this.mem;
    if (n < 32) {
      for (let i = 0; i < n; i++) mem[p + 4 + i] = b[i]!;
    } else {
      mem.set(b, p + 4);
    }
    this.pos = p + 4 + n;
    this.ci = ci + 1;
    return this;
  }

  /**
   * Finish the record reserved last. Only the outermost commit makes records visible to
   * readers (and publishes packets finished meanwhile).
   * @throws TraceBufferError `NO_RESERVATION`, `FIELD_COUNT` (fields missing) or `VAR_SIZE`
   *   (fewer variable bytes written than reserved); the record is discarded first.
   */
  commit(): void {
    if (this.depth === 1 && this.codes[this.ci] === END && this.pos === this.end && this.pending === 0) {
      // Fast path: the outermost commit in the open packet moves the commit point.
      // `ci` stays on the class's END code, so setters now fail until the next reserve.
      this.depth = 0;
      Atomics.store(this.i32, this.commitWord, this.lastEnd - this.slotStart);
      if (Atomics.load(this.i32, this.flushIdx) !== this.flushSeen) this.flush();
      return;
    }
    this.commitSlow();
  }

  /**
   * Drop the record reserved last instead of committing it. It is not counted as lost: the
   * caller chose not to write it.
   * @throws TraceBufferError `NO_RESERVATION` when no record is reserved.
   */
  discard(): void {
    if (this.depth === 0) throw noReservation("discard()");
    this.discardCurrent();
  }

  /**
   * Write a whole record from an array of values in field order (convenience; validates every
   * value, allocates nothing itself). Equivalent to reserve + setters + commit.
   * @param cls - event-class id or name.
   * @param timestamp - integer clock ticks (cycles or ns).
   * @param values - one value per field, in declaration order.
   * @returns false when the record was dropped and counted (full or too big).
   * @throws TraceBufferError `UNKNOWN_EVENT_CLASS`, `FIELD_COUNT`, `FIELD_TYPE`, `FIELD_VALUE`.
   */
  emit(cls: number | string, timestamp: number, values: ArrayLike<FieldValue> = []): boolean {
    const id = typeof cls === "string" ? this.schema.id(cls) : cls;
    if (!(id < this.nClasses && id >>> 0 === id)) this.badClass(id);
    const c = this.schema.classes[id]!;
    const nf = c.fields.length;
    if (values.length !== nf) {
      throw new TraceBufferError(
        "FIELD_COUNT",
        `event class "${c.name}" has ${nf} fields (${c.fields.map((f) => f.name).join(", ") || "none"}), but ${values.length} values were given`,
      );
    }
    const first = this.classFirst[id]!;
    let varBytes = 0;
    if (c.variable) {
      for (let i = 0; i < nf; i++) {
        const code = this.codes[first + i]!;
        const v = values[i];
        if (code === STR && typeof v === "string") varBytes += Math.max(0, utf8Length(v));
        else if (code === BYTES && v instanceof Uint8Array) varBytes += v.length;
      }
    }
    if (!this.reserve(id, timestamp, varBytes)) return false;
    for (let i = 0; i < nf; i++) {
      const v = values[i]!;
      switch (this.codes[first + i]) {
        case U8:
          this.u8(v as number);
          break;
        case U16:
          this.u16(v as number);
          break;
        case U32:
          this.u32(v as number);
          break;
        case U64:
          this.u64(v as number | bigint);
          break;
        case S8:
          this.s8(v as number);
          break;
        case S16:
          this.s16(v as number);
          break;
        case S32:
          this.s32(v as number);
          break;
        case S64:
          this.s64(v as number | bigint);
          break;
        case F64:
          this.f64(v as number);
          break;
        case STR:
          this.string(v as string);
          break;
        default:
          this.bytes(v as Uint8Array);
      }
    }
    this.commit();
    return true;
  }

  /**
   * Close the current packet now if it holds any record, so a consuming reader can take it
   * (a partly filled packet). Call from the writer's thread, outside any write. Readers ask
   * for the same with `TraceReader.requestFlush()`, honored at this writer's next commit.
   * @param timestamp - optional clock ticks to record as the packet's end time (at least the
   *   last record's timestamp).
   * @returns true when a packet was closed.
   * @throws TraceBufferError `NESTING` when called between reserve and commit.
   */
  flush(timestamp?: number): boolean {
    if (this.depth !== 0) {
      throw new TraceBufferError(
        "NESTING",
        "flush() called between reserve() and commit(); finish the write first",
      );
    }
    this.flushSeen = Atomics.load(this.i32, this.flushIdx);
    this.counters[this.writtenIdx] = this.recordsWritten();
    if (timestamp !== undefined && Number.isSafeInteger(timestamp) && timestamp > this.ts)
      this.ts = timestamp;
    if (!this.open || this.count === 0) return false;
    this.finishTail();
    return true;
  }

  /**
   * Flush and detach: the ring can get a new writer (in any thread), which continues its
   * packet sequence, counters and clock. Further writes through this object throw.
   * @throws TraceBufferError `NESTING` when called between reserve and commit.
   */
  close(timestamp?: number): void {
    if (this.closed) return;
    this.flush(timestamp);
    this.counters[this.fBase + F_LAST_TS] = this.ts;
    this.closed = true;
    this.nClasses = 0;
    this.classSize.fill(NO_FAST_PATH);
    Atomics.store(this.i32, this.ctlWord + R_WRITER_OWNER, 0);
  }

  /** This buffer's counters, exact as seen from the writer's thread. */
  stats(): BufferStats {
    return {
      recordsWritten: this.recordsWritten(),
      lostFull: this.lostFull,
      lostOverwritten: this.lostOver,
      lostTooBig: this.lostBig,
      packetsOverwritten: this.packetsOver,
      packets: this.packets,
      timestampsRaised: this.clamped,
    };
  }

  /** Nesting depth: 0 outside any write, 1 inside an outermost write, and so on. */
  get nesting(): number {
    return this.depth;
  }

  // ---- records ----

  /**
   * Records committed so far. Outside a write every record in a packet is committed (or a
   * padding record), so this is the events of the finished packets plus the open one's.
   */
  private recordsWritten(): number {
    return this.eventsBefore + (this.open ? this.count - this.pad : 0);
  }

  /** The general reserve: nesting, variable sizes, packet switches, drops, errors. */
  private reserveSlow(classId: number, timestamp: number, varBytes: number): boolean {
    if (!(classId < this.nClasses && classId >>> 0 === classId)) this.badClass(classId);
    if (varBytes !== 0) {
      const variable = this.schema.classes[classId]!.variable;
      if (!variable || !Number.isSafeInteger(varBytes) || varBytes < 0) {
        throw badVarBytes(this.schema, classId, varBytes, variable);
      }
    }
    const size = HEADER + this.classFixed[classId]! + varBytes;
    if (!(Number.isSafeInteger(timestamp) && timestamp >= this.ts)) timestamp = this.fixTimestamp(timestamp);
    if (size > this.maxRecord) {
      this.counters[this.fBase + F_LOST_TOO_BIG] = ++this.lostBig;
      this.droppedAt(timestamp);
      return false;
    }
    if (this.depth === MAX_NESTING) {
      throw new TraceBufferError(
        "NESTING",
        `more than ${MAX_NESTING} nested writes on CPU ${this.cpu}; is a commit() missing?`,
      );
    }
    if (!this.open || this.tail + size > this.tailEnd) {
      if (!this.switchPacket()) {
        this.counters[this.fBase + F_LOST_FULL] = ++this.lostFull;
        this.droppedAt(timestamp);
        return false;
      }
    }
    const start = this.tail;
    if (this.depth > 0) this.push();
    this.tail = start + ((size + 7) & ~7);
    this.lastEnd = start + size;
    const dv = this.dv;
    this.count++;
    this.ts = timestamp;
    dv.setUint32(start, classId, true);
    dv.setUint32(start + 4, size, true);
    setU64(dv, start + 8, timestamp);
    this.recStart = start;
    this.pos = start + HEADER;
    this.end = start + size;
    this.ci = this.classFirst[classId]!;
    this.depth++;
    return true;
  }

  /** The general commit: nested writes, pending packets, errors. */
  private commitSlow(): void {
    if (this.depth === 0) throw noReservation("commit()");
    if (this.codes[this.ci] !== END || this.pos !== this.end) {
      this.fail(commitIncomplete(this.schema, this.codeClass[this.ci]!, this.fieldNo(), this.end - this.pos));
    }
    this.endRecord();
  }

  /** Index of the next field to write in its class (for messages). */
  private fieldNo(): number {
    return this.ci - this.classFirst[this.codeClass[this.ci]!]!;
  }

  /** Throw the error for setter `code` called with `v` (wrong field, or bad value). */
  private fieldError(code: number, v: unknown): never {
    if (this.depth === 0) throw noReservation(`${FIELD_TYPES[code]}()`);
    const cls = this.codeClass[this.ci]!;
    if (this.codes[this.ci] !== code) this.fail(wrongField(this.schema, cls, this.fieldNo(), code));
    this.fail(badValue(this.schema, cls, this.fieldNo(), code, v));
  }

  /** The slow path of the numeric setters: 64-bit bigints, and errors. */
  private setSlow(code: number, v: unknown): this {
    const ci = this.ci;
    if (this.codes[ci] !== code) this.fieldError(code, v);
    const p = this.pos;
    if (code === U64 && typeof v === "bigint" && v >= 0n && v <= U64_MAX) {
      this.dv.setBigUint64(p, v, true);
    } else if (code === S64 && typeof v === "bigint" && v >= S64_MIN && v <= S64_MAX) {
      this.dv.setBigInt64(p, v, true);
    } else {
      this.fieldError(code, v);
    }
    this.pos = p + 8;
    this.ci = ci + 1;
    return this;
  }

  private push(): void {
    const s = this.stack;
    const b = (this.depth - 1) * STACK;
    s[b] = this.recStart;
    s[b + 1] = this.pos;
    s[b + 2] = this.end;
    s[b + 3] = this.ci;
  }

  private pop(level: number): void {
    const s = this.stack;
    const b = level * STACK;
    this.recStart = s[b]!;
    this.pos = s[b + 1]!;
    this.end = s[b + 2]!;
    this.ci = s[b + 3]!;
  }

  /** End the current record (committed or discarded); the outermost end publishes. */
  private endRecord(): void {
    const d = --this.depth;
    if (d > 0) {
      this.pop(d - 1);
      return;
    }
    this.ci = 0;
    if (this.pending !== 0) this.publishPending();
    if (this.open) Atomics.store(this.i32, this.commitWord, this.lastEnd - this.slotStart);
    if (Atomics.load(this.i32, this.flushIdx) !== this.flushSeen) this.flush();
  }

  private discardCurrent(): void {
    const start = this.recStart;
    const paddedEnd = start + ((this.end - start + 7) & ~7);
    // The packet holding the record: the open tail packet, or a finished one still pending.
    const inTail = this.open && start >= this.slotStart && start < this.tailEnd;
    if (inTail && paddedEnd === this.tail) {
      // Nothing was reserved after it: roll back.
      this.tail = start;
      this.lastEnd = this.recordEndBefore(start);
      this.count--;
    } else {
      // Nested records follow it: leave it as padding.
      this.dv.setUint32(start, PAD_CLASS, true);
      if (inTail) {
        this.pad++;
      } else {
        const k = Math.floor((start - this.slot0) / this.size);
        this.padFinished(this.tailSeq - ((this.tailSeq - k) & this.mask));
      }
    }
    this.endRecord();
  }

  /** Exact end of the last record of the tail packet that starts before `start`. */
  private recordEndBefore(start: number): number {
    let p = this.slotStart + PACKET_HEADER_BYTES;
    let last = p;
    while (p < start) {
      const size = this.dv.getUint32(p + R_SIZE, true);
      last = p + size;
      p += (size + 7) & ~7;
    }
    return last;
  }

  /** A record of finished (unpublished) packet `seq` became padding: fix the counts. */
  private padFinished(seq: number): void {
    const dv = this.dv;
    const base = this.slot0 + (seq & this.mask) * this.size;
    dv.setUint32(base + P_PADDING, dv.getUint32(base + P_PADDING, true) + 1, true);
    this.eventsBefore--;
    this.counters[this.fBase + F_EVENTS_BEFORE] = this.eventsBefore;
    // SAFETY: packets after `seq` up to the tail are unpublished or the open tail packet; a
    // snapshot reading the open packet's header right now may see the old count.
    for (let s = seq + 1; s <= this.tailSeq; s++) {
      const b = this.slot0 + (s & this.mask) * this.size;
      setU64(dv, b + P_EVENTS_BEFORE, getU64(dv, b + P_EVENTS_BEFORE) - 1);
    }
  }

  // ---- packets ----

  /** Finish the tail packet; publish it now at depth 0, else when the outermost write ends. */
  private finishTail(): void {
    const s = this.slotStart;
    const dv = this.dv;
    const endRel = this.lastEnd - s;
    dv.setUint32(s + P_END, endRel, true);
    dv.setUint32(s + P_RECORDS, this.count, true);
    dv.setUint32(s + P_PADDING, this.pad, true);
    // The begin time is the first record's; the end time is the latest timestamp seen,
    // dropped records included, so that a drop while this packet was filled lies within
    // [begin, end].
    setU64(
      dv,
      s + P_TS_BEGIN,
      this.count === 0 ? this.ts : getU64(dv, s + PACKET_HEADER_BYTES + R_TIMESTAMP),
    );
    setU64(dv, s + P_TS_END, this.ts);
    setU64(dv, s + P_DISCARDED_CLOSE, this.lostFull + this.lostBig);
    setU64(dv, s + P_TOO_BIG_CLOSE, this.lostBig);
    this.eventsBefore += this.count - this.pad;
    const f = this.counters;
    f[this.fBase + F_EVENTS_BEFORE] = this.eventsBefore;
    f[this.fBase + F_LAST_TS] = this.ts;
    f[this.writtenIdx] = this.eventsBefore;
    this.open = false;
    this.tailEnd = 0;
    if (this.depth === 0) {
      this.publish(this.tailSeq, endRel);
    } else {
      if (this.pending === 0) this.pendingFrom = this.tailSeq;
      this.pending++;
    }
  }

  /** Make packet `seq` (finished, header written) visible to readers as closed. */
  private publish(seq: number, endRel: number): void {
    const w = this.slotWord0 + 2 * (seq & this.mask);
    Atomics.store(this.i32, w + 1, endRel);
    Atomics.store(this.i32, w, slotState(seq, ST_CLOSED));
    this.counters[this.fBase + F_PACKETS] = ++this.packets;
    if (Atomics.load(this.i32, S_READER_WAITING) !== 0) {
      Atomics.add(this.i32, S_WAKE, 1);
      Atomics.notify(this.i32, S_WAKE);
    }
  }

  private publishPending(): void {
    const to = this.pendingFrom + this.pending;
    for (let s = this.pendingFrom; s < to; s++) {
      this.publish(s, this.dv.getUint32(this.slot0 + (s & this.mask) * this.size + P_END, true));
    }
    this.pending = 0;
  }

  /** Finish the tail packet (if open) and open the next one; false when none is free. */
  private switchPacket(): boolean {
    if (this.open) this.finishTail();
    const seq = this.nextSeq;
    // SAFETY: a packet holding a pending (uncommitted) record must not be reused.
    if (this.pending !== 0 && seq - this.pendingFrom >= this.n) return false;
    const k = seq & this.mask;
    const w = this.slotWord0 + 2 * k;
    const base = this.slot0 + k * this.size;
    const dv = this.dv;
    // The slot goes to EMPTY (with the new sequence number) while its header is rewritten, so
    // that snapshots and readers copying the old packet see that it changed.
    if (this.overwrite) {
      const old = Atomics.exchange(this.i32, w, slotState(seq, ST_EMPTY));
      if ((old & 3) === ST_CLOSED) {
        this.lostOver += dv.getUint32(base + P_RECORDS, true) - dv.getUint32(base + P_PADDING, true);
        this.packetsOver++;
        this.counters[this.fBase + F_LOST_OVERWRITTEN] = this.lostOver;
        this.counters[this.fBase + F_PACKETS_OVERWRITTEN] = this.packetsOver;
      }
    } else {
      const st = Atomics.load(this.i32, w) & 3;
      if (st !== ST_CONSUMED && st !== ST_EMPTY) return false;
      Atomics.store(this.i32, w, slotState(seq, ST_EMPTY));
    }
    const disc = this.lostFull + this.lostBig;
    setU64(dv, base + P_SEQ, seq);
    setU64(dv, base + P_TS_BEGIN, this.ts);
    setU64(dv, base + P_TS_END, this.ts);
    dv.setUint32(base + P_END, PACKET_HEADER_BYTES, true);
    dv.setUint32(base + P_RECORDS, 0, true);
    dv.setUint32(base + P_PADDING, 0, true);
    dv.setUint32(base + P_FLAGS, 0, true);
    setU64(dv, base + P_EVENTS_BEFORE, this.eventsBefore);
    setU64(dv, base + P_DISCARDED_OPEN, disc);
    setU64(dv, base + P_DISCARDED_CLOSE, disc);
    setU64(dv, base + P_TOO_BIG_OPEN, this.lostBig);
    setU64(dv, base + P_TOO_BIG_CLOSE, this.lostBig);
    Atomics.store(this.i32, w + 1, PACKET_HEADER_BYTES);
    Atomics.store(this.i32, w, slotState(seq, ST_WRITING));
    Atomics.store(this.i32, this.ctlWord + R_WSEQ, seq & SEQ_MASK);
    this.commitWord = w + 1;
    this.tailSeq = seq;
    this.nextSeq = seq + 1;
    this.counters[this.fBase + F_NEXT_SEQ] = this.nextSeq;
    this.open = true;
    this.slotStart = base;
    this.tail = base + PACKET_HEADER_BYTES;
    this.tailEnd = base + this.size;
    this.lastEnd = this.tail;
    this.count = 0;
    this.pad = 0;
    return true;
  }

  // ---- cold ----

  /** A record at `timestamp` was dropped: later records and packet ends are not earlier. */
  private droppedAt(timestamp: number): void {
    this.ts = timestamp;
    this.counters[this.fBase + F_LAST_TS] = timestamp;
  }

  /** Discard the record being written (if any), then throw `err`. */
  private fail(err: TraceBufferError): never {
    if (this.depth > 0) this.discardCurrent();
    throw err;
  }

  private fixTimestamp(t: unknown): number {
    let v: number;
    if (typeof t === "bigint" && t >= 0n && t <= BigInt(Number.MAX_SAFE_INTEGER)) v = Number(t);
    else if (typeof t === "number" && Number.isSafeInteger(t) && t >= 0) v = t;
    else throw badTimestamp(t);
    if (v < this.ts) {
      this.counters[this.fBase + F_CLAMPED] = ++this.clamped;
      v = this.ts;
    }
    return v;
  }

  private badClass(id: unknown): never {
    if (this.closed) {
      throw new TraceBufferError(
        "OWNERSHIP",
        `the writer of CPU ${this.cpu} is closed; get a new one from TraceBuffers.writer()`,
      );
    }
    throw unknownClass(this.schema, id);
  }
}
