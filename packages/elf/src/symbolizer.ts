/**
 * Address → symbol lookup for disassemblers and profilers: symbols sorted by address in
 * typed arrays (high and low 32-bit halves), found by binary search without allocating.
 */
import { SHN, STB } from "./constants.ts";
import type { ElfSymbol } from "./types.ts";

/** The result of {@link Symbolizer.lookup}. */
export interface SymbolLookup {
  /** The symbol starting at or nearest before the address. */
  readonly symbol: ElfSymbol;
  /** Address minus the symbol's value, in bytes (>= 0). */
  readonly offset: bigint;
  /** True when the address is inside the symbol: offset < size, or offset 0 for a symbol of size 0. */
  readonly inside: boolean;
}

const TWO_32 = 4294967296;

function bindRank(bind: number): number {
  if (bind === STB.GLOBAL) return 3;
  if (bind === STB.WEAK || bind === STB.GNU_UNIQUE) return 2;
  return 1;
}

/** Higher is preferred when several symbols start at the same address. */
function preference(s: ElfSymbol): number {
  return bindRank(s.bind) * 4 + (s.size > 0 ? 2 : 0) + (s.version?.hidden === true ? 0 : 1);
}

/**
 * Maps addresses to the containing or nearest preceding symbol. When several symbols start at
 * the same address one is kept: GLOBAL over WEAK over LOCAL, then sized over unsized, then a
 * default version over a hidden one, then the one that came first in the input.
 */
export class Symbolizer {
  /** The kept symbols, sorted by address (ascending). */
  readonly symbols: readonly ElfSymbol[];
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;

  /**
   * @param symbols - candidates; undefined (SHN_UNDEF) symbols are ignored. Values are taken as
   *   addresses, so for a relocatable object pass the symbols of one section only.
   */
  constructor(symbols: readonly ElfSymbol[]) {
    const defined = symbols
      .map((s, order) => ({ s, order, pref: preference(s) }))
      .filter((e) => e.s.sectionIndex !== SHN.UNDEF);
    defined.sort((a, b) => {
      if (a.s.value !== b.s.value) return a.s.value < b.s.value ? -1 : 1;
      if (a.pref !== b.pref) return b.pref - a.pref;
      return a.order - b.order;
    });
    const kept: ElfSymbol[] = [];
    for (const e of defined) {
      const last = kept[kept.length - 1];
      if (last === undefined || last.value !== e.s.value) kept.push(e.s);
    }
    this.symbols = kept;
    this.hi = new Uint32Array(kept.length);
    this.lo = new Uint32Array(kept.length);
    for (let i = 0; i < kept.length; i++) {
      const v = kept[i]!.value;
      this.hi[i] = Number((v >> 32n) & 0xffffffffn);
      this.lo[i] = Number(v & 0xffffffffn);
    }
  }

  /** Number of symbols kept. */
  get size(): number {
    return this.symbols.length;
  }

  /**
   * Index into {@link symbols} of the symbol starting at or nearest before `address`, or -1
   * when the address is below every symbol. Allocates nothing for a number address; a number
   * must be a non-negative integer below 2^53.
   */
  indexOf(address: bigint | number): number {
    let hi: number;
    let lo: number;
    if (typeof address === "number") {
      hi = Math.floor(address / TWO_32);
      lo = address - hi * TWO_32;
    } else {
      hi = Number(BigInt.asUintN(64, address) >> 32n);
      lo = Number(address & 0xffffffffn);
    }
    const his = this.hi;
    const los = this.lo;
    let a = 0;
    let b = his.length; // invariant: entries [0, a) are <= address, [b, n) are > address
    while (a < b) {
      const m = (a + b) >>> 1;
      const mh = his[m]!;
      if (mh < hi || (mh === hi && los[m]! <= lo)) a = m + 1;
      else b = m;
    }
    return a - 1;
  }

  /** The symbol containing or nearest before `address`, with the offset into it; undefined below all symbols. */
  lookup(address: bigint | number): SymbolLookup | undefined {
    const i = this.indexOf(address);
    if (i < 0) return undefined;
    const symbol = this.symbols[i]!;
    const offset = BigInt(address) - symbol.value;
    const inside = symbol.size > 0 ? offset < BigInt(symbol.size) : offset === 0n;
    return { symbol, offset, inside };
  }
}
