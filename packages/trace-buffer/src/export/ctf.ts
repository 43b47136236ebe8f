/**
 * Export a trace as a CTF 1.8 trace directory: `metadata` (TSDL text) and one stream file per
 * CPU (`stream_<cpu>`) made of packets. Each packet is the CTF packet header and context
 * (80 bytes, see tsdl.ts) followed by the records copied unchanged from the ring, so export is
 * mostly a memory copy. Padding records are dropped on the way.
 *
 * Losses: `events_discarded` is a running count per stream (CTF 1.8 §5) that includes every
 * lost event (full, too big, overwritten), so CTF readers report them as discarded events
 * between packets. `packet_seq_num` is the ring's own packet number, so packets overwritten in
 * flight-recorder mode also show as discarded packets. When events were lost before the first
 * packet of a stream, an empty packet with `events_discarded = 0` is written first so that
 * readers, which compare each packet with the previous one, report that loss too; losses
 * after the last packet (trailing losses of a final trace) go in an empty packet at the end.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { TraceBufferError } from "../errors.ts";
import { PACKET_HEADER_BYTES, PAD_CLASS, R_SIZE } from "../layout.ts";
import { type Packet, totalLost } from "../packet.ts";
import type { Trace } from "../trace.ts";
import { defaultWrite, OutputFailed, OutputFile, type WriteFunction } from "./output.ts";
import { CTF_MAGIC, ctfMetadata } from "./tsdl.ts";

/** Options for {@link writeCtf}. */
export interface CtfOptions {
  /** Trace UUID (RFC 4122 text form); default random. */
  readonly uuid?: string;
  /** Extra `env` entries of the metadata (string values). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The function that writes the files (default `fs.writeSync`): a point to inject failures
   * (a full disk) in tests, or to count or throttle output.
   */
  readonly write?: WriteFunction;
}

/** What {@link writeCtf} wrote. */
export interface CtfResult {
  /** The trace directory. */
  readonly dir: string;
  /** Stream files written, one per CPU that has packets. */
  readonly streams: readonly string[];
  /** Total bytes written (metadata and streams). */
  readonly bytes: number;
  /** Packets written. */
  readonly packets: number;
}

const CHUNK = 1 << 22;
/** End of the CTF packet context (cpu_id is its last field). */
const CONTEXT_END = 76;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Buffered writes to one file, remembering where each complete packet ends. */
class Sink {
  private readonly file: OutputFile;
  private readonly buf: Uint8Array = new Uint8Array(CHUNK);
  readonly dv: DataView = new DataView(this.buf.buffer);
  private used = 0;
  total = 0;
  /** File offset after each complete packet, and the events up to it. */
  readonly packetEnds: number[] = [];
  readonly eventsAtEnd: number[] = [];
  private events = 0;

  constructor(path: string, write: WriteFunction) {
    this.file = new OutputFile(path, write);
  }

  /** Room for `n` bytes at the returned offset of `buf`/`dv` (n ≤ CHUNK). */
  reserve(n: number): number {
    if (this.used + n > CHUNK) this.drain();
    const at = this.used;
    this.used += n;
    this.total += n;
    this.buf.fill(0, at, at + n);
    return at;
  }

  write(bytes: Uint8Array): void {
    if (this.used + bytes.length > CHUNK) this.drain();
    if (bytes.length > CHUNK) {
      this.file.put(bytes);
    } else {
      this.buf.set(bytes, this.used);
      this.used += bytes.length;
    }
    this.total += bytes.length;
  }

  /** The packet written last is complete and holds `events` events. */
  endPacket(events: number): void {
    this.events += events;
    this.packetEnds.push(this.total);
    this.eventsAtEnd.push(this.events);
  }

  get bytes(): Uint8Array {
    return this.buf;
  }

  /** Write what is buffered and close. @throws OutputFailed (the file stays open for {@link keepComplete}). */
  close(): void {
    this.drain();
    this.file.close();
  }

  /** Close after an unexpected error (nothing more is written). */
  abandon(): void {
    this.file.close();
  }

  /**
   * After a failed write: cut the file back to the last complete packet on disk and close it.
   * @returns packets and events kept, and the bytes left.
   */
  keepComplete(onDisk: number): { packets: number; events: number; bytes: number } {
    let k = 0;
    while (k < this.packetEnds.length && this.packetEnds[k]! <= onDisk) k++;
    const bytes = k === 0 ? 0 : this.packetEnds[k - 1]!;
    try {
      this.file.truncate(bytes);
    } finally {
      this.file.close();
    }
    return { packets: k, events: k === 0 ? 0 : this.eventsAtEnd[k - 1]!, bytes };
  }

  private drain(): void {
    const n = this.used;
    this.used = 0;
    if (n > 0) this.file.put(this.buf, 0, n);
  }
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function setU64(dv: DataView, p: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  dv.setUint32(p, v - hi * 4294967296, true);
  dv.setUint32(p + 4, hi, true);
}

/** Records of a packet without its padding records, from offset 80. */
function recordsWithoutPadding(p: Packet): Uint8Array {
  const src = p.bytes;
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = new Uint8Array(src.byteLength - PACKET_HEADER_BYTES);
  let o = 0;
  let end = 0;
  for (let q = PACKET_HEADER_BYTES; q < src.byteLength; ) {
    const size = dv.getUint32(q + R_SIZE, true);
    const padded = (size + 7) & ~7;
    if (dv.getUint32(q, true) !== PAD_CLASS) {
      out.set(src.subarray(q, q + size), o);
      end = o + size;
      o += padded;
    }
    q += padded;
  }
  return out.subarray(0, end);
}

function writePacket(
  sink: Sink,
  uuid: Uint8Array,
  cpu: number,
  seq: number,
  tsBegin: number,
  tsEnd: number,
  discarded: number,
  records: Uint8Array,
  events: number,
): void {
  // An empty packet's content ends with its context (byte 76): readers look for an event
  // header whenever content remains, before aligning to it.
  const content = records.length === 0 ? CONTEXT_END : PACKET_HEADER_BYTES + records.length;
  const size = (content + 7) & ~7;
  const at = sink.reserve(PACKET_HEADER_BYTES);
  const dv = sink.dv;
  dv.setUint32(at, CTF_MAGIC, true);
  sink.bytes.set(uuid, at + 4);
  dv.setUint32(at + 20, 0, true);
  setU64(dv, at + 24, tsBegin);
  setU64(dv, at + 32, tsEnd);
  setU64(dv, at + 40, content * 8);
  setU64(dv, at + 48, size * 8);
  setU64(dv, at + 56, seq);
  setU64(dv, at + 64, discarded);
  dv.setUint32(at + 72, cpu, true);
  sink.write(records);
  const written = PACKET_HEADER_BYTES + records.length;
  if (size > written) sink.reserve(size - written);
  sink.endPacket(events);
}

/**
 * Write `trace` as a CTF 1.8 trace in `dir` (created if needed; existing files with the same
 * names are replaced). Readable by babeltrace2 and Trace Compass.
 * @throws TraceBufferError `BAD_CONFIG` for a malformed `uuid`; `WRITE_FAILED` when a write
 *   fails (e.g. a full disk): the stream being written is cut back to its last complete
 *   packet, so the directory is a readable, shorter trace, and the error's `writeFailure`
 *   counts the events and packets written and lost. Node's errors from creating the
 *   directory or opening a file as is.
 */
export function writeCtf(trace: Trace, dir: string, options: CtfOptions = {}): CtfResult {
  const uuid = options.uuid ?? randomUUID();
  if (!UUID.test(uuid)) throw new TraceBufferError("BAD_CONFIG", `uuid "${uuid}" is not an RFC 4122 UUID`);
  mkdirSync(dir, { recursive: true });
  const metadata = ctfMetadata(trace.schema, trace.clock, uuid, {
    domain: "xmc",
    tracer_name: "xmc-trace-buffer",
    clock_unit: trace.clock.unit,
    buffer_mode: trace.mode,
    ...options.env,
  });
  const write = options.write ?? defaultWrite;
  const total = { events: 0, packets: 0 };
  trace.streams.forEach((stream, cpu) => {
    const planned = plannedPackets(trace, cpu);
    total.packets += planned;
    if (planned > 0) for (const p of stream) total.events += p.header.records - p.header.padding;
  });
  const metaBytes = new TextEncoder().encode(metadata);
  const metaPath = join(dir, "metadata");
  const meta = new OutputFile(metaPath, write);
  try {
    meta.put(metaBytes);
  } catch (e) {
    if (!(e instanceof OutputFailed)) throw e;
    // Without its metadata no reader can open the trace: leave nothing half-written.
    meta.truncate(0);
    throw writeFailed(metaPath, e.cause, { events: 0, packets: 0, bytes: 0 }, total);
  } finally {
    meta.close();
  }
  let bytes = metaBytes.length;
  let packets = 0;
  let events = 0;
  const streams: string[] = [];
  const ub = uuidBytes(uuid);
  for (let cpu = 0; cpu < trace.streams.length; cpu++) {
    if (plannedPackets(trace, cpu) === 0) continue;
    const stream = trace.streams[cpu]!;
    const trailing = trace.trailing[cpu]!;
    const trailingCount = trailing.full + trailing.tooBig;
    const name = `stream_${cpu}`;
    const sink = new Sink(join(dir, name), write);
    try {
      const empty = new Uint8Array(0);
      let discarded = 0;
      const first = stream[0];
      const l = first?.losses;
      // A lead packet carries events_discarded = 0 when losses precede the first packet; it
      // takes the number of the packet before (shifting all numbers by one if that is -1).
      const lead = l === undefined || l.overwrittenBefore + l.fullBefore + l.tooBigBefore > 0;
      const shift = lead && (first?.seq ?? 0) === 0 ? 1 : 0;
      // The lost events happened at unknown times before the first packet: the lead packet
      // sits at time 0, so that the loss window readers report, [0, first packet end],
      // contains them.
      let ts = 0;
      if (lead) writePacket(sink, ub, cpu, (first?.seq ?? 0) + shift - 1, 0, 0, 0, empty, 0);
      let seq = (first?.seq ?? 0) + shift - 1;
      for (const p of stream) {
        discarded += totalLost(p.losses);
        const h = p.header;
        const records =
          h.padding > 0 ? recordsWithoutPadding(p) : p.bytes.subarray(PACKET_HEADER_BYTES, h.end);
        seq = h.seq + shift;
        ts = h.timestampEnd;
        writePacket(sink, ub, cpu, seq, h.timestampBegin, ts, discarded, records, h.records - h.padding);
      }
      if (trailingCount > 0) {
        // Losses after the last packet: an empty packet that carries the final count.
        discarded += trailingCount;
        const end = Math.max(ts, trailing.timestamp);
        writePacket(sink, ub, cpu, seq + 1, end, end, discarded, empty, 0);
      }
      sink.close();
    } catch (e) {
      if (!(e instanceof OutputFailed)) {
        sink.abandon();
        throw e;
      }
      // Keep the complete packets (a reader opens them as a shorter trace); count the rest.
      const kept = sink.keepComplete(e.onDisk);
      throw writeFailed(
        join(dir, name),
        e.cause,
        { events: events + kept.events, packets: packets + kept.packets, bytes: bytes + kept.bytes },
        total,
      );
    }
    bytes += sink.total;
    packets += sink.packetEnds.length;
    events += sink.eventsAtEnd.at(-1) ?? 0;
    streams.push(name);
  }
  return { dir, streams, bytes, packets };
}

/** Packets {@link writeCtf} writes for `cpu`: lead, one per packet, trailing (0: no stream file). */
function plannedPackets(trace: Trace, cpu: number): number {
  const stream = trace.streams[cpu]!;
  const t = trace.trailing[cpu]!;
  const trailing = t.full + t.tooBig;
  if (stream.length === 0 && trailing === 0) return 0;
  const l = stream[0]?.losses;
  const lead = l === undefined || l.overwrittenBefore + l.fullBefore + l.tooBigBefore > 0;
  return (lead ? 1 : 0) + stream.length + (trailing > 0 ? 1 : 0);
}

/** The `WRITE_FAILED` error of an export that wrote `kept` of `total`. */
export function writeFailed(
  file: string,
  cause: unknown,
  kept: { events: number; packets: number; bytes: number },
  total: { events: number; packets: number },
): TraceBufferError {
  const why = (cause as Error | undefined)?.message ?? String(cause);
  const eventsLost = total.events - kept.events;
  const packetsLost = total.packets - kept.packets;
  return new TraceBufferError(
    "WRITE_FAILED",
    `writing ${file} failed (${why}); the output is readable up to the last complete ${total.packets > 0 ? "packet" : "entry"}: ${kept.events} events written, ${eventsLost} lost${total.packets > 0 ? ` (${packetsLost} packets)` : ""}`,
    {
      file,
      cause,
      eventsWritten: kept.events,
      eventsLost,
      packetsWritten: kept.packets,
      packetsLost,
      bytesWritten: kept.bytes,
    },
  );
}
