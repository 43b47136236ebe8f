/**
 * Developer tool: decode a section of FILE with our decoder and compare with GNU objdump
 * line by line; prints mismatches grouped by objdump's mnemonic.
 *
 *   npx tsx --conditions=@xmc/source scripts/objdiff.ts FILE [--intel] [--32] [--section .text] [--show N]
 */
import { compareWithObjdump } from "../test/support/objdump.ts";

const args = process.argv.slice(2);
const optionValue = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
const file = args.find((a, i) => !a.startsWith("--") && !/^--(section|show)$/.test(args[i - 1] ?? ""));
if (!file) {
  process.stderr.write("usage: objdiff.ts FILE [--intel] [--32] [--section NAME] [--show N]\n");
  process.exit(2);
}
const show = Number(optionValue("--show") ?? 3);
const r = compareWithObjdump(file, {
  intel: args.includes("--intel"),
  mode: args.includes("--32") ? 32 : 64,
  section: optionValue("--section") ?? ".text",
});
const counts = new Map<string, number>();
for (const m of r.textMismatches) {
  const key = m.objdump.split(/\s+/)[0] ?? "";
  const c = (counts.get(key) ?? 0) + 1;
  counts.set(key, c);
  if (c <= show)
    console.log(`${m.address.toString(16)} ${m.hex}\n   objdump: ${m.objdump}\n   ours:    ${m.ours}`);
}
console.log(
  `objdump instructions ${r.objdumpCount}, ours ${r.ourCount}, text mismatches ${r.textMismatches.length}, boundary mismatches ${r.boundaryMismatches.length}`,
);
console.log(
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 80)
    .map(([k, v]) => `${k}:${v}`)
    .join(" "),
);
