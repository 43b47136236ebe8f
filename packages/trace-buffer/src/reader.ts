/**
 * The consuming reader: takes closed packets out of the rings, in order, per CPU
 * (get-next-packet / put-packet), from any thread.
 *
 * Discard mode: a packet is read in place (no copy) and its sub-buffer is given back to the
 * writer by `putPacket`. Overwrite mode: the writer never waits for the reader, so the reader
 * copies the packet, then claims it with a compare-and-swap on its STATE word; if the writer
 * overwrote it meanwhile, the claim fails, the copy is dropped and the writer has already
 * counted its events as `lostOverwritten`. Either way every event is delivered once or
 * counted once, never both.
 */
import type { ClockInfo } from "./clock.ts";
import { TraceBufferError } from "./errors.ts";
import {
  F_CLAMPED,
  F_LAST_TS,
  F_LOST_FULL,
  F_LOST_OVERWRITTEN,
  F_LOST_TOO_BIG,
  F_PACKETS,
  F_PACKETS_OVERWRITTEN,
  F_READ_DISCARDED,
  F_READ_EVENTS,
  F_READ_SEQ,
  F_READ_TOO_BIG,
  F_WRITTEN,
  P_END,
  PACKET_HEADER_BYTES,
  R_FLUSH_REQ,
  R_WSEQ,
  RING_F64_OFFSET,
  S_READER_OWNER,
  S_READER_WAITING,
  S_WAKE,
  SEQ_MASK,
  ST_CLOSED,
  ST_CONSUMED,
  seqDiff,
  slotState,
} from "./layout.ts";
import { LossTracker, Packet, readPacketHeader } from "./packet.ts";
import type { TraceSchema } from "./schema.ts";
import { Trace } from "./trace.ts";
import type { SetViews } from "./views.ts";
import type { BufferStats } from "./writer.ts";

/** Read the counters a ring's writer has published (from any thread). */
export function publishedStats(views: SetViews, cpu: number): BufferStats {
  const b = (views.layout.ringBase(cpu) + RING_F64_OFFSET) / 8;
  const f = views.f64;
  return {
    recordsWritten: f[b + F_WRITTEN]!,
    lostFull: f[b + F_LOST_FULL]!,
    lostOverwritten: f[b + F_LOST_OVERWRITTEN]!,
    lostTooBig: f[b + F_LOST_TOO_BIG]!,
    packetsOverwritten: f[b + F_PACKETS_OVERWRITTEN]!,
    packets: f[b + F_PACKETS]!,
    timestampsRaised: f[b + F_CLAMPED]!,
  };
}

/**
 * Consumes packets from every ring of a set. One per set (get it from
 * `TraceBuffers.reader()`); use it from one thread.
 */
export class TraceReader {
  /** The schema of the set. */
  readonly schema: TraceSchema;
  /** The set's clock. */
  readonly clock: ClockInfo;
  private readonly v: SetViews;
  private readonly readSeq: number[];
  private readonly trackers: LossTracker[];
  private readonly held: (Packet | null)[];
  private closed = false;

  /**
   * Use `TraceBuffers.reader()`.
   * @throws TraceBufferError `OWNERSHIP` when the set already has a consuming reader.
   */
  constructor(views: SetViews, schema: TraceSchema, clock: ClockInfo) {
    if (Atomics.compareExchange(views.i32, S_READER_OWNER, 0, 1) !== 0) {
      throw new TraceBufferError(
        "OWNERSHIP",
        "this set already has a consuming reader; use one reader per set (close() the other), or snapshot() to read without consuming",
      );
    }
    this.v = views;
    this.schema = schema;
    this.clock = clock;
    const cpus = views.layout.cpus;
    this.readSeq = [];
    this.trackers = [];
    for (let cpu = 0; cpu < cpus; cpu++) {
      const f = views.f64;
      const b = (views.layout.ringBase(cpu) + RING_F64_OFFSET) / 8;
      const seq = f[b + F_READ_SEQ]!;
      this.readSeq.push(seq);
      this.trackers.push(
        new LossTracker(f[b + F_READ_EVENTS]!, f[b + F_READ_DISCARDED]!, f[b + F_READ_TOO_BIG]!, seq - 1),
      );
    }
    this.held = new Array<Packet | null>(cpus).fill(null);
  }

  /** Number of CPUs (rings). */
  get cpus(): number {
    return this.v.layout.cpus;
  }

  /**
   * The next closed packet of `cpu`, or null when there is none yet. Packets come in
   * sequence order; `packet.losses` says what was lost before and within it. Call
   * {@link putPacket} when done with it, before asking for the next one of the same CPU.
   * @throws TraceBufferError `BAD_CONFIG` for a bad CPU, `OWNERSHIP` when the previous packet
   *   of this CPU was not put back or the reader is closed.
   */
  getNextPacket(cpu: number): Packet | null {
    this.checkCpu(cpu);
    if (this.held[cpu] !== null) {
      throw new TraceBufferError(
        "OWNERSHIP",
        `putPacket() the previous packet of CPU ${cpu} before getting the next one`,
      );
    }
    const v = this.v;
    const L = v.layout;
    const n = L.subBufferCount;
    for (;;) {
      const seq = this.readSeq[cpu]!;
      const k = seq & (n - 1);
      const w = L.slotWord(cpu, k);
      const st = Atomics.load(v.i32, w);
      const d = seqDiff((st >>> 2) & SEQ_MASK, seq & SEQ_MASK);
      if (d < 0) return null;
      if (d > 0) {
        // Overwrite mode: packet `seq` is gone. Skip to the oldest one that can still be there.
        const wseq =
          seq + seqDiff(Atomics.load(v.i32, L.ringBase(cpu) / 4 + R_WSEQ) & SEQ_MASK, seq & SEQ_MASK);
        this.readSeq[cpu] = Math.max(seq + 1, wseq - n + 1);
        continue;
      }
      if ((st & 3) !== ST_CLOSED) return null;
      const base = L.slotBase(cpu, k);
      let packet: Packet;
      if (v.mode === "discard") {
        const h = readPacketHeader(v.dv, base);
        packet = new Packet(
          cpu,
          h,
          this.trackers[cpu]!.observe(h),
          v.u8.subarray(base, base + h.end),
          false,
          true,
        );
      } else {
        const end = Math.min(
          Math.max(v.dv.getUint32(base + P_END, true), PACKET_HEADER_BYTES),
          L.subBufferSize,
        );
        const copy = v.u8.slice(base, base + end);
        if (Atomics.compareExchange(v.i32, w, st, slotState(seq, ST_CONSUMED)) !== st) {
          // Overwritten while copying; the writer counted its events as lost.
          this.readSeq[cpu] = seq + 1;
          continue;
        }
        const h = readPacketHeader(new DataView(copy.buffer), 0);
        packet = new Packet(cpu, h, this.trackers[cpu]!.observe(h), copy, false, false);
      }
      this.held[cpu] = packet;
      return packet;
    }
  }

  /**
   * Give back a packet from {@link getNextPacket}: in discard mode its sub-buffer becomes
   * free for the writer. Its bytes must not be used afterwards if `packet.live`.
   * @throws TraceBufferError `OWNERSHIP` when `packet` is not the one held for its CPU.
   */
  putPacket(packet: Packet): void {
    const cpu = packet.cpu;
    if (this.held[cpu] !== packet) {
      throw new TraceBufferError(
        "OWNERSHIP",
        `this packet (CPU ${cpu}, seq ${packet.seq}) is not held by this reader`,
      );
    }
    const v = this.v;
    if (v.mode === "discard") {
      const w = v.layout.slotWord(cpu, packet.seq & (v.layout.subBufferCount - 1));
      Atomics.store(v.i32, w, slotState(packet.seq, ST_CONSUMED));
    }
    this.readSeq[cpu] = packet.seq + 1;
    this.held[cpu] = null;
    const t = this.trackers[cpu]!;
    const b = (v.layout.ringBase(cpu) + RING_F64_OFFSET) / 8;
    v.f64[b + F_READ_SEQ] = packet.seq + 1;
    v.f64[b + F_READ_EVENTS] = t.events;
    v.f64[b + F_READ_DISCARDED] = t.discarded;
    v.f64[b + F_READ_TOO_BIG] = t.tooBig;
  }

  /**
   * Consume every closed packet available now, from every CPU, into `trace` (a new one by
   * default), copying the bytes.
   * @param final - true once every writer is closed: also records, as the trace's trailing
   *   losses, events dropped after the last packet (otherwise they are reported with the
   *   next packet).
   * @returns the trace, with the packets appended in order per CPU.
   */
  drain(trace?: Trace, final = false): Trace {
    const t = trace ?? new Trace(this.schema, this.clock, this.v.mode, this.cpus);
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      for (let p = this.getNextPacket(cpu); p !== null; p = this.getNextPacket(cpu)) {
        t.add(p.detach());
        this.putPacket(p);
      }
      if (final) {
        const s = publishedStats(this.v, cpu);
        const tr = this.trackers[cpu]!;
        const tooBig = Math.max(0, s.lostTooBig - tr.tooBig);
        const full = Math.max(0, s.lostFull + s.lostTooBig - tr.discarded - tooBig);
        if (full + tooBig > 0) {
          const b = (this.v.layout.ringBase(cpu) + RING_F64_OFFSET) / 8;
          t.setTrailing(cpu, { full, tooBig, timestamp: this.v.f64[b + F_LAST_TS]! });
          tr.discarded = s.lostFull + s.lostTooBig;
          tr.tooBig = s.lostTooBig;
          this.v.f64[b + F_READ_DISCARDED] = tr.discarded;
          this.v.f64[b + F_READ_TOO_BIG] = tr.tooBig;
        }
      }
    }
    return t;
  }

  /** True when some CPU has a closed packet waiting (or, in overwrite mode, a gap to skip). */
  available(): boolean {
    const v = this.v;
    const L = v.layout;
    for (let cpu = 0; cpu < L.cpus; cpu++) {
      if (this.held[cpu] !== null) continue;
      const seq = this.readSeq[cpu]!;
      const st = Atomics.load(v.i32, L.slotWord(cpu, seq & (L.subBufferCount - 1)));
      const d = seqDiff((st >>> 2) & SEQ_MASK, seq & SEQ_MASK);
      if (d > 0 || (d === 0 && (st & 3) === ST_CLOSED)) return true;
    }
    return false;
  }

  /**
   * Sleep until a writer publishes a packet or `timeoutMs` passes (uses `Atomics.wait`, so
   * it blocks the calling thread; fine in workers and in Node's main thread).
   * @returns true when a packet is available.
   */
  wait(timeoutMs: number): boolean {
    const i32 = this.v.i32;
    Atomics.store(i32, S_READER_WAITING, 1);
    const seen = Atomics.load(i32, S_WAKE);
    if (!this.available()) Atomics.wait(i32, S_WAKE, seen, timeoutMs);
    Atomics.store(i32, S_READER_WAITING, 0);
    return this.available();
  }

  /**
   * Ask the writer of `cpu` (default: every CPU) to close its partly filled packet at its next
   * commit, so that it becomes readable. A writer that writes nothing more can be flushed
   * only by itself (`TraceWriter.flush()` or `close()`).
   */
  requestFlush(cpu?: number): void {
    const L = this.v.layout;
    for (let c = 0; c < L.cpus; c++) {
      if (cpu === undefined || cpu === c) Atomics.add(this.v.i32, L.ringBase(c) / 4 + R_FLUSH_REQ, 1);
    }
  }

  /** Counters of `cpu`'s buffer as published by its writer (current up to its last commit). */
  stats(cpu: number): BufferStats {
    this.checkCpu(cpu);
    return publishedStats(this.v, cpu);
  }

  /** Release the set's consuming-reader slot (another reader may be created afterwards). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.v.i32, S_READER_OWNER, 0);
  }

  private checkCpu(cpu: number): void {
    if (this.closed) throw new TraceBufferError("OWNERSHIP", "this reader is closed");
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.v.layout.cpus) {
      throw new TraceBufferError(
        "BAD_CONFIG",
        `CPU ${cpu} does not exist; this set has CPUs 0..${this.v.layout.cpus - 1}`,
      );
    }
  }
}
