/**
 * Iterating a trace as one sequence: the events (and losses) of every CPU merged in timestamp
 * order. Within a CPU, order is buffer order (timestamps there never decrease); between CPUs,
 * equal timestamps come in CPU order.
 */
import { EventCursor } from "./cursor.ts";
import type { EventClass } from "./schema.ts";
import type { Trace } from "./trace.ts";
import type { FieldValue } from "./writer.ts";

/** One event read back from a trace. */
export interface TraceEvent {
  /** Discriminant. */
  readonly kind: "event";
  /** CPU (ring) it was written to. */
  readonly cpu: number;
  /** Clock ticks (cycles or ns). */
  readonly timestamp: number;
  /** Its event class. */
  readonly eventClass: EventClass;
  /** Field values in declaration order (see `EventCursor.value` for the types). */
  readonly values: readonly FieldValue[];
}

/** Why events were lost. */
export type LossReason = "overwritten" | "full" | "too-big";

/**
 * Events lost at this point of a CPU's stream. Losses before a packet are placed at its first
 * timestamp, before its events; losses while it was filled, at its last timestamp, after them;
 * losses after the last packet (the trace's trailing losses), at the writer's last timestamp.
 */
export interface LostEvents {
  /** Discriminant. */
  readonly kind: "lost";
  /** CPU (ring) whose events were lost. */
  readonly cpu: number;
  /** Clock ticks where the loss is placed. */
  readonly timestamp: number;
  /** Number of events lost. */
  readonly count: number;
  /** Why. */
  readonly reason: LossReason;
}

/** An item of a merged trace. */
export type TraceItem = TraceEvent | LostEvents;

/** The items of one CPU, in order. */
export function* cpuItems(trace: Trace, cpu: number): Generator<TraceItem> {
  const cursor = new EventCursor(trace.schema);
  for (const packet of trace.streams[cpu] ?? []) {
    const l = packet.losses;
    const h = packet.header;
    const lost = (count: number, reason: LossReason, timestamp: number): LostEvents => ({
      kind: "lost",
      cpu,
      timestamp,
      count,
      reason,
    });
    if (l.overwrittenBefore > 0) yield lost(l.overwrittenBefore, "overwritten", h.timestampBegin);
    if (l.fullBefore > 0) yield lost(l.fullBefore, "full", h.timestampBegin);
    if (l.tooBigBefore > 0) yield lost(l.tooBigBefore, "too-big", h.timestampBegin);
    cursor.reset(packet);
    while (cursor.next()) {
      yield {
        kind: "event",
        cpu,
        timestamp: cursor.timestamp,
        eventClass: cursor.eventClass,
        values: cursor.values(),
      };
    }
    if (l.fullWithin > 0) yield lost(l.fullWithin, "full", h.timestampEnd);
    if (l.tooBigWithin > 0) yield lost(l.tooBigWithin, "too-big", h.timestampEnd);
  }
  const t = trace.trailing[cpu];
  if (t !== undefined && t.full + t.tooBig > 0) {
    const stream = trace.streams[cpu] ?? [];
    const ts = Math.max(t.timestamp, stream[stream.length - 1]?.header.timestampEnd ?? 0);
    if (t.full > 0) yield { kind: "lost", cpu, timestamp: ts, count: t.full, reason: "full" };
    if (t.tooBig > 0) yield { kind: "lost", cpu, timestamp: ts, count: t.tooBig, reason: "too-big" };
  }
}

interface Head {
  item: TraceItem;
  it: Iterator<TraceItem>;
}

const before = (a: Head, b: Head): boolean =>
  a.item.timestamp < b.item.timestamp || (a.item.timestamp === b.item.timestamp && a.item.cpu < b.item.cpu);

/**
 * Every event and loss of `trace`, all CPUs merged in timestamp order (a k-way merge over a
 * binary heap: O(log cpus) per item).
 */
export function* mergeEvents(trace: Trace): Generator<TraceItem> {
  const heap: Head[] = [];
  const push = (h: Head): void => {
    heap.push(h);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const siftDown = (): void => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let cpu = 0; cpu < trace.cpus; cpu++) {
    const it = cpuItems(trace, cpu);
    const r = it.next();
    if (!r.done) push({ item: r.value, it });
  }
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.item;
    const r = top.it.next();
    if (r.done) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown();
      }
    } else {
      top.item = r.value;
      siftDown();
    }
  }
}
