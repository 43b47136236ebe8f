/**
 * The errors the writer throws at its API edge, with messages that say which event class and
 * field is involved and how to fix the call. Cold code, kept out of writer.ts.
 */
import { TraceBufferError } from "./errors.ts";
import { FIELD_TYPES, type TraceSchema } from "./schema.ts";

/** What each numeric type code accepts. */
const RANGE: readonly string[] = [
  "an integer from 0 to 255",
  "an integer from 0 to 65535",
  "an integer from 0 to 4294967295",
  "an integer from 0 to 2^53-1, or a bigint from 0 to 2^64-1",
  "an integer from -128 to 127",
  "an integer from -32768 to 32767",
  "an integer from -2147483648 to 2147483647",
  "an integer from -(2^53-1) to 2^53-1, or a bigint from -2^63 to 2^63-1",
  "a number",
  "a string without NUL characters (CTF strings end at NUL)",
  "a Uint8Array",
];

/** The JavaScript type each type code accepts. */
const JS_TYPE: readonly string[] = [
  "number",
  "number",
  "number",
  "number|bigint",
  "number",
  "number",
  "number",
  "number|bigint",
  "number",
  "string",
  "Uint8Array",
];

/** "event class "x" field 2 ("c", u64)" — where a write is. */
export function fieldWhere(schema: TraceSchema, cls: number, fi: number): string {
  const c = schema.classes[cls]!;
  const f = c.fields[fi];
  return f === undefined
    ? `event class "${c.name}" (all ${c.fields.length} fields written)`
    : `event class "${c.name}" field ${fi} ("${f.name}", ${f.type})`;
}

/** A setter called with no record reserved. */
export function noReservation(what: string): TraceBufferError {
  return new TraceBufferError(
    "NO_RESERVATION",
    `${what} called with no reserved record; call reserve() first`,
  );
}

/** The setter for type `code` called for field `fi` of class `cls`. */
export function wrongField(schema: TraceSchema, cls: number, fi: number, code: number): TraceBufferError {
  const setter = FIELD_TYPES[code]!;
  const f = schema.classes[cls]!.fields[fi];
  const where = fieldWhere(schema, cls, fi);
  return new TraceBufferError(
    f === undefined ? "FIELD_COUNT" : "FIELD_TYPE",
    f === undefined
      ? `${setter}() called after the last field of ${where}; the record was discarded`
      : `${setter}() called for ${where}; write it with ${f.type}(); the record was discarded`,
  );
}

/** A value of the wrong JavaScript type (FIELD_TYPE) or out of range (FIELD_VALUE). */
export function badValue(
  schema: TraceSchema,
  cls: number,
  fi: number,
  code: number,
  v: unknown,
): TraceBufferError {
  const jsType = JS_TYPE[code]!;
  const t = typeof v;
  const typeOk =
    jsType === "Uint8Array"
      ? v instanceof Uint8Array
      : jsType === "number|bigint"
        ? t === "number" || t === "bigint"
        : t === jsType;
  const shown = typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
  return new TraceBufferError(
    typeOk ? "FIELD_VALUE" : "FIELD_TYPE",
    `${fieldWhere(schema, cls, fi)} must be ${RANGE[code]}; got ${t} ${shown}; the record was discarded`,
  );
}

/** More variable-size bytes written than reserved. */
export function varOverflow(schema: TraceSchema, cls: number, fi: number, n: number): TraceBufferError {
  return new TraceBufferError(
    "VAR_SIZE",
    `${fieldWhere(schema, cls, fi)}: ${n} bytes do not fit in the varBytes given to reserve(); pass the total of utf8Length() of strings and lengths of byte arrays. The record was discarded`,
  );
}

/** A commit with fields missing (`fi` < field count) or variable bytes left over. */
export function commitIncomplete(
  schema: TraceSchema,
  cls: number,
  fi: number,
  unwritten: number,
): TraceBufferError {
  const c = schema.classes[cls]!;
  if (fi < c.fields.length) {
    const missing = c.fields.slice(fi).map((f) => `${f.name} (${f.type})`);
    return new TraceBufferError(
      "FIELD_COUNT",
      `commit() of event class "${c.name}" with fields not written: ${missing.join(", ")}; the record was discarded`,
    );
  }
  return new TraceBufferError(
    "VAR_SIZE",
    `commit() of event class "${c.name}": ${unwritten} of the reserved varBytes were not written; pass exactly the total of utf8Length() of strings and lengths of byte arrays. The record was discarded`,
  );
}

/** An unknown class id. */
export function unknownClass(schema: TraceSchema, id: unknown): TraceBufferError {
  return new TraceBufferError(
    "UNKNOWN_EVENT_CLASS",
    `unknown event class id ${String(id)}; the schema declares ids 0..${schema.classes.length - 1} (${schema.classes.map((c) => c.name).join(", ")})`,
  );
}

/** A bad `varBytes` argument. */
export function badVarBytes(
  schema: TraceSchema,
  cls: number,
  varBytes: number,
  variable: boolean,
): TraceBufferError {
  const name = schema.classes[cls]!.name;
  return new TraceBufferError(
    "VAR_SIZE",
    variable
      ? `varBytes must be a non-negative integer (got ${varBytes}) for "${name}"`
      : `event class "${name}" has no string or bytes field, so varBytes must be 0 (got ${varBytes})`,
  );
}

/** A timestamp that is not an integer number of ticks in range. */
export function badTimestamp(t: unknown): TraceBufferError {
  return new TraceBufferError(
    "FIELD_VALUE",
    `timestamp ${String(t)} is not an integer number of clock ticks from 0 to 2^53-1`,
  );
}
