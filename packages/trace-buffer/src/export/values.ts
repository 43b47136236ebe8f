/** Turning field values into text and JSON for the exporters. */
import type { FieldValue } from "../writer.ts";

/** Lowercase hex of a byte array. */
export function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, "0");
  return s;
}

/** A field value as a JSON-safe value: bigints as decimal strings, bytes as hex strings. */
export function jsonValue(v: FieldValue): number | string {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return hex(v);
  return v;
}

/** A field value as text: numbers in decimal, strings quoted JSON-style (one line), bytes in hex. */
export function textValue(v: FieldValue): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof Uint8Array) return `0x${hex(v)}`;
  return String(v);
}
