/**
 * Event-class schemas: named event classes with named, typed fields, and the byte layout the
 * write path uses for them.
 *
 * A record in a buffer is a 16-byte header (event-class id, record size, 64-bit timestamp;
 * see layout.ts) followed by the fields in declaration order, packed (no padding between
 * fields), little-endian:
 *
 * | type | bytes | encoding |
 * | --- | --- | --- |
 * | `u8` `u16` `u32` `u64` | 1 2 4 8 | unsigned integer |
 * | `s8` `s16` `s32` `s64` | 1 2 4 8 | two's-complement integer |
 * | `f64` | 8 | IEEE 754 binary64 |
 * | `string` | UTF-8 length + 1 | UTF-8 bytes, then a NUL (a CTF `string`) |
 * | `bytes` | 4 + length | `u32` length, then the bytes (a CTF sequence of `u8`) |
 */
import { TraceBufferError } from "./errors.ts";

/** The type of one event field. See the module comment for the encoding of each. */
export type FieldType =
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "s8"
  | "s16"
  | "s32"
  | "s64"
  | "f64"
  | "string"
  | "bytes";

/**
 * How an event class is shown in the Chrome trace-event export (and nowhere else):
 * - `instant` (default): an instant event on the CPU's track.
 * - `begin` / `end`: the start / end of a duration slice on the CPU's track; slices nest and
 *   must be balanced per CPU, as in the Chrome format.
 * - `counter`: a counter track with one series per (numeric) field.
 */
export type EventKind = "instant" | "begin" | "end" | "counter";

/** Declaration of one event class, as passed to {@link defineSchema}. */
export interface EventClassSpec {
  /** Fields in encoding order: name → type. Names match `/^[A-Za-z][A-Za-z0-9_]*$/`. */
  readonly fields?: Readonly<Record<string, FieldType>>;
  /** How the Chrome export shows this class; default `instant`. */
  readonly kind?: EventKind;
  /** Slice or counter name in the Chrome export; default the class name. */
  readonly span?: string;
}

/**
 * Declaration of a whole schema: event-class name → declaration. Class ids are given in
 * declaration order from 0. Names match `/^[A-Za-z_][A-Za-z0-9_.:-]*$/`.
 */
export type SchemaSpec = Readonly<Record<string, EventClassSpec>>;

/** One declared field of an event class. */
export interface FieldInfo {
  /** The field's name. */
  readonly name: string;
  /** The field's type. */
  readonly type: FieldType;
}

/** Type codes used inside the package (index into {@link FIELD_TYPES}). */
export const T_U8 = 0;
export const T_U16 = 1;
export const T_U32 = 2;
export const T_U64 = 3;
export const T_S8 = 4;
export const T_S16 = 5;
export const T_S32 = 6;
export const T_S64 = 7;
export const T_F64 = 8;
export const T_STRING = 9;
export const T_BYTES = 10;

/** Field types by type code. */
export const FIELD_TYPES: readonly FieldType[] = [
  "u8",
  "u16",
  "u32",
  "u64",
  "s8",
  "s16",
  "s32",
  "s64",
  "f64",
  "string",
  "bytes",
];

/** Fixed encoded size in bytes by type code (for `string` the NUL, for `bytes` the length). */
export const FIXED_SIZE: readonly number[] = [1, 2, 4, 8, 1, 2, 4, 8, 8, 1, 4];

/** Most fields one event class may declare. */
export const MAX_FIELDS = 64;

const CLASS_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const KINDS: readonly EventKind[] = ["instant", "begin", "end", "counter"];

/** A declared event class with its layout. Obtained from {@link TraceSchema}. */
export class EventClass {
  /** Class id: its index in declaration order; the CTF event id. */
  readonly id: number;
  /** Class name; the CTF event name. */
  readonly name: string;
  /** Fields in encoding order. */
  readonly fields: readonly FieldInfo[];
  /** How the Chrome export shows this class. */
  readonly kind: EventKind;
  /** Slice or counter name in the Chrome export. */
  readonly span: string;
  /** Field type codes in order (internal). */
  readonly codes: Uint8Array;
  /** Bytes of the payload that do not depend on values (all but string/bytes contents). */
  readonly fixedSize: number;
  /** True when a field is a `string` or `bytes`, so the record size depends on values. */
  readonly variable: boolean;
  /** Offset of each field from the payload start, or -1 after the first variable field. */
  readonly staticOffsets: Int32Array;

  /**
   * @param id - class id.
   * @param name - class name (already validated).
   * @param spec - the declaration (validated here).
   * @throws TraceBufferError `BAD_SCHEMA` on an invalid field name or type, or a counter with
   *   a non-numeric field.
   */
  constructor(id: number, name: string, spec: EventClassSpec) {
    this.id = id;
    this.name = name;
    const kind = spec.kind ?? "instant";
    if (!KINDS.includes(kind)) {
      throw new TraceBufferError(
        "BAD_SCHEMA",
        `event class "${name}": kind "${kind}" is not one of ${KINDS.join(", ")}`,
      );
    }
    this.kind = kind;
    this.span = spec.span ?? name;
    const entries = Object.entries(spec.fields ?? {});
    if (entries.length > MAX_FIELDS) {
      throw new TraceBufferError(
        "BAD_SCHEMA",
        `event class "${name}" declares ${entries.length} fields; at most ${MAX_FIELDS} are supported`,
      );
    }
    const fields: FieldInfo[] = [];
    this.codes = new Uint8Array(entries.length);
    this.staticOffsets = new Int32Array(entries.length);
    let fixed = 0;
    let variable = false;
    entries.forEach(([fieldName, type], i) => {
      if (!FIELD_NAME.test(fieldName)) {
        throw new TraceBufferError(
          "BAD_SCHEMA",
          `event class "${name}": field name "${fieldName}" must match /^[A-Za-z][A-Za-z0-9_]*$/ (at most 64 characters)`,
        );
      }
      const code = FIELD_TYPES.indexOf(type);
      if (code < 0) {
        throw new TraceBufferError(
          "BAD_SCHEMA",
          `event class "${name}": field "${fieldName}" has unknown type "${String(type)}"; use one of ${FIELD_TYPES.join(", ")}`,
        );
      }
      if (this.kind === "counter" && code >= T_STRING) {
        throw new TraceBufferError(
          "BAD_SCHEMA",
          `event class "${name}" is a counter, so its field "${fieldName}" must be numeric, not ${type}`,
        );
      }
      this.codes[i] = code;
      this.staticOffsets[i] = variable ? -1 : fixed;
      fixed += FIXED_SIZE[code]!;
      if (code >= T_STRING) variable = true;
      fields.push({ name: fieldName, type });
    });
    this.fields = fields;
    this.fixedSize = fixed;
    this.variable = variable;
  }

  /**
   * Index of the field called `name`.
   * @throws TraceBufferError `FIELD_TYPE` when the class has no such field.
   */
  fieldIndex(name: string): number {
    const i = this.fields.findIndex((f) => f.name === name);
    if (i < 0) {
      throw new TraceBufferError(
        "FIELD_TYPE",
        `event class "${this.name}" has no field "${name}"; its fields are: ${this.fields.map((f) => f.name).join(", ") || "(none)"}`,
      );
    }
    return i;
  }
}

/** A validated schema: the event classes a set of buffers can hold. */
export class TraceSchema {
  /** Event classes by id. */
  readonly classes: readonly EventClass[];
  /** The declaration this schema was built from (plain data; can be sent to workers). */
  readonly spec: SchemaSpec;
  readonly #byName: Map<string, EventClass>;

  /**
   * Use {@link defineSchema}.
   * @throws TraceBufferError `BAD_SCHEMA` when the declaration is invalid.
   */
  constructor(spec: SchemaSpec) {
    if (spec === null || typeof spec !== "object") {
      throw new TraceBufferError(
        "BAD_SCHEMA",
        "a schema must be an object mapping event-class names to declarations",
      );
    }
    const names = Object.keys(spec);
    if (names.length === 0)
      throw new TraceBufferError("BAD_SCHEMA", "a schema must declare at least one event class");
    if (names.length > 0xffff) {
      throw new TraceBufferError(
        "BAD_SCHEMA",
        `a schema may declare at most 65535 event classes, not ${names.length}`,
      );
    }
    this.#byName = new Map();
    this.classes = names.map((name, id) => {
      if (!CLASS_NAME.test(name)) {
        throw new TraceBufferError(
          "BAD_SCHEMA",
          `event class name "${name}" must match /^[A-Za-z_][A-Za-z0-9_.:-]*$/ (at most 128 characters)`,
        );
      }
      const c = new EventClass(id, name, spec[name] ?? {});
      this.#byName.set(name, c);
      return c;
    });
    this.spec = spec;
  }

  /**
   * The id of the event class called `name`.
   * @throws TraceBufferError `UNKNOWN_EVENT_CLASS` when the schema has no such class.
   */
  id(name: string): number {
    return this.byName(name).id;
  }

  /**
   * The event class called `name`.
   * @throws TraceBufferError `UNKNOWN_EVENT_CLASS` when the schema has no such class.
   */
  byName(name: string): EventClass {
    const c = this.#byName.get(name);
    if (c === undefined) {
      throw new TraceBufferError(
        "UNKNOWN_EVENT_CLASS",
        `unknown event class "${name}"; the schema declares: ${[...this.#byName.keys()].join(", ")}`,
      );
    }
    return c;
  }

  /**
   * The event class with id `id`.
   * @throws TraceBufferError `UNKNOWN_EVENT_CLASS` when `id` is not a declared class id.
   */
  byId(id: number): EventClass {
    const c = Number.isInteger(id) ? this.classes[id] : undefined;
    if (c === undefined) {
      throw new TraceBufferError(
        "UNKNOWN_EVENT_CLASS",
        `unknown event class id ${id}; this schema declares ids 0..${this.classes.length - 1}`,
      );
    }
    return c;
  }
}

/**
 * Validate and build a schema.
 *
 * @example
 * const schema = defineSchema({
 *   sample: { fields: { a: "u64", b: "u64", c: "u64" } },
 *   request_begin: { fields: { id: "u32", url: "string" }, kind: "begin", span: "request" },
 *   request_end: { fields: { id: "u32" }, kind: "end", span: "request" },
 * });
 * @throws TraceBufferError `BAD_SCHEMA` when a name, field type or kind is invalid.
 */
export function defineSchema(spec: SchemaSpec): TraceSchema {
  return new TraceSchema(spec);
}
