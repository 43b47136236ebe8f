/**
 * Reading records out of packets without allocating: an {@link EventCursor} walks the records
 * of a packet and decodes fields on demand.
 */

import { TraceBufferError } from "./errors.ts";
import {
  getU64,
  PACKET_HEADER_BYTES,
  PAD_CLASS,
  R_SIZE,
  R_TIMESTAMP,
  RECORD_HEADER_BYTES,
} from "./layout.ts";
import type { Packet } from "./packet.ts";
import {
  type EventClass,
  MAX_FIELDS,
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
import { decodeUtf8 } from "./utf8.ts";
import type { FieldValue } from "./writer.ts";

const TWO32 = 4294967296;

/**
 * Walks the events of one packet at a time. Reuse one cursor for many packets.
 *
 * @example
 * const cur = new EventCursor(schema);
 * cur.reset(packet);
 * while (cur.next()) console.log(cur.eventClass.name, cur.timestamp, cur.value(0));
 * @throws TraceBufferError `BAD_TRACE` (from `next`) when a record is malformed.
 */
export class EventCursor {
  /** The schema records are decoded with. */
  readonly schema: TraceSchema;
  private bytes: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private p = 0;
  private stop = 0;
  private rec = -1;
  private size = 0;
  private cls: EventClass | undefined;
  private readonly offsets = new Int32Array(MAX_FIELDS + 1);
  private offsetsFor = -1;

  /** A cursor for packets of `schema`. */
  constructor(schema: TraceSchema) {
    this.schema = schema;
  }

  /** Start walking `packet` (or raw packet bytes with the private header at offset 0). */
  reset(packet: Packet | Uint8Array): void {
    const bytes = packet instanceof Uint8Array ? packet : packet.bytes;
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.p = PACKET_HEADER_BYTES;
    this.stop = bytes.byteLength;
    this.rec = -1;
    this.cls = undefined;
  }

  /**
   * Move to the next event (padding records are skipped).
   * @returns false at the end of the packet.
   * @throws TraceBufferError `BAD_TRACE` on a malformed record or an unknown class id.
   */
  next(): boolean {
    const dv = this.dv;
    while (this.p < this.stop) {
      const p = this.p;
      if (p + RECORD_HEADER_BYTES > this.stop) this.bad(p, "truncated record header");
      const size = dv.getUint32(p + R_SIZE, true);
      if (size < RECORD_HEADER_BYTES || p + size > this.stop) this.bad(p, `bad record size ${size}`);
      this.p = p + ((size + 7) & ~7);
      const id = dv.getUint32(p, true);
      if (id === PAD_CLASS) continue;
      const cls = this.schema.classes[id];
      if (cls === undefined) this.bad(p, `unknown event class id ${id}`);
      if (
        cls.variable
          ? size < RECORD_HEADER_BYTES + cls.fixedSize
          : size !== RECORD_HEADER_BYTES + cls.fixedSize
      ) {
        this.bad(p, `record size ${size} does not fit event class "${cls.name}"`);
      }
      this.rec = p;
      this.size = size;
      this.cls = cls;
      this.offsetsFor = -1;
      return true;
    }
    this.rec = -1;
    this.cls = undefined;
    return false;
  }

  /** The current event's class. Valid after `next()` returned true. */
  get eventClass(): EventClass {
    return this.cls!;
  }

  /** The current event's class id. */
  get classId(): number {
    return this.cls!.id;
  }

  /** The current event's timestamp in clock ticks (cycles or ns). */
  get timestamp(): number {
    return getU64(this.dv, this.rec + R_TIMESTAMP);
  }

  /** Byte offset of the current record in the packet. */
  get offset(): number {
    return this.rec;
  }

  /** Size in bytes of the current record, header included. */
  get recordSize(): number {
    return this.size;
  }

  /**
   * Byte offset in the packet of field `i` of the current event.
   * @throws TraceBufferError `BAD_TRACE` when a variable-size field runs past the record.
   */
  fieldOffset(i: number): number {
    const cls = this.cls!;
    const st = cls.staticOffsets[i]!;
    if (st >= 0) return this.rec + RECORD_HEADER_BYTES + st;
    if (this.offsetsFor !== this.rec) this.computeOffsets(cls);
    return this.offsets[i]!;
  }

  /**
   * Field `i` of the current event as a number (integers and f64). 64-bit integers beyond
   * ±2^53 lose precision here; use {@link value} for those.
   */
  number(i: number): number {
    const p = this.fieldOffset(i);
    const dv = this.dv;
    switch (this.cls!.codes[i]) {
      case T_U8:
        return dv.getUint8(p);
      case T_U16:
        return dv.getUint16(p, true);
      case T_U32:
        return dv.getUint32(p, true);
      case T_U64:
        return dv.getUint32(p + 4, true) * TWO32 + dv.getUint32(p, true);
      case T_S8:
        return dv.getInt8(p);
      case T_S16:
        return dv.getInt16(p, true);
      case T_S32:
        return dv.getInt32(p, true);
      case T_S64:
        return dv.getInt32(p + 4, true) * TWO32 + dv.getUint32(p, true);
      case T_F64:
        return dv.getFloat64(p, true);
      default:
        throw new TraceBufferError("FIELD_TYPE", `field ${i} of "${this.cls!.name}" is not numeric`);
    }
  }

  /**
   * Field `i` of the current event: a number for numeric fields (a bigint for 64-bit values
   * beyond ±2^53), a string, or a `Uint8Array` view of the packet bytes for byte arrays.
   */
  value(i: number): FieldValue {
    const code = this.cls!.codes[i];
    const p = this.fieldOffset(i);
    const dv = this.dv;
    if (code === T_U64) {
      const hi = dv.getUint32(p + 4, true);
      return hi < 0x200000 ? hi * TWO32 + dv.getUint32(p, true) : dv.getBigUint64(p, true);
    }
    if (code === T_S64) {
      const hi = dv.getInt32(p + 4, true);
      return hi >= -0x200000 && hi < 0x200000 ? hi * TWO32 + dv.getUint32(p, true) : dv.getBigInt64(p, true);
    }
    if (code === T_STRING) return decodeUtf8(this.bytes, p, this.offsetAfterString(p));
    if (code === T_BYTES) {
      const n = dv.getUint32(p, true);
      return this.bytes.subarray(p + 4, p + 4 + n);
    }
    return this.number(i);
  }

  /** All fields of the current event, in declaration order (allocates). */
  values(): FieldValue[] {
    const n = this.cls!.fields.length;
    const out: FieldValue[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.value(i);
    return out;
  }

  private offsetAfterString(p: number): number {
    const end = this.rec + this.size;
    const b = this.bytes;
    let q = p;
    while (q < end && b[q] !== 0) q++;
    if (q >= end) this.bad(this.rec, "string field without NUL");
    return q;
  }

  private computeOffsets(cls: EventClass): void {
    const dv = this.dv;
    const end = this.rec + this.size;
    let p = this.rec + RECORD_HEADER_BYTES;
    const codes = cls.codes;
    for (let i = 0; i < codes.length; i++) {
      this.offsets[i] = p;
      const code = codes[i]!;
      if (code === T_STRING) p = this.offsetAfterString(p) + 1;
      else if (code === T_BYTES) p += 4 + dv.getUint32(p, true);
      else
        p +=
          code === T_U8 || code === T_S8
            ? 1
            : code === T_U16 || code === T_S16
              ? 2
              : code === T_U32 || code === T_S32
                ? 4
                : 8;
      if (p > end) this.bad(this.rec, `field ${i} runs past the record`);
    }
    if (p !== end) this.bad(this.rec, `fields end at ${p - this.rec}, record size is ${this.size}`);
    this.offsets[codes.length] = p;
    this.offsetsFor = this.rec;
  }

  private bad(p: number, what: string): never {
    throw new TraceBufferError("BAD_TRACE", `malformed record at byte ${p} of a packet: ${what}`);
  }
}
