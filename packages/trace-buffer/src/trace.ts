/**
 * A collected trace: packets per CPU, in order, that own their bytes. Readers fill it
 * (`TraceReader.drain`, `TraceBuffers.snapshot`) and exporters and the merge iterator read it.
 */
import type { ClockInfo } from "./clock.ts";
import { TraceBufferError } from "./errors.ts";
import { type Packet, totalLost } from "./packet.ts";
import type { TraceSchema } from "./schema.ts";
import type { BufferMode } from "./views.ts";

/**
 * Events lost after the last packet of a CPU (dropped while no packet was open, and not yet
 * followed by a packet). Known only when the trace is final (writers closed) or a snapshot.
 */
export interface TrailingLosses {
  /** Events dropped because the buffer was full. */
  readonly full: number;
  /** Events refused as too big. */
  readonly tooBig: number;
  /** Where to place the loss: the writer's last timestamp (clock ticks). */
  readonly timestamp: number;
}

const NO_LOSS: TrailingLosses = { full: 0, tooBig: 0, timestamp: 0 };

/** Packets of every CPU of one set, with what is needed to decode and export them. */
export class Trace {
  /** The schema records are decoded with. */
  readonly schema: TraceSchema;
  /** The clock timestamps count. */
  readonly clock: ClockInfo;
  /** The mode of the buffers the packets came from. */
  readonly mode: BufferMode;
  /** Packets per CPU, in sequence order. */
  readonly streams: Packet[][];
  /** Losses after the last packet, per CPU. */
  readonly trailing: TrailingLosses[];

  /** An empty trace for `cpus` CPUs. */
  constructor(schema: TraceSchema, clock: ClockInfo, mode: BufferMode, cpus: number) {
    this.schema = schema;
    this.clock = clock;
    this.mode = mode;
    this.streams = Array.from({ length: cpus }, () => []);
    this.trailing = new Array<TrailingLosses>(cpus).fill(NO_LOSS);
  }

  /** Record the losses after the last packet of `cpu` (replacing earlier ones). */
  setTrailing(cpu: number, losses: TrailingLosses): void {
    if (this.trailing[cpu] === undefined) {
      throw new TraceBufferError("BAD_TRACE", `CPU ${cpu} does not exist in a trace of ${this.cpus} CPUs`);
    }
    this.trailing[cpu] = losses;
  }

  /** Number of CPUs. */
  get cpus(): number {
    return this.streams.length;
  }

  /**
   * Append a packet to its CPU's stream (copying its bytes if they are a live view).
   * @throws TraceBufferError `BAD_TRACE` when the CPU is out of range or the packet does not
   *   follow the last one of its CPU.
   */
  add(packet: Packet): void {
    const s = this.streams[packet.cpu];
    if (s === undefined) {
      throw new TraceBufferError(
        "BAD_TRACE",
        `packet of CPU ${packet.cpu} added to a trace of ${this.cpus} CPUs`,
      );
    }
    const last = s[s.length - 1];
    if (last !== undefined && packet.seq <= last.seq) {
      throw new TraceBufferError(
        "BAD_TRACE",
        `packet ${packet.seq} of CPU ${packet.cpu} added after packet ${last.seq}; packets must come in order`,
      );
    }
    s.push(packet.detach());
  }

  /** Events in all packets. */
  get eventCount(): number {
    let n = 0;
    for (const s of this.streams) for (const p of s) n += p.events;
    return n;
  }

  /** Events lost (all reasons) before and within the packets of `cpu`, or of all CPUs. */
  lostCount(cpu?: number): number {
    let n = 0;
    this.streams.forEach((s, c) => {
      if (cpu === undefined || cpu === c) {
        for (const p of s) n += totalLost(p.losses);
        n += this.trailing[c]!.full + this.trailing[c]!.tooBig;
      }
    });
    return n;
  }
}
