/**
 * Non-consuming snapshots: copy what every ring holds right now, including the committed
 * part of the packet each writer is filling, without disturbing writers or the consuming
 * reader. The flight-recorder read (overwrite mode).
 *
 * Each packet is copied and then validated like a seqlock: the slot's STATE word is loaded
 * before and after the copy; if the writer started reusing the slot meanwhile (the sequence
 * number changed), the copy is dropped and its events count as overwritten.
 */
import type { ClockInfo } from "./clock.ts";
import {
  F_LAST_TS,
  F_LOST_FULL,
  F_LOST_TOO_BIG,
  P_END,
  PACKET_HEADER_BYTES,
  RING_F64_OFFSET,
  SEQ_MASK,
  ST_EMPTY,
  ST_WRITING,
  seqDiff,
} from "./layout.ts";
import { completePartialHeader, LossTracker, Packet, readPacketHeader } from "./packet.ts";
import type { TraceSchema } from "./schema.ts";
import { Trace } from "./trace.ts";
import type { SetViews } from "./views.ts";

interface Copied {
  seq30: number;
  bytes: Uint8Array;
  partial: boolean;
}

/** Copy the current contents of every ring into a new {@link Trace}. */
export function takeSnapshot(v: SetViews, schema: TraceSchema, clock: ClockInfo): Trace {
  const L = v.layout;
  const trace = new Trace(schema, clock, v.mode, L.cpus);
  for (let cpu = 0; cpu < L.cpus; cpu++) {
    const copies: Copied[] = [];
    for (let k = 0; k < L.subBufferCount; k++) {
      const w = L.slotWord(cpu, k);
      const st1 = Atomics.load(v.i32, w);
      if ((st1 & 3) === ST_EMPTY) continue;
      const base = L.slotBase(cpu, k);
      const writing = (st1 & 3) === ST_WRITING;
      const end = writing ? Atomics.load(v.i32, w + 1) : v.dv.getUint32(base + P_END, true);
      if (end <= PACKET_HEADER_BYTES || end > L.subBufferSize) continue;
      const bytes = v.u8.slice(base, base + end);
      const st2 = Atomics.load(v.i32, w);
      // Same packet still there: a closed packet does not change; a packet being written only
      // grows past what was committed when we loaded `end`.
      if ((st2 & 3) === ST_EMPTY || st2 >>> 2 !== st1 >>> 2) continue;
      copies.push({ seq30: (st1 >>> 2) & SEQ_MASK, bytes, partial: writing });
    }
    const fb = (L.ringBase(cpu) + RING_F64_OFFSET) / 8;
    const tooBigNow = v.f64[fb + F_LOST_TOO_BIG]!;
    const discardedNow = v.f64[fb + F_LOST_FULL]! + tooBigNow;
    const lastTs = v.f64[fb + F_LAST_TS]!;
    if (copies.length === 0) {
      if (v.mode === "overwrite" && discardedNow > 0) {
        trace.setTrailing(cpu, { full: discardedNow - tooBigNow, tooBig: tooBigNow, timestamp: lastTs });
      }
      continue;
    }
    const ref = copies[0]!.seq30;
    copies.sort((a, b) => seqDiff(a.seq30, ref) - seqDiff(b.seq30, ref));
    let tracker: LossTracker | undefined;
    let lastEnd = 0;
    for (const c of copies) {
      const dv = new DataView(c.bytes.buffer);
      let h = readPacketHeader(dv, 0);
      if (c.partial) h = completePartialHeader(dv, 0, c.bytes.byteLength, h, discardedNow, tooBigNow);
      // Overwrite mode: events before the oldest packet kept were overwritten, so count them.
      // Discard mode: they were consumed (or are still to come), so start counting here.
      tracker ??= v.mode === "overwrite" ? new LossTracker() : LossTracker.before(h);
      trace.add(new Packet(cpu, h, tracker.observe(h), c.bytes, c.partial, false));
      lastEnd = h.timestampEnd;
    }
    // Drops after the last packet (no packet open since).
    const tooBig = Math.max(0, tooBigNow - tracker!.tooBig);
    const full = Math.max(0, discardedNow - tracker!.discarded - tooBig);
    if (full + tooBig > 0) trace.setTrailing(cpu, { full, tooBig, timestamp: Math.max(lastTs, lastEnd) });
  }
  return trace;
}
