/**
 * @xmc/trace-buffer — per-CPU lock-free ring buffers in a SharedArrayBuffer, with
 * reserve/commit (nestable), discard and overwrite modes, lost-event accounting, consuming
 * and snapshot readers, a timestamp-ordered merge, and CTF 1.8 / Chrome JSON / text export.
 */

export { type SharedTraceBuffers, TraceBuffers, type TraceBuffersOptions } from "./buffers.ts";
export { type ClockInfo, type ClockSpec, type ClockUnit, monotonicNs, normalizeClock } from "./clock.ts";
export { EventCursor } from "./cursor.ts";
export { TraceBufferError, type TraceBufferErrorCode, type WriteFailure } from "./errors.ts";
export {
  type ChromeOptions,
  chromeTraceJson,
  DISCARDED_EVENT_NAME,
  writeChromeJson,
} from "./export/chrome.ts";
export { type CtfOptions, type CtfResult, writeCtf } from "./export/ctf.ts";
export type { WriteFunction } from "./export/output.ts";
export { formatText } from "./export/text.ts";
export { ctfMetadata } from "./export/tsdl.ts";
export {
  type CtfEvent,
  type CtfEventClass,
  type CtfPacket,
  type CtfStream,
  type CtfTrace,
  type CtfValue,
  parseCtf,
  readCtf,
} from "./import/ctf-read.ts";
export {
  cpuItems,
  type LossReason,
  type LostEvents,
  mergeEvents,
  type TraceEvent,
  type TraceItem,
} from "./merge.ts";
export { Packet, type PacketHeader, type PacketLosses, totalLost } from "./packet.ts";
export { TraceReader } from "./reader.ts";
export {
  defineSchema,
  EventClass,
  type EventClassSpec,
  type EventKind,
  type FieldInfo,
  type FieldType,
  type SchemaSpec,
  TraceSchema,
} from "./schema.ts";
export { Trace } from "./trace.ts";
export { utf8Length } from "./utf8.ts";
export type { BufferMode } from "./views.ts";
export { type BufferStats, type FieldValue, MAX_NESTING, TraceWriter } from "./writer.ts";
