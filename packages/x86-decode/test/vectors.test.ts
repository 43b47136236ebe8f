/**
 * Test vectors (test/vectors/decode{64,32}.txt): one case per line, `hex | length | AT&T |
 * Intel`, generated from every entry of the opcode data and answered by GNU objdump
 * (scripts/vectors.ts). Our decoder must give the same length and texts, except for the
 * differences listed in test/known-differences.txt.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { decode, formatAtt, formatIntel, Instruction, instructionLength } from "../src/index.ts";
import { explain, loadKnownDifferences } from "./support/objdump.ts";

const known = loadKnownDifferences(join(import.meta.dirname, "known-differences.txt"));

function load(mode: 32 | 64) {
  return readFileSync(join(import.meta.dirname, `vectors/decode${mode}.txt`), "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [body, form = ""] = l.split("   # ");
      const [hex, len, att, intel] = body!.split(" | ");
      return { hex: hex!, len: Number(len), att: att!, intel: intel!, form };
    });
}

for (const mode of [64, 32] as const) {
  describe(`${mode}-bit vectors`, () => {
    const cases = load(mode);
    test(`${cases.length} cases match objdump`, () => {
      const insn = new Instruction();
      const failures: string[] = [];
      for (const c of cases) {
        const bytes = Uint8Array.from(Buffer.from(c.hex, "hex"));
        const len = decode(bytes, 0, 0, mode, insn);
        const fast = instructionLength(bytes, 0, mode);
        const elf = { symbolize: () => undefined };
        const att = len ? formatAtt(insn, elf).replace(/\s+#.*$/, "") : "(bad)";
        const intel = len ? formatIntel(insn, elf).replace(/\s+#.*$/, "") : "(bad)";
        const expAtt = c.att.replace(/\s+#.*$/, "");
        const expIntel = c.intel.replace(/\s+#.*$/, "");
        const explained = explain(
          { address: 0, hex: c.hex, objdump: c.att, ours: len ? formatAtt(insn, elf) : "(bad)" },
          known,
        );
        const okLen =
          (len === c.len && fast === c.len) || (explained !== undefined && fast === (len || -insn.error));
        const mAtt = { address: 0, hex: c.hex, objdump: expAtt, ours: att };
        const mIntel = { address: 0, hex: c.hex, objdump: expIntel, ours: intel };
        const okAtt = att === expAtt || explain(mAtt, known);
        const okIntel = intel === expIntel || explain(mIntel, known);
        if (!okLen || !okAtt || !okIntel)
          failures.push(
            `${c.hex} (${c.form}): objdump ${c.len} "${expAtt}" / "${expIntel}"; ours ${len}/${fast} "${att}" / "${intel}"`,
          );
      }
      expect(failures.slice(0, 40)).toEqual([]);
    });
  });
}
