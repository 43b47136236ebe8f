/**
 * Read a CTF 1.8 trace of the layout {@link writeCtf} writes: the metadata (TSDL, parsed by
 * tsdl-parse.ts), then every `stream_*` file packet by packet — the packet header and context
 * and each event's header and fields decoded from the types the metadata declares
 * (little-endian integers of 8-64 bits, binary32/64 floats, UTF-8 strings, structs, fixed
 * arrays and sequences). Every read is bounds-checked against the packet's content size and
 * the file; anything malformed is a {@link TraceBufferError} `BAD_TRACE` naming the file and
 * byte offset. Not a hot path: values are decoded into objects.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TraceBufferError } from "../errors.ts";
import { CTF_MAGIC } from "../export/tsdl.ts";
import { parseTsdl, type TsdlBlock, type TsdlField, type TsdlType, type TsdlValue } from "./tsdl-parse.ts";

/** A decoded field value: integers as numbers when exact (else bigints), bytes of a `u8` sequence or array as a Uint8Array. */
export type CtfValue = number | bigint | string | Uint8Array | CtfValue[] | { [name: string]: CtfValue };

/** An event class as the metadata declares it. */
export interface CtfEventClass {
  readonly id: number;
  readonly name: string;
  /** Field names (leading `_` stripped, sequence length fields left out), in order. */
  readonly fields: readonly string[];
}

/** One event. */
export interface CtfEvent {
  /** `cpu_id` of its packet. */
  readonly cpu: number;
  /** Clock ticks (cycles or ns). */
  readonly timestamp: number;
  readonly eventClass: CtfEventClass;
  /** Field name → value (names as in {@link CtfEventClass.fields}). */
  readonly fields: Readonly<Record<string, CtfValue>>;
}

/** One packet's context. */
export interface CtfPacket {
  readonly seq: number;
  readonly timestampBegin: number;
  readonly timestampEnd: number;
  /** Running count of events lost in this stream up to the end of this packet. */
  readonly eventsDiscarded: number;
  readonly events: number;
}

/** One stream file. */
export interface CtfStream {
  readonly file: string;
  readonly cpu: number;
  readonly packets: readonly CtfPacket[];
  /** Events lost in this stream (the last packet's `events_discarded`). */
  readonly eventsDiscarded: number;
}

/** A trace read by {@link readCtf}. */
export interface CtfTrace {
  readonly uuid: string | undefined;
  readonly clock: { readonly name: string; readonly frequency: number; readonly description: string };
  /** The metadata's `env` block (strings and numbers). */
  readonly env: Readonly<Record<string, string | number>>;
  readonly classes: readonly CtfEventClass[];
  readonly streams: readonly CtfStream[];
  /** Every event of every stream, in timestamp order (ties: by stream, then file order). */
  readonly events: readonly CtfEvent[];
}

function bad(msg: string): never {
  throw new TraceBufferError("BAD_TRACE", msg);
}

const strip = (n: string): string => (n.startsWith("_") ? n.slice(1) : n);

/** A bounds-checked little-endian reader over one packet's content. */
class Cursor {
  /** Position in bits from the start of the file's buffer. */
  pos = 0;
  private readonly dv: DataView;
  private readonly dec = new TextDecoder("utf-8", { fatal: true });
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    /** End of the readable content, in bits. */
    public end: number,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Refuse, naming the file and `at` (a byte offset; default the cursor's). */
  fail(what: string, at: number = Math.floor(this.pos / 8)): never {
    bad(`${this.file}: byte ${at}: ${what}`);
  }
  align(bits: number): void {
    this.pos = Math.ceil(this.pos / bits) * bits;
  }
  private take(bits: number, what: string): number {
    if (this.pos + bits > this.end) this.fail(`${what} runs past the end of the packet content`);
    const at = this.pos / 8;
    this.pos += bits;
    return at;
  }
  integer(t: Extract<TsdlType, { kind: "integer" }>, what: string): number | bigint {
    this.align(t.align);
    const at = this.take(t.size, what);
    let v = 0n;
    for (let i = t.size / 8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[at + i]!);
    if (t.signed && v >= 1n << BigInt(t.size - 1)) v -= 1n << BigInt(t.size);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  u32(what: string): number {
    this.align(8);
    const at = this.take(32, what);
    return this.dv.getUint32(at, true);
  }
  float(t: Extract<TsdlType, { kind: "float" }>, what: string): number {
    this.align(t.align);
    const at = this.take(t.size, what);
    return t.size === 64 ? this.dv.getFloat64(at, true) : this.dv.getFloat32(at, true);
  }
  string(what: string): string {
    this.align(8);
    const start = this.pos / 8;
    const limit = this.end / 8;
    let e = start;
    while (e < limit && this.bytes[e] !== 0) e++;
    if (e >= limit) this.fail(`${what}: string without its NUL before the end of the packet content`);
    this.pos = (e + 1) * 8;
    try {
      return this.dec.decode(this.bytes.subarray(start, e));
    } catch {
      this.pos = start * 8;
      return this.fail(`${what}: string is not valid UTF-8`);
    }
  }
}

function isByte(t: TsdlType): boolean {
  return t.kind === "integer" && t.size === 8 && !t.signed;
}

/** Decode `t` at the cursor. */
function decode(c: Cursor, t: TsdlType, what: string): CtfValue {
  switch (t.kind) {
    case "integer":
      return c.integer(t, what);
    case "float":
      return c.float(t, what);
    case "string":
      return c.string(what);
    case "struct":
      return decodeStruct(c, t.fields, what).values;
  }
}

function decodeStruct(
  c: Cursor,
  fields: readonly TsdlField[],
  what: string,
): { values: Record<string, CtfValue>; raw: Map<string, CtfValue> } {
  const raw = new Map<string, CtfValue>();
  const values: Record<string, CtfValue> = {};
  const lengths = new Set(fields.map((f) => f.length).filter((l): l is string => typeof l === "string"));
  for (const f of fields) {
    const name = `${what}.${strip(f.name)}`;
    let v: CtfValue;
    if (f.length === undefined) v = decode(c, f.type, name);
    else {
      const n = typeof f.length === "number" ? f.length : raw.get(f.length);
      if (typeof n !== "number" || n < 0) c.fail(`${name}: sequence length ${String(n)} is not a count`);
      // Each element takes at least one byte: refuse lengths the content cannot hold before allocating.
      if (n > (c.end - c.pos) / 8 + 1)
        c.fail(`${name}: ${n} elements run past the end of the packet content`);
      if (isByte(f.type)) {
        const bytes = new Uint8Array(n);
        for (let i = 0; i < n; i++)
          bytes[i] = c.integer(f.type as Extract<TsdlType, { kind: "integer" }>, name) as number;
        v = bytes;
      } else {
        const arr: CtfValue[] = [];
        for (let i = 0; i < n; i++) arr.push(decode(c, f.type, `${name}[${i}]`));
        v = arr;
      }
    }
    raw.set(f.name, v);
    if (!lengths.has(f.name)) values[strip(f.name)] = v;
  }
  return { values, raw };
}

function num(b: TsdlBlock, key: string, where: string): number {
  const v = b.values.get(key);
  if (typeof v !== "number") bad(`CTF metadata: ${where} has no numeric ${key}`);
  return v;
}

function str(v: TsdlValue | undefined): string | undefined {
  return typeof v === "string" ? v : typeof v === "object" ? v.ident : undefined;
}

function structOf(b: TsdlBlock, key: string, where: string): TsdlField[] {
  const t = b.types.get(key);
  if (!t) return [];
  if (t.kind !== "struct") bad(`CTF metadata: ${where} ${key} is not a struct`);
  return t.fields;
}

const asNumber = (v: CtfValue | undefined, what: string, file: string): number => {
  if (typeof v !== "number") bad(`${file}: ${what} is ${v === undefined ? "missing" : "not a safe integer"}`);
  return v;
};

/**
 * Parse a CTF trace given as its files: `metadata` (text) and stream files (every other file
 * whose name does not start with `.`; index files are not used).
 * @throws TraceBufferError `BAD_TRACE`: no metadata, metadata outside the subset our exporter
 * writes, or a packet or event that does not fit its file (with file and byte offset).
 */
export function parseCtf(files: Readonly<Record<string, Uint8Array>>): CtfTrace {
  const metaBytes = files.metadata;
  if (!metaBytes) bad("CTF trace: no metadata file");
  if (
    metaBytes.length >= 4 &&
    new DataView(metaBytes.buffer, metaBytes.byteOffset).getUint32(0, true) === 0x75d11d57
  )
    bad("CTF metadata: packetized metadata is not supported (only the text form our exporter writes)");
  const meta = parseTsdl(new TextDecoder().decode(metaBytes));
  const order = str(meta.trace.values.get("byte_order"));
  if (order !== undefined && order !== "le")
    bad(`CTF metadata: byte_order ${order} is not supported (only le)`);
  if (meta.streams.length !== 1) bad(`CTF metadata: ${meta.streams.length} stream classes (expected one)`);
  const stream = meta.streams[0]!;
  const clockBlock = meta.clocks[0];
  const clock = {
    name: str(clockBlock?.values.get("name")) ?? "cycles",
    frequency: clockBlock ? num(clockBlock, "freq", "clock") : 1e9,
    description: str(clockBlock?.values.get("description")) ?? "",
  };
  const env: Record<string, string | number> = {};
  for (const [k, v] of meta.env.values) if (typeof v === "string" || typeof v === "number") env[k] = v;
  const packetHeader = structOf(meta.trace, "packet.header", "trace");
  const packetContext = structOf(stream, "packet.context", "stream");
  const eventHeader = structOf(stream, "event.header", "stream");
  if (!eventHeader.some((f) => f.name === "id")) bad("CTF metadata: the event header has no id");
  const classes = new Map<number, CtfEventClass & { decl: TsdlField[] }>();
  for (const e of meta.events) {
    const id = num(e, "id", "an event");
    const name = str(e.values.get("name")) ?? bad(`CTF metadata: event ${id} has no name`);
    if (classes.has(id)) bad(`CTF metadata: event id ${id} declared twice`);
    const decl = structOf(e, "fields", `event ${name}`);
    const lengths = new Set(decl.map((f) => f.length).filter((l) => typeof l === "string"));
    classes.set(id, {
      id,
      name,
      fields: decl.filter((f) => !lengths.has(f.name)).map((f) => strip(f.name)),
      decl,
    });
  }
  const uuid = str(meta.trace.values.get("uuid"));
  const uuidBytes = uuid
    ? Uint8Array.from(uuid.replace(/-/g, "").match(/../g) ?? [], (h) => Number.parseInt(h, 16))
    : undefined;

  const streams: CtfStream[] = [];
  const perStream: CtfEvent[][] = [];
  for (const file of Object.keys(files).sort(byStreamName)) {
    if (file === "metadata" || file.startsWith(".")) continue;
    const bytes = files[file]!;
    const events: CtfEvent[] = [];
    const packets: CtfPacket[] = [];
    let cpu = -1;
    for (let off = 0; off < bytes.length; ) {
      const c: Cursor = new Cursor(bytes, file, bytes.length * 8);
      c.pos = off * 8;
      const header = decodeStruct(c, packetHeader, "packet.header").raw;
      const magic = header.get("magic");
      if (magic !== undefined && magic !== CTF_MAGIC)
        c.fail(`packet magic 0x${Number(magic).toString(16)} is not 0xc1fc1fc1`, off);
      const pu = header.get("uuid");
      if (uuidBytes && pu instanceof Uint8Array && !pu.every((b, i) => b === uuidBytes[i]))
        c.fail("packet uuid differs from the metadata's", off);
      const ctx = decodeStruct(c, packetContext, "packet.context").raw;
      const packetBits = ctx.has("packet_size")
        ? asNumber(ctx.get("packet_size"), "packet_size", file)
        : (bytes.length - off) * 8;
      const contentBits = ctx.has("content_size")
        ? asNumber(ctx.get("content_size"), "content_size", file)
        : packetBits;
      if (packetBits % 8 !== 0 || packetBits <= 0 || off + packetBits / 8 > bytes.length)
        c.fail(
          `packet_size ${packetBits} bits does not fit the file (${bytes.length - off} bytes left)`,
          off,
        );
      if (contentBits > packetBits || contentBits < c.pos - off * 8)
        c.fail(
          `content_size ${contentBits} bits is outside the packet (${packetBits} bits, header ${c.pos - off * 8})`,
        );
      c.end = off * 8 + contentBits;
      const pcpu = ctx.has("cpu_id") ? asNumber(ctx.get("cpu_id"), "cpu_id", file) : streams.length;
      if (cpu >= 0 && pcpu !== cpu)
        c.fail(`cpu_id ${pcpu} differs from the stream's earlier packets (${cpu})`);
      cpu = pcpu;
      let n = 0;
      while (c.pos < c.end) {
        const h = decodeStruct(c, eventHeader, "event.header").raw;
        const id = h.get("id");
        const cls = typeof id === "number" ? classes.get(id) : undefined;
        if (!cls) c.fail(`event id ${String(id)} is not declared in the metadata`);
        const ts = h.get("timestamp");
        const timestamp =
          typeof ts === "number" ? ts : asNumber(ctx.get("timestamp_begin"), "event timestamp", file);
        const { values } = decodeStruct(c, cls.decl, cls.name);
        events.push({
          cpu,
          timestamp,
          eventClass: { id: cls.id, name: cls.name, fields: cls.fields },
          fields: values,
        });
        n++;
      }
      packets.push({
        seq: ctx.has("packet_seq_num")
          ? asNumber(ctx.get("packet_seq_num"), "packet_seq_num", file)
          : packets.length,
        timestampBegin: ctx.has("timestamp_begin")
          ? asNumber(ctx.get("timestamp_begin"), "timestamp_begin", file)
          : 0,
        timestampEnd: ctx.has("timestamp_end")
          ? asNumber(ctx.get("timestamp_end"), "timestamp_end", file)
          : 0,
        eventsDiscarded: ctx.has("events_discarded")
          ? asNumber(ctx.get("events_discarded"), "events_discarded", file)
          : 0,
        events: n,
      });
      off += packetBits / 8;
    }
    if (packets.length === 0) continue;
    streams.push({ file, cpu, packets, eventsDiscarded: packets[packets.length - 1]!.eventsDiscarded });
    perStream.push(events);
  }
  return {
    uuid,
    clock,
    env,
    classes: [...classes.values()].map(({ id, name, fields }) => ({ id, name, fields })),
    streams,
    events: mergeByTime(perStream),
  };
}

/** `stream_2` before `stream_10`. */
function byStreamName(a: string, b: string): number {
  const na = /(\d+)$/.exec(a);
  const nb = /(\d+)$/.exec(b);
  if (na && nb && a.slice(0, na.index) === b.slice(0, nb.index)) return Number(na[1]) - Number(nb[1]);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Per-stream event lists (each in time order) merged by time; sort is stable, so ties keep stream then file order. */
function mergeByTime(lists: CtfEvent[][]): CtfEvent[] {
  return lists.flat().sort((x, y) => x.timestamp - y.timestamp);
}

/**
 * Read the CTF trace directory `dir` (as {@link writeCtf} writes it).
 * @throws TraceBufferError `BAD_TRACE` as {@link parseCtf}, or when `dir` cannot be read.
 */
export function readCtf(dir: string): CtfTrace {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    bad(`CTF trace ${dir}: cannot read the directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (!names.includes("metadata")) bad(`CTF trace ${dir}: no metadata file (is it a CTF trace directory?)`);
  const files: Record<string, Uint8Array> = {};
  for (const n of names) {
    if (n.startsWith(".") || n === "index") continue;
    try {
      files[n] = readFileSync(join(dir, n));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EISDIR") continue; // e.g. an `index` directory of other tools
      bad(`CTF trace ${dir}: cannot read ${n} (${code ?? String(e)})`);
    }
  }
  return parseCtf(files);
}
