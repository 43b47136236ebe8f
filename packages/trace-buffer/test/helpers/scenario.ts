/**
 * A schema with every field type, value generators that hit the edges (extremes, quotes,
 * newlines, backslashes, non-ASCII), a record of what a test wrote, and the comparison of
 * babeltrace2's view of an event with the written one.
 */
import { expect } from "vitest";
import {
  defineSchema,
  type FieldType,
  type FieldValue,
  type TraceSchema,
  type TraceWriter,
} from "../../src/index.ts";
import { asPrintedDouble, type BtEvent, type BtValue } from "./babeltrace.ts";
import type { Rng } from "./random.ts";

/** Event classes used by the CTF and Chrome tests. */
export const SCHEMA: TraceSchema = defineSchema({
  all: {
    fields: {
      u8: "u8",
      u16: "u16",
      u32: "u32",
      u64: "u64",
      s8: "s8",
      s16: "s16",
      s32: "s32",
      s64: "s64",
      f: "f64",
      text: "string",
      data: "bytes",
    },
  },
  sample: { fields: { a: "u64", b: "u64", c: "u64" } },
  marker: {},
  "sched:switch": { fields: { prev: "string", next: "string", cpu: "u32" } },
  irq_entry: { fields: { vector: "u8", ip: "u64" }, kind: "begin", span: "irq" },
  irq_exit: { fields: { vector: "u8" }, kind: "end", span: "irq" },
  queue: { fields: { depth: "u32", load: "f64" }, kind: "counter" },
});

/**
 * Strings that must survive export unchanged. No empty string: babeltrace2 2.0.4 prints an
 * empty string field with the previous event's value (see ctf-babeltrace.test.ts).
 */
export const NASTY_STRINGS: readonly string[] = [
  "plain",
  'say "hi"',
  "back\\slash",
  "line1\nline2\n",
  "tab\there\rcr",
  "é è ü ß",
  "✓ → ∞",
  "😀 emoji",
  "漢字かな",
  '{"json":["in",1]}',
  "quote' and \" both",
];

/** One event a test wrote (and the writer accepted). */
export interface Written {
  readonly cpu: number;
  readonly ts: number;
  readonly name: string;
  readonly values: readonly FieldValue[];
}

const U64_EDGES: readonly (number | bigint)[] = [
  0,
  1,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  0xffffffffffffffffn,
  1n << 63n,
];
const S64_EDGES: readonly (number | bigint)[] = [
  0,
  -1,
  -(2 ** 53 - 1),
  2 ** 53 - 1,
  -0x8000000000000000n,
  0x7fffffffffffffffn,
];
const F64_EDGES: readonly number[] = [
  0,
  -1.5,
  0.1,
  1 / 3,
  1e300,
  -2.5e-300,
  123456.789,
  Number.NaN,
  Number.POSITIVE_INFINITY,
];

function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[rng.int(a.length)]!;
}

/** A random value of `type` (often an edge value). */
export function randomValue(rng: Rng, type: FieldType): FieldValue {
  const edge = rng.chance(0.3);
  switch (type) {
    case "u8":
      return edge ? pick(rng, [0, 255]) : rng.int(256);
    case "u16":
      return edge ? pick(rng, [0, 65535]) : rng.int(65536);
    case "u32":
      return edge ? pick(rng, [0, 4294967295]) : rng.next();
    case "u64":
      return edge ? pick(rng, U64_EDGES) : rng.next() * 2048 + rng.int(2048);
    case "s8":
      return edge ? pick(rng, [-128, 127]) : rng.int(256) - 128;
    case "s16":
      return edge ? pick(rng, [-32768, 32767]) : rng.int(65536) - 32768;
    case "s32":
      return edge ? pick(rng, [-2147483648, 2147483647]) : rng.next() | 0;
    case "s64":
      return edge ? pick(rng, S64_EDGES) : (rng.next() - 2147483648) * 1024;
    case "f64":
      return edge ? pick(rng, F64_EDGES) : (rng.next() - 2147483648) / 1000;
    case "string":
      return pick(rng, NASTY_STRINGS) + (rng.chance(0.5) ? ` #${rng.int(1000)}` : "");
    case "bytes": {
      const b = new Uint8Array(rng.int(12));
      for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
      return b;
    }
  }
}

/** Random values for every field of class `name`. */
export function randomValues(rng: Rng, schema: TraceSchema, name: string): FieldValue[] {
  return schema.byName(name).fields.map((f) => randomValue(rng, f.type));
}

/** Write one event with the cursor API (reserve, setters, commit); returns false when dropped. */
export function writeWithSetters(
  w: TraceWriter,
  name: string,
  ts: number,
  values: readonly FieldValue[],
): boolean {
  const cls = w.schema.byName(name);
  let varBytes = 0;
  cls.fields.forEach((f, i) => {
    const v = values[i]!;
    if (f.type === "string") varBytes += new TextEncoder().encode(v as string).length;
    if (f.type === "bytes") varBytes += (v as Uint8Array).length;
  });
  if (!w.reserve(cls.id, ts, varBytes)) return false;
  cls.fields.forEach((f, i) => {
    const v = values[i]!;
    switch (f.type) {
      case "u8":
        w.u8(v as number);
        break;
      case "u16":
        w.u16(v as number);
        break;
      case "u32":
        w.u32(v as number);
        break;
      case "u64":
        w.u64(v as number | bigint);
        break;
      case "s8":
        w.s8(v as number);
        break;
      case "s16":
        w.s16(v as number);
        break;
      case "s32":
        w.s32(v as number);
        break;
      case "s64":
        w.s64(v as number | bigint);
        break;
      case "f64":
        w.f64(v as number);
        break;
      case "string":
        w.string(v as string);
        break;
      case "bytes":
        w.bytes(v as Uint8Array);
        break;
    }
  });
  w.commit();
  return true;
}

/** Assert that babeltrace2's event `bt` shows exactly the written event `w`. */
export function expectSameEvent(schema: TraceSchema, bt: BtEvent, w: Written): void {
  const where = `event at ${w.ts} on CPU ${w.cpu}`;
  expect(bt.name, where).toBe(w.name);
  expect(bt.cycles, where).toBe(BigInt(w.ts));
  expect(bt.cpu, where).toBe(w.cpu);
  const cls = schema.byName(w.name);
  const expectedNames: string[] = [];
  cls.fields.forEach((f, i) => {
    const v = w.values[i]!;
    const got = bt.fields[f.name];
    const at = `${where}, field ${f.name}`;
    expectedNames.push(f.name);
    switch (f.type) {
      case "f64": {
        const shown = typeof got === "bigint" ? Number(got) : (got as number);
        const want = asPrintedDouble(v as number);
        if (Number.isNaN(want)) expect(Number.isNaN(shown), at).toBe(true);
        else expect(shown, at).toBe(want === 0 ? shown : want);
        if (want === 0) expect(shown, at).toBe(0);
        break;
      }
      case "string":
        expect(got, at).toBe(v);
        break;
      case "bytes": {
        expectedNames.push(`_${f.name}_length`);
        const b = v as Uint8Array;
        expect(bt.fields[`_${f.name}_length`], at).toBe(BigInt(b.length));
        expect(got, at).toEqual([...b].map((x) => BigInt(x)));
        break;
      }
      default:
        expect(got, at).toBe(BigInt(v as number | bigint));
    }
  });
  expect(Object.keys(bt.fields).sort(), where).toEqual(expectedNames.sort());
}

/** The babeltrace2 value type, for tests that look at a single field. */
export type { BtValue };
