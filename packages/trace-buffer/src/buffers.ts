/**
 * The entry point: a set of per-CPU rings in one `SharedArrayBuffer`, created in one thread
 * and attached to from others (worker threads) by sending `shared`.
 */
import { type ClockInfo, type ClockSpec, normalizeClock } from "./clock.ts";
import { TraceBufferError } from "./errors.ts";
import { publishedStats, TraceReader } from "./reader.ts";
import { defineSchema, type SchemaSpec, TraceSchema } from "./schema.ts";
import { takeSnapshot } from "./snapshot.ts";
import type { Trace } from "./trace.ts";
import { attachSetMemory, type BufferMode, checkShape, createSetMemory, type SetViews } from "./views.ts";
import { type BufferStats, TraceWriter } from "./writer.ts";

/** Options for {@link TraceBuffers.create}. */
export interface TraceBuffersOptions {
  /** The event classes (a schema, or its declaration). */
  readonly schema: TraceSchema | SchemaSpec;
  /** Number of rings: one per CPU, or one per writer thread. */
  readonly cpus: number;
  /** Bytes per sub-buffer (packet): a power of two from 256 to 64 MiB. Default 64 KiB. */
  readonly subBufferSize?: number;
  /** Sub-buffers per ring: a power of two from 2 to 65536. Default 8. */
  readonly subBufferCount?: number;
  /** What to do when the rings are full; default `discard`. */
  readonly mode?: BufferMode;
  /** The clock that write timestamps count; default nanoseconds. */
  readonly clock?: ClockSpec;
}

/**
 * What another thread needs to attach to a set: plain data plus the `SharedArrayBuffer`,
 * safe to send with `postMessage` or as `workerData`.
 */
export interface SharedTraceBuffers {
  /** The shared memory of the set. */
  readonly sab: SharedArrayBuffer;
  /** The schema declaration. */
  readonly schema: SchemaSpec;
  /** The clock description. */
  readonly clock: ClockSpec;
}

/**
 * Per-CPU lock-free ring buffers in shared memory.
 *
 * @example
 * const buffers = TraceBuffers.create({ schema, cpus: 2, mode: "overwrite" });
 * const w = buffers.writer(0);
 * w.emit("sample", 100, [1, 2, 3]);
 * const trace = buffers.snapshot();
 */
export class TraceBuffers {
  /** The event classes. */
  readonly schema: TraceSchema;
  /** The clock timestamps count. */
  readonly clock: ClockInfo;
  /** Send this to other threads; they call {@link TraceBuffers.attach}. */
  readonly shared: SharedTraceBuffers;
  private readonly v: SetViews;

  private constructor(v: SetViews, schema: TraceSchema, clock: ClockInfo, clockSpec: ClockSpec) {
    this.v = v;
    this.schema = schema;
    this.clock = clock;
    this.shared = { sab: v.sab, schema: schema.spec, clock: clockSpec };
  }

  /**
   * Allocate a new set.
   * @throws TraceBufferError `BAD_CONFIG` (sizes, counts, clock) or `BAD_SCHEMA`.
   */
  static create(options: TraceBuffersOptions): TraceBuffers {
    const schema = options.schema instanceof TraceSchema ? options.schema : defineSchema(options.schema);
    const mode = options.mode ?? "discard";
    if (mode !== "discard" && mode !== "overwrite") {
      throw new TraceBufferError(
        "BAD_CONFIG",
        `mode must be "discard" or "overwrite", not "${String(mode)}"`,
      );
    }
    const layout = checkShape(options.cpus, options.subBufferSize ?? 65536, options.subBufferCount ?? 8);
    const clockSpec: ClockSpec = options.clock ?? { unit: "ns" };
    return new TraceBuffers(createSetMemory(layout, mode), schema, normalizeClock(clockSpec), clockSpec);
  }

  /**
   * Attach to a set created in another thread.
   * @throws TraceBufferError `BAD_CONFIG` when `shared` does not describe a set.
   */
  static attach(shared: SharedTraceBuffers): TraceBuffers {
    if (shared === null || typeof shared !== "object") {
      throw new TraceBufferError("BAD_CONFIG", "attach() expects the `shared` object of a TraceBuffers");
    }
    const v = attachSetMemory(shared.sab);
    return new TraceBuffers(v, defineSchema(shared.schema), normalizeClock(shared.clock), shared.clock);
  }

  /** Number of rings (CPUs). */
  get cpus(): number {
    return this.v.layout.cpus;
  }

  /** Discard or overwrite. */
  get mode(): BufferMode {
    return this.v.mode;
  }

  /** Bytes per sub-buffer. */
  get subBufferSize(): number {
    return this.v.layout.subBufferSize;
  }

  /** Sub-buffers per ring. */
  get subBufferCount(): number {
    return this.v.layout.subBufferCount;
  }

  /** Largest record (header included) that fits in a sub-buffer, in bytes. */
  get maxRecordSize(): number {
    return this.v.layout.subBufferSize - 80;
  }

  /**
   * The writer of ring `cpu`. One writer per ring at a time, across all threads.
   * @throws TraceBufferError `BAD_CONFIG` for a bad CPU, `OWNERSHIP` when it has a writer.
   */
  writer(cpu: number): TraceWriter {
    this.checkCpu(cpu);
    return new TraceWriter(this.v, cpu, this.schema);
  }

  /**
   * The consuming reader of the set. One per set at a time, across all threads.
   * @throws TraceBufferError `OWNERSHIP` when the set has one.
   */
  reader(): TraceReader {
    return new TraceReader(this.v, this.schema, this.clock);
  }

  /** Copy everything the rings hold now (closed packets and committed parts of open ones). */
  snapshot(): Trace {
    return takeSnapshot(this.v, this.schema, this.clock);
  }

  /**
   * Counters of ring `cpu` as published by its writer (from any thread; `recordsWritten` is
   * current up to the writer's last outermost commit).
   */
  stats(cpu: number): BufferStats {
    this.checkCpu(cpu);
    return publishedStats(this.v, cpu);
  }

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.v.layout.cpus) {
      throw new TraceBufferError(
        "BAD_CONFIG",
        `CPU ${cpu} does not exist; this set has CPUs 0..${this.v.layout.cpus - 1}`,
      );
    }
  }
}
