/**
 * The CTF 1.8 metadata (TSDL) of a trace: types, trace/clock/stream blocks and one event
 * block per event class. Facts from the CTF 1.8 specification (diamon.org/ctf/v1.8.3):
 * §4.1.5 integer attributes (size, align in bits, signed, map to a clock), §4.2.5 strings
 * (NUL-terminated UTF-8), §4.2.4 sequences with a length field, §5 packet header/context
 * fields (magic 0xC1FC1FC1, uuid, stream_id; timestamp_begin/end, content_size and
 * packet_size in bits, packet_seq_num, events_discarded), §7.3 text metadata starting with
 * the `/* CTF 1.8 *\/` signature, and §8 clocks.
 *
 * Field names are written with a leading `_`, which readers strip (§7.3.1: identifiers that
 * could clash with keywords are prefixed with an underscore), so names display as declared.
 */
import type { ClockInfo } from "../clock.ts";
import type { EventClass, FieldType, TraceSchema } from "../schema.ts";

/** Magic number at the start of every CTF packet (CTF 1.8 §5). */
export const CTF_MAGIC = 0xc1fc1fc1;

const INT: Record<Exclude<FieldType, "f64" | "string" | "bytes">, string> = {
  u8: "integer { size = 8; align = 8; signed = false; }",
  u16: "integer { size = 16; align = 8; signed = false; }",
  u32: "integer { size = 32; align = 8; signed = false; }",
  u64: "integer { size = 64; align = 8; signed = false; }",
  s8: "integer { size = 8; align = 8; signed = true; }",
  s16: "integer { size = 16; align = 8; signed = true; }",
  s32: "integer { size = 32; align = 8; signed = true; }",
  s64: "integer { size = 64; align = 8; signed = true; }",
};

/** A TSDL string literal (the CTF grammar uses C escapes). */
export function tsdlString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function fieldDecl(name: string, type: FieldType): string {
  const id = `_${name}`;
  switch (type) {
    case "f64":
      return `floating_point { exp_dig = 11; mant_dig = 53; align = 8; byte_order = le; } ${id};`;
    case "string":
      return `string { encoding = UTF8; } ${id};`;
    case "bytes":
      return `${INT.u32} __${name}_length;\n\t\t${INT.u8} ${id}[__${name}_length];`;
    default:
      return `${INT[type]} ${id};`;
  }
}

function eventBlock(c: EventClass): string {
  const fields = c.fields.map((f) => `\t\t${fieldDecl(f.name, f.type)}`).join("\n");
  return [
    "event {",
    `\tname = ${tsdlString(c.name)};`,
    `\tid = ${c.id};`,
    "\tstream_id = 0;",
    c.fields.length === 0 ? "\tfields := struct { };" : `\tfields := struct {\n${fields}\n\t};`,
    "};",
    "",
  ].join("\n");
}

/**
 * The metadata text of a trace. The layout declared here matches the bytes the buffers write:
 * an 80-byte packet header + context, then records whose header is
 * `{ u32 id (64-bit aligned); u64 timestamp (64-bit aligned) }` and whose fields are packed.
 * The record size that the buffers keep in bytes 4..8 of the record sits in the alignment
 * padding before `timestamp`, whose content CTF readers do not interpret.
 */
export function ctfMetadata(
  schema: TraceSchema,
  clock: ClockInfo,
  uuid: string,
  env: Readonly<Record<string, string>>,
): string {
  const envLines = Object.entries(env)
    .map(([k, v]) => `\t${k} = ${tsdlString(v)};`)
    .join("\n");
  return `/* CTF 1.8 */

typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 32; signed = false; } := uint32_t;
typealias integer { size = 64; align = 64; signed = false; } := uint64_t;

trace {
\tmajor = 1;
\tminor = 8;
\tuuid = "${uuid}";
\tbyte_order = le;
\tpacket.header := struct {
\t\tuint32_t magic;
\t\tuint8_t uuid[16];
\t\tuint32_t stream_id;
\t};
};

env {
${envLines}
};

clock {
\tname = ${clock.name};
\tuuid = "${uuid}";
\tdescription = ${tsdlString(clock.description)};
\tfreq = ${clock.frequency};
\tprecision = 1;
\toffset_s = 0;
\toffset = 0;
\tabsolute = false;
};

typealias integer { size = 64; align = 64; signed = false; map = clock.${clock.name}.value; } := uint64_clock_t;

stream {
\tid = 0;
\tpacket.context := struct {
\t\tuint64_clock_t timestamp_begin;
\t\tuint64_clock_t timestamp_end;
\t\tuint64_t content_size;
\t\tuint64_t packet_size;
\t\tuint64_t packet_seq_num;
\t\tuint64_t events_discarded;
\t\tuint32_t cpu_id;
\t};
\tevent.header := struct {
\t\tinteger { size = 32; align = 64; signed = false; } id;
\t\tuint64_clock_t timestamp;
\t};
};

${schema.classes.map(eventBlock).join("\n")}`;
}
