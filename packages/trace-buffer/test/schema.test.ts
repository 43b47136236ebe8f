/** Schemas: ids in declaration order, layouts, and clear errors for invalid declarations. */
import { describe, expect, it } from "vitest";
import { defineSchema, TraceBufferError } from "../src/index.ts";

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof TraceBufferError) return e.code;
    throw e;
  }
  throw new Error("did not throw");
}

describe("schema", () => {
  it("numbers classes in declaration order and computes their fixed sizes", () => {
    const s = defineSchema({
      a: { fields: { x: "u8", y: "u64", z: "f64" } },
      b: { fields: { n: "u16", s: "string", d: "bytes", t: "s32" }, kind: "begin", span: "work" },
      c: {},
    });
    expect(s.classes.map((c) => [c.id, c.name, c.fixedSize, c.variable, c.kind, c.span])).toEqual([
      [0, "a", 17, false, "instant", "a"],
      [1, "b", 2 + 1 + 4 + 4, true, "begin", "work"],
      [2, "c", 0, false, "instant", "c"],
    ]);
    expect([...s.byName("b").staticOffsets]).toEqual([0, 2, -1, -1]);
    expect(s.byName("b").fieldIndex("d")).toBe(2);
    expect(() => s.byName("b").fieldIndex("q")).toThrow(/has no field "q"; its fields are: n, s, d, t/);
    expect(s.byId(1).name).toBe("b");
    expect(codeOf(() => s.byId(3))).toBe("UNKNOWN_EVENT_CLASS");
  });

  it("refuses invalid declarations with a message naming the problem", () => {
    expect(() => defineSchema({})).toThrow(/at least one event class/);
    expect(() => defineSchema({ "bad name": {} })).toThrow(/event class name "bad name" must match/);
    expect(() => defineSchema({ a: { fields: { _x: "u8" } } })).toThrow(/field name "_x" must match/);
    expect(() => defineSchema({ a: { fields: { x: "u128" as never } } })).toThrow(
      /field "x" has unknown type "u128"; use one of u8, u16/,
    );
    expect(() => defineSchema({ a: { fields: { x: "string" }, kind: "counter" } })).toThrow(
      /counter, so its field "x" must be numeric/,
    );
    expect(() => defineSchema({ a: { kind: "span" as never } })).toThrow(/kind "span" is not one of/);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, "u8" as const]));
    expect(() => defineSchema({ a: { fields: many } })).toThrow(/65 fields; at most 64/);
    expect(codeOf(() => defineSchema({ "1a": {} }))).toBe("BAD_SCHEMA");
  });
});
