/**
 * Packets as readers see them: one sub-buffer's worth of records with its header, plus how
 * many events were lost just before it and inside it (so that losses show up where they
 * happened).
 */
import { TraceBufferError } from "./errors.ts";
import {
  getU64,
  P_DISCARDED_CLOSE,
  P_DISCARDED_OPEN,
  P_END,
  P_EVENTS_BEFORE,
  P_PADDING,
  P_RECORDS,
  P_SEQ,
  P_TOO_BIG_CLOSE,
  P_TOO_BIG_OPEN,
  P_TS_BEGIN,
  P_TS_END,
  PACKET_HEADER_BYTES,
  PAD_CLASS,
  R_SIZE,
  R_TIMESTAMP,
  RECORD_HEADER_BYTES,
} from "./layout.ts";

/** Events lost around one packet, by reason. All counts are events. */
export interface PacketLosses {
  /** Events in packets overwritten between the previous packet read from this CPU and this one. */
  readonly overwrittenBefore: number;
  /** Packets overwritten (or otherwise missing) between the previous packet and this one. */
  readonly packetsBefore: number;
  /** Events dropped because the buffer was full, between the previous packet and this one. */
  readonly fullBefore: number;
  /** Events refused as too big between the previous packet and this one. */
  readonly tooBigBefore: number;
  /** Events dropped (full) while this packet was being filled. */
  readonly fullWithin: number;
  /** Events refused as too big while this packet was being filled. */
  readonly tooBigWithin: number;
}

/** The header values of a packet, as read from its first 80 bytes. */
export interface PacketHeader {
  /** Packet sequence number in its ring (CTF `packet_seq_num`). */
  readonly seq: number;
  /** Timestamp of the first record (clock ticks). */
  readonly timestampBegin: number;
  /** Timestamp of the last record, or of the flush (clock ticks). */
  readonly timestampEnd: number;
  /** Exact end of the last record, in bytes from the packet start. */
  readonly end: number;
  /** Records, padding included. */
  readonly records: number;
  /** Padding records (discarded reservations left in place). */
  readonly padding: number;
  /** Events committed to the ring before this packet. */
  readonly eventsBefore: number;
  /** The ring's full+too-big drop count when the packet was opened. */
  readonly discardedAtOpen: number;
  /** The same when it was closed (CTF `events_discarded` before adding overwritten events). */
  readonly discardedAtClose: number;
  /** The ring's too-big count when the packet was opened. */
  readonly tooBigAtOpen: number;
  /** The same when it was closed. */
  readonly tooBigAtClose: number;
}

/** Read the private header of a packet. */
export function readPacketHeader(dv: DataView, base: number): PacketHeader {
  return {
    seq: getU64(dv, base + P_SEQ),
    timestampBegin: getU64(dv, base + P_TS_BEGIN),
    timestampEnd: getU64(dv, base + P_TS_END),
    end: dv.getUint32(base + P_END, true),
    records: dv.getUint32(base + P_RECORDS, true),
    padding: dv.getUint32(base + P_PADDING, true),
    eventsBefore: getU64(dv, base + P_EVENTS_BEFORE),
    discardedAtOpen: getU64(dv, base + P_DISCARDED_OPEN),
    discardedAtClose: getU64(dv, base + P_DISCARDED_CLOSE),
    tooBigAtOpen: getU64(dv, base + P_TOO_BIG_OPEN),
    tooBigAtClose: getU64(dv, base + P_TOO_BIG_CLOSE),
  };
}

/**
 * Walk the records of a packet prefix [80, end) and return its header with the record
 * counts and end timestamp it implies (for a packet still being filled). `discardedNow` and
 * `tooBigNow` are the ring's counters now: drops since the packet opened count within it.
 * @throws TraceBufferError `BAD_TRACE` when a record runs past `end`.
 */
export function completePartialHeader(
  dv: DataView,
  base: number,
  end: number,
  h: PacketHeader,
  discardedNow: number,
  tooBigNow: number,
): PacketHeader {
  let records = 0;
  let padding = 0;
  let first = -1;
  let last = h.timestampBegin;
  let p = base + PACKET_HEADER_BYTES;
  const stop = base + end;
  while (p < stop) {
    const size = dv.getUint32(p + R_SIZE, true);
    if (size < RECORD_HEADER_BYTES || p + size > stop) {
      throw new TraceBufferError(
        "BAD_TRACE",
        `record at byte ${p - base} of packet ${h.seq} has a bad size ${size}`,
      );
    }
    records++;
    last = getU64(dv, p + R_TIMESTAMP);
    if (first < 0) first = last;
    if (dv.getUint32(p, true) === PAD_CLASS) padding++;
    p += (size + 7) & ~7;
  }
  return {
    ...h,
    end,
    records,
    padding,
    timestampBegin: first < 0 ? h.timestampBegin : first,
    timestampEnd: last,
    discardedAtClose: Math.max(h.discardedAtOpen, discardedNow),
    tooBigAtClose: Math.max(h.tooBigAtOpen, tooBigNow),
  };
}

/** Running per-CPU state that turns packet headers into {@link PacketLosses}. */
export class LossTracker {
  /** Events committed before the next expected packet. */
  events: number;
  /** Full + too-big drop count at the end of the last packet observed. */
  discarded: number;
  /** Too-big drop count at the end of the last packet observed. */
  tooBig: number;
  /** Sequence number of the last packet observed (-1: none). */
  seq: number;

  /** Start counting from the beginning of the ring (all zero), or from the given state. */
  constructor(events = 0, discarded = 0, tooBig = 0, seq = -1) {
    this.events = events;
    this.discarded = discarded;
    this.tooBig = tooBig;
    this.seq = seq;
  }

  /** A tracker for which nothing before packet `h` counts as lost. */
  static before(h: PacketHeader): LossTracker {
    return new LossTracker(h.eventsBefore, h.discardedAtOpen, h.tooBigAtOpen, h.seq - 1);
  }

  /** The losses before and within packet `h`, which follows the last one observed. */
  observe(h: PacketHeader): PacketLosses {
    const tooBigBefore = Math.max(0, h.tooBigAtOpen - this.tooBig);
    const discBefore = Math.max(0, h.discardedAtOpen - this.discarded);
    const tooBigWithin = h.tooBigAtClose - h.tooBigAtOpen;
    const losses: PacketLosses = {
      overwrittenBefore: Math.max(0, h.eventsBefore - this.events),
      packetsBefore: Math.max(0, h.seq - this.seq - 1),
      fullBefore: discBefore - tooBigBefore,
      tooBigBefore,
      fullWithin: h.discardedAtClose - h.discardedAtOpen - tooBigWithin,
      tooBigWithin,
    };
    this.events = h.eventsBefore + h.records - h.padding;
    this.discarded = h.discardedAtClose;
    this.tooBig = h.tooBigAtClose;
    this.seq = h.seq;
    return losses;
  }
}

/** Total events lost before and within a packet. */
export function totalLost(l: PacketLosses): number {
  return l.overwrittenBefore + l.fullBefore + l.tooBigBefore + l.fullWithin + l.tooBigWithin;
}

/**
 * One packet (sub-buffer) handed to a reader: its header values, its bytes, and the losses
 * around it. `bytes` starts at the packet start (the 80-byte private header, then records)
 * and ends at the end of the last record. A packet from `TraceReader.getNextPacket` in
 * discard mode is a view of the shared memory, valid until `putPacket` (`live` is true);
 * every other packet owns its bytes.
 */
export class Packet {
  /** CPU (ring) it comes from. */
  readonly cpu: number;
  /** Header values. */
  readonly header: PacketHeader;
  /** Losses before and within this packet, relative to the previous packet of the same CPU. */
  readonly losses: PacketLosses;
  /** The packet's bytes, [0, header.end). */
  readonly bytes: Uint8Array;
  /** True when this is the committed prefix of a packet still being filled (snapshots). */
  readonly partial: boolean;
  /** True when `bytes` is a view of shared memory that is only valid until `putPacket`. */
  readonly live: boolean;

  /** A packet over `bytes`, whose private header is at offset 0. */
  constructor(
    cpu: number,
    header: PacketHeader,
    losses: PacketLosses,
    bytes: Uint8Array,
    partial: boolean,
    live: boolean,
  ) {
    this.cpu = cpu;
    this.header = header;
    this.losses = losses;
    this.bytes = bytes;
    this.partial = partial;
    this.live = live;
  }

  /** Packet sequence number in its ring. */
  get seq(): number {
    return this.header.seq;
  }

  /** Events in the packet (padding records excluded). */
  get events(): number {
    return this.header.records - this.header.padding;
  }

  /** This packet with its own copy of the bytes (a no-op for packets that own their bytes). */
  detach(): Packet {
    return this.live
      ? new Packet(this.cpu, this.header, this.losses, this.bytes.slice(), this.partial, false)
      : this;
  }
}
