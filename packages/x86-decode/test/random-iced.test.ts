/**
 * Random bytes (seeded): our decoder never throws, `instructionLength` agrees with `decode`,
 * and lengths and validity agree with the iced-x86 npm package in 64-bit mode; every class of
 * disagreement must be listed in test/iced-differences.txt with the SDM's answer.
 * Count: XMC_RANDOM_DECODES (default 10,000,000).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, test } from "vitest";
import { decode, Instruction, instructionLength } from "../src/index.ts";

const require = createRequire(import.meta.url);
const iced = require("iced-x86") as typeof import("iced-x86");

const N = Number(process.env.XMC_RANDOM_DECODES ?? 10_000_000);
const CHUNK = 65_536;

/** xorshift32: the seeded generator of every byte. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Fill 16 bytes biased towards every opcode space (escapes, VEX, EVEX, prefixes). */
function fillCase(buf: Uint8Array, at: number, next: () => number): void {
  for (let i = 0; i < 16; i += 4) {
    const r = next();
    buf[at + i] = r & 0xff;
    buf[at + i + 1] = (r >>> 8) & 0xff;
    buf[at + i + 2] = (r >>> 16) & 0xff;
    buf[at + i + 3] = r >>> 24;
  }
  const kind = next() & 15;
  switch (kind) {
    case 0:
    case 1:
      buf[at] = 0x0f;
      break;
    case 2:
      buf[at] = 0x0f;
      buf[at + 1] = 0x38;
      break;
    case 3:
      buf[at] = 0x0f;
      buf[at + 1] = 0x3a;
      break;
    case 4:
      buf[at] = 0xc5;
      break;
    case 5:
      buf[at] = 0xc4;
      buf[at + 1] = (buf[at + 1]! & 0xe0) | (1 + (next() % 3));
      break;
    case 6:
    case 7: {
      buf[at] = 0x62;
      const maps = [1, 2, 3, 5, 6];
      buf[at + 1] = (buf[at + 1]! & 0xf0) | maps[next() % 5]!;
      buf[at + 2] = buf[at + 2]! | 0x04;
      break;
    }
    case 8: {
      const pfx = [0x66, 0xf2, 0xf3];
      buf[at] = pfx[next() % 3]!;
      buf[at + 1] = 0x0f;
      break;
    }
    case 9:
      buf[at] = 0x40 | (next() & 15);
      break;
    default:
      break; // plain random
  }
}

interface Known {
  re: RegExp;
  why: string;
  hits: number;
}

function loadKnown(): Known[] {
  const text = readFileSync(new URL("./iced-differences.txt", import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const [re, why] = l.split("\t");
      return { re: new RegExp(`^(?:${re})`), why: why ?? "", hits: 0 };
    });
}

describe("random bytes vs iced-x86 (64-bit)", () => {
  test(`${N.toLocaleString("en")} seeded random decodes`, () => {
    const known = loadKnown();
    const next = rng(0x5eed1234);
    const buf = new Uint8Array(CHUNK * 16);
    const ours = new Instruction();
    const theirs = new iced.Instruction();
    const unexplained = new Map<string, { hex: string; ours: string; iced: string; count: number }>();
    let decoded = 0;
    let agreeValid = 0;
    let thrown = 0;
    for (let done = 0; done < N; done += CHUNK) {
      const n = Math.min(CHUNK, N - done);
      for (let k = 0; k < n; k++) fillCase(buf, k * 16, next);
      const d = new iced.Decoder(64, buf.subarray(0, n * 16), iced.DecoderOptions.None);
      try {
        for (let k = 0; k < n; k++) {
          const at = k * 16;
          let len = 0;
          try {
            len = decode(buf.subarray(at, at + 16), 0, 0x1000, 64, ours);
          } catch {
            thrown++;
            continue;
          }
          const fast = instructionLength(buf.subarray(at, at + 16), 0, 64);
          if ((len > 0 ? len : -ours.error) !== fast) thrown++;
          d.position = at;
          d.decodeOut(theirs);
          const icedValid = theirs.code !== iced.Code.INVALID;
          const icedLen = theirs.length;
          decoded++;
          const same = len > 0 === icedValid && (!icedValid || len === icedLen);
          if (same) {
            agreeValid++;
            continue;
          }
          const hex = Buffer.from(buf.subarray(at, at + 16)).toString("hex");
          const k2 = known.find((c) => c.re.test(hex));
          if (k2) {
            k2.hits++;
            continue;
          }
          // Group by the bytes up to the opcode (prefixes/escape + opcode) for the report.
          const key = hex.slice(0, 8);
          const e = unexplained.get(key);
          if (e) e.count++;
          else
            unexplained.set(key, {
              hex,
              ours: len > 0 ? `len ${len}` : `error ${ours.error}`,
              iced: icedValid ? `len ${icedLen}` : "invalid",
              count: 1,
            });
        }
      } finally {
        d.free();
      }
    }
    theirs.free();
    const worst = [...unexplained.values()].sort((a, b) => b.count - a.count).slice(0, 30);
    if (worst.length > 0) console.log("unexplained disagreements with iced (first 30 classes):", worst);
    console.log(
      `random decodes: ${decoded}, agree ${agreeValid}, explained: ${known
        .filter((k) => k.hits)
        .map((k) => `${k.why.slice(0, 40)}=${k.hits}`)
        .join("; ")}`,
    );
    expect(thrown).toBe(0);
    expect(worst).toEqual([]);
  });
});
