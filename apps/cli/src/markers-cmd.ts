/**
 * `xmc markers PROGRAM [--json]`: the marker sites of a program — our markers (xmc/marker.h),
 * USDT probes (.note.stapsdt, with semaphores) and function-entry sites
 * (-fpatchable-function-entry, -mrecord-mcount) — with kind, address, format, argument specs
 * and the function each is in.
 */
import { readFileSync } from "node:fs";
import { parseElf } from "@xmc/elf";
import { discoverSites, MarkerError, type MarkerSite } from "@xmc/markers";
import { parseArgs } from "./args.ts";
import { UsageError } from "./errors.ts";

export const MARKERS_HELP: string = `Usage: xmc markers [--json] PROGRAM

Lists the marker sites of an ELF program: xmc markers (XMC_MARKER from xmc/marker.h, kinds
nop5, jmp2 and call), USDT probes from .note.stapsdt (kind usdt, with their semaphores), and
function-entry sites (kind patchable from -fpatchable-function-entry=5, kind fentry from
-pg -mfentry -mnop-mcount -mrecord-mcount). Each line: address, kind, provider:name, the
function it is in, the format, and the argument specs in USDT's size@operand notation.

Options:
  --json   one JSON object per site per line:
           {"marker":"shop:request_start","provider":"shop","name":"request_start","kind":"nop5",
            "address":"0x40136f","length":5,"format":"%d %lu","args":["-4@%r9d","8@%rcx"],
            "function":"serve","semaphore":null,"flag":null}

Examples:
  xmc markers ./shop
  xmc markers --json ./shop | grep usdt
`;

/** A site as `--json` prints it. */
export function siteJson(s: MarkerSite): Record<string, unknown> {
  const hex = (n: number | undefined) => (n === undefined ? null : `0x${n.toString(16)}`);
  return {
    marker: `${s.provider}:${s.name}`,
    provider: s.provider,
    name: s.name,
    kind: s.kind,
    address: hex(s.address),
    length: s.length,
    format: s.derivedFormat && s.kind !== "usdt" ? null : s.format,
    args: s.args.map((a) => a.text),
    function: s.function ?? null,
    semaphore: hex(s.semaphore),
    flag: hex(s.flag),
    ...(s.problem ? { problem: s.problem } : {}),
  };
}

/** The sites of the ELF file at `path` (UsageError when unreadable; ElfError/MarkerError when malformed). */
export function readSites(path: string, command: string): { bytes: Uint8Array; sites: MarkerSite[] } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(
      `xmc ${command}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      1,
    );
  }
  try {
    return { bytes, sites: discoverSites(parseElf(bytes)) };
  } catch (e) {
    if (e instanceof MarkerError) throw new UsageError(`xmc ${command}: ${path}: ${e.message}`, 1);
    throw e;
  }
}

/** `xmc markers ...`; returns the exit status. */
export function markersCommand(argv: string[], out: (s: string) => void): number {
  const { flags, positional } = parseArgs(
    argv,
    { json: { value: false }, help: { value: false }, debug: { value: false } },
    "markers",
  );
  if (flags.has("help")) {
    out(MARKERS_HELP);
    return 0;
  }
  if (positional.length !== 1)
    throw new UsageError("xmc markers: give exactly one PROGRAM (see xmc markers --help)");
  const { sites } = readSites(positional[0]!, "markers");
  if (flags.has("json")) {
    for (const s of sites) out(`${JSON.stringify(siteJson(s))}\n`);
    return 0;
  }
  if (sites.length === 0) {
    out(`${positional[0]}: no marker sites\n`);
    return 0;
  }
  const rows = sites.map((s) => {
    const extra = [
      s.semaphore !== undefined ? `semaphore=0x${s.semaphore.toString(16)}` : "",
      s.flag !== undefined ? `flag=0x${s.flag.toString(16)}` : "",
      s.problem ? `PROBLEM: ${s.problem}` : "",
    ].filter((x) => x !== "");
    return [
      `0x${s.address.toString(16)}`,
      s.kind,
      `${s.provider}:${s.name}`,
      s.function ?? "?",
      s.derivedFormat ? "-" : JSON.stringify(s.format),
      [s.argsText || "-", ...extra].join("  "),
    ];
  });
  const head = ["ADDRESS", "KIND", "MARKER", "FUNCTION", "FORMAT", "ARGS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows])
    out(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}\n`);
  return 0;
}
