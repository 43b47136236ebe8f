/**
 * Checking scenarios as programs, independent of any machine: N CPUs loop through patch
 * sites (NOP5 <-> JMP32, NOP5 <-> CALL32, NOP2 <-> JMP8, Jcc32 condition changes, the jmp2
 * marker) while a patching CPU patches them forward and back. Each site's old path counts in
 * RAX and its new path in RBX (for CALL32 the called function moves one count from RAX to
 * RBX), so that every CPU's RAX + RBX is the same with or without patching, whichever paths
 * it took. A backend loads {@link ScenarioProgram.code} at {@link ScenarioProgram.base},
 * starts every CPU at the base with the stack {@link scenarioStack} gives, and hands the
 * batches to the checker ({@link preciseScenario} does all of it for machines shaped like
 * cpu-sim's precise machine).
 * @module
 */
import { encodeCall32, encodeJcc32, encodeJmp8, encodeJmp32, encodeNop } from "@xmc/x86-decode";
import { Emitter } from "./asm.ts";
import type { PatchSite } from "./validate.ts";

/** Site kinds: the pair of instructions a site is patched between. */
export type SiteKind = "nop5-jmp32" | "nop5-call32" | "nop2-jmp8" | "jcc32" | "jmp2";

/** Every site kind, in the order the checker reports them. */
export const SITE_KINDS: readonly SiteKind[] = ["nop5-jmp32", "nop5-call32", "nop2-jmp8", "jcc32", "jmp2"];

/** Options of a scenario program. */
export interface ScenarioProgramOptions {
  /** Kinds of the sites, one per site. */
  kinds: readonly SiteKind[];
  /** Passes each CPU makes through all sites (default 2). */
  iterations?: number;
  /** Offset of each site within its 16-byte fetch block (default: sites straddle a block boundary). */
  siteOffset?: (i: number, kind: SiteKind) => number;
  /** Only patch forward (no second batch back). */
  forwardOnly?: boolean;
}

/** A scenario's code, its sites and the batches that patch them. */
export interface ScenarioProgram {
  /** Load address of the code; every CPU starts here. */
  readonly base: number;
  readonly code: Uint8Array;
  /** The sites, patched from their old to their new instruction. */
  readonly sites: PatchSite[];
  /** Forward, then back (unless `forwardOnly`). */
  readonly batches: readonly (readonly PatchSite[])[];
}

/** Load address of scenario programs. */
export const SCENARIO_BASE = 0x10000;

/** Top of CPU `i`'s stack in a scenario (1 MiB apart, well above the code). */
export function scenarioStack(i: number): number {
  return 0x7000000 + i * 0x100000;
}

function pair(kind: SiteKind, site: number, target: number, fn: number): [Uint8Array, Uint8Array] {
  switch (kind) {
    case "nop5-jmp32":
      return [encodeNop(5), encodeJmp32(site, target)];
    case "nop5-call32":
      return [encodeNop(5), encodeCall32(site, fn)];
    case "nop2-jmp8":
      return [encodeNop(2), encodeJmp8(site, target)];
    case "jcc32":
      return [encodeJcc32("e", site, target), encodeJcc32("ne", site, target)];
    case "jmp2":
      return [Uint8Array.of(0xeb, 0x03, 0x0f, 0x1f, 0x00), encodeJmp32(site, target)];
  }
}

function defaultOffset(_i: number, kind: SiteKind): number {
  // Straddle a fetch-block boundary (16-byte blocks), the hardest placement: for NOP2/JMP8 and
  // Jcc32 (whose condition change rewrites only byte 1) the first byte alone in its block.
  return kind === "nop2-jmp8" || kind === "jcc32" ? 15 : 14;
}

/** Build a scenario program: code, sites and batches (forward, then back). */
export function scenarioProgram(o: ScenarioProgramOptions): ScenarioProgram {
  const iterations = o.iterations ?? 2;
  const off = o.siteOffset ?? defaultOffset;
  const e = new Emitter(SCENARIO_BASE);
  e.label("start");
  e.emit(0xb9, iterations & 0xff, (iterations >> 8) & 0xff, 0, 0); // mov $iterations, %ecx
  e.emit(0x31, 0xc0); // xor %eax, %eax
  e.emit(0x31, 0xdb); // xor %ebx, %ebx
  const n = o.kinds.length;
  o.kinds.forEach((kind, i) => {
    const pre = kind === "jcc32" ? 3 : 0;
    e.alignTo(16, (off(i, kind) - pre + 16) % 16, encodeNop);
    e.label(`blk${i}`);
    if (kind === "jcc32") e.emit(0xf6, 0xc1, 0x01); // test $1, %cl
    e.label(`site${i}`);
    const len = kind === "nop2-jmp8" ? 2 : kind === "jcc32" ? 6 : 5;
    if (kind === "jcc32") e.rel32([0x0f, 0x84], `new${i}`);
    else if (kind === "jmp2") e.emit(0xeb, 0x03, 0x0f, 0x1f, 0x00);
    else e.emit(encodeNop(len));
    e.emit(0xff, 0xc0); // inc %eax
    e.rel32([0xe9], `blk${i + 1}`);
    e.label(`new${i}`);
    e.emit(0xff, 0xc3); // inc %ebx
    e.rel32([0xe9], `blk${i + 1}`);
    e.label(`fn${i}`);
    e.emit(0xff, 0xc3, 0xff, 0xc8, 0xc3); // inc %ebx; dec %eax; ret
  });
  e.alignTo(16, 0, encodeNop);
  e.label(`blk${n}`);
  e.emit(0xff, 0xc9); // dec %ecx
  e.rel32([0x0f, 0x85], "blk0"); // jnz blk0
  e.emit(0xf4); // hlt
  const code = e.finish();
  const sites: PatchSite[] = o.kinds.map((kind, i) => {
    const site = e.addr(`site${i}`);
    const [a, b] = pair(kind, site, e.addr(`new${i}`), e.addr(`fn${i}`));
    return { addr: site, from: e.addr(`blk${i}`), old: a, new: b };
  });
  const back = sites.map((s) => ({ ...s, old: s.new, new: s.old }));
  return { base: SCENARIO_BASE, code, sites, batches: o.forwardOnly ? [sites] : [sites, back] };
}
