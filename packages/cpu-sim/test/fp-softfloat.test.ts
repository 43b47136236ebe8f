/**
 * The 80-bit soft-float core (src/fpu/softfloat.ts) against values computed natively:
 * test/fp/ld80.c is built with gcc and run on this machine's CPU; every add/sub/mul/div/sqrt/
 * frndint line (operands, result, exception flags and C1, under each precision and rounding
 * control) and every FST m64/m32 conversion is recomputed here and must agree bit for bit.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { afterAll, describe, expect, it } from "vitest";
import * as sf from "../src/fpu/softfloat.ts";

const run = requireTools("gcc");

function parse80(h: string): sf.SF {
  return sf.unpack80(Number.parseInt(h.slice(0, 4), 16), BigInt(`0x${h.slice(4)}`));
}
function hex80(x: sf.SF): string {
  const m = sf.pack80(x);
  return sf.se80.toString(16).padStart(4, "0") + m.toString(16).padStart(16, "0");
}
function fmtOf(pc: number): sf.Fmt {
  return pc === 0 ? sf.F80P24 : pc === 2 ? sf.F80P53 : sf.F80;
}
/** Status bits as the x87 reports them: IE/ZE suppress DE; C1 = rounded up. */
function status(): number {
  let f = sf.flags;
  if (f & (sf.IE | sf.ZE)) f &= ~sf.DE;
  return f | (sf.roundedUp && !(f & sf.IE) ? 0x200 : 0);
}
/** FST to a narrower format: no #D; NaNs quieted (IE for SNaN). */
function store(x: sf.SF, f: sf.Fmt, rc: number, ebits: number, fbits: number): [string, number] {
  sf.clearFlags();
  let r: sf.SF;
  if (x.cls === sf.UNSUP) {
    sf.raise(sf.IE);
    r = sf.indefinite();
  } else if (x.cls === sf.NAN) {
    if (sf.isSNaN(x)) sf.raise(sf.IE);
    r = sf.quiet(x);
  } else r = sf.round(x, f, rc);
  return [
    sf
      .packIEEE(r, ebits, fbits)
      .toString(16)
      .padStart((1 + ebits + fbits) / 4, "0"),
    status(),
  ];
}

describe.skipIf(!run)("80-bit soft float vs the native x87", () => {
  const dir = mkdtempSync(join(tmpdir(), "xmc-ld80-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, "ld80");
  let lines: string[] = [];
  if (run) {
    execFileSync("gcc", ["-O1", "-o", exe, join(import.meta.dirname, "fp", "ld80.c")]);
    lines = execFileSync(exe, ["400"], { maxBuffer: 1 << 28 })
      .toString()
      .trim()
      .split("\n");
  }

  it("arithmetic, square root and FRNDINT agree with the CPU", () => {
    const bad: string[] = [];
    let n = 0;
    for (const line of lines) {
      const [op, pcs, rcs, A, B, R, sw] = line.split(" ");
      if (!["add", "sub", "mul", "div", "sqrt", "rndint"].includes(op!)) continue;
      const pc = Number(pcs);
      const rc = Number(rcs);
      sf.clearFlags();
      const a = parse80(A!);
      const b = parse80(B!);
      let r: sf.SF;
      if (op === "rndint") {
        if (a.cls === sf.UNSUP) {
          sf.raise(sf.IE);
          r = sf.indefinite();
        } else if (a.cls === sf.NAN) r = sf.propagateNaN(a, a, true);
        else r = sf.roundIntegral(a, rc);
      } else {
        const code = { add: sf.OP_ADD, sub: sf.OP_SUB, mul: sf.OP_MUL, div: sf.OP_DIV, sqrt: sf.OP_SQRT }[
          op as "add"
        ];
        r = sf.arith(code, a, op === "sqrt" ? a : b, fmtOf(pc), rc, false, true);
      }
      const got = `${hex80(r)} ${status().toString(16).padStart(4, "0")}`;
      n++;
      if (got !== `${R} ${sw}`) bad.push(`${line}  → got ${got}`);
    }
    expect(n).toBeGreaterThan(10_000);
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it("FST m64/m32 rounding agrees with the CPU", () => {
    const bad: string[] = [];
    let n = 0;
    for (const line of lines) {
      const f = line.split(" ");
      if (f[0] !== "fstl") continue;
      const rc = Number(f[2]);
      const x = parse80(f[3]!);
      const [d, dsw] = store(x, sf.F64, rc, 11, 52);
      const [s, ssw] = store(x, sf.F32, rc, 8, 23);
      const got = `${d} ${dsw.toString(16).padStart(4, "0")} ${s} ${ssw.toString(16).padStart(4, "0")}`;
      n++;
      if (got !== f.slice(4, 8).join(" ")) bad.push(`${line}  → got ${got}`);
    }
    expect(n).toBeGreaterThan(1000);
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
