/**
 * The INT3 handler of the batch protocol and its published table (XMC-MODEL.md invariants 4
 * and 5). The table is published before the first INT3 is written and retired only when no
 * CPU can be inside the handler: the patcher holds one reference while the table is live, a
 * trapping CPU takes one (increment-if-not-zero) with the trap delivery and drops it after
 * emulating, and retirement drops the patcher's reference and waits for zero.
 * @module
 */
import { emulate, type PatchInsn } from "./insn.ts";
import type { Int3Handler, Int3Trap, TrapOutcome } from "./port.ts";

/** A published table: sites sorted by address, each with the instruction to emulate. */
export class Int3Table {
  /** Site addresses, ascending. */
  readonly addrs: Float64Array;
  /** The instruction to emulate per site (same order). */
  readonly insns: readonly PatchInsn[];
  /** References: the patcher's one while live, plus one per CPU inside the handler. */
  refs = 0;
  /** Set when retired (its memory is then as good as freed). */
  retired = false;
  /** INT3 traps at this table's sites, and how many were emulated. */
  hits = 0;
  emulated = 0;

  constructor(sites: readonly { addr: number; insn: PatchInsn }[]) {
    // SAFETY: callers pass sites sorted by address (validateBatch sorts them).
    this.addrs = Float64Array.from(sites, (s) => s.addr);
    this.insns = sites.map((s) => s.insn);
  }

  /** Index of the site at `addr` (binary search), or -1. */
  find(addr: number): number {
    const a = this.addrs;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid]!;
      if (v === addr) return mid;
      if (v < addr) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/**
 * The claim on INT3 traps that a patcher registers once with its port. With `refcount` off
 * (unsafe, for the checker) the handler only reads the table pointer, as a protocol that
 * guesses when the table may be freed would.
 */
export class Int3Claim {
  /** The live table, if any. */
  current: Int3Table | undefined;
  /** Take references (the safe protocol); false models freeing on a guess. */
  refcount = true;
  /** The handler to register with the port. */
  readonly handler: Int3Handler = (trap: Int3Trap) => this.handle(trap);

  /** Publish `t`: from now on, traps at its sites are emulated. */
  publish(t: Int3Table): void {
    t.refs = 1;
    t.retired = false;
    this.current = t;
  }

  /** Unpublish `t` and mark it freed (call once no CPU can be inside the handler). */
  retire(t: Int3Table): void {
    if (this.current === t) this.current = undefined;
    t.retired = true;
  }

  private *handle(trap: Int3Trap): Generator<void, TrapOutcome, void> {
    // Step 1, with the trap delivery: get the table (increment-if-not-zero).
    const t = this.current;
    if (!t) return "declined";
    const counted = this.refcount;
    if (counted) {
      if (t.refs <= 0) return "declined";
      t.refs++;
    }
    yield;
    // Step 2: find the site and emulate the new instruction. A table freed in between (only
    // possible without references) has nothing in it.
    let out: TrapOutcome = "declined";
    const i = t.retired ? -1 : t.find(trap.address);
    if (i >= 0) {
      t.hits++;
      out = emulate(trap.cpu, trap.address, t.insns[i]!);
      if (out === "handled") t.emulated++;
    }
    if (counted) t.refs--;
    return out;
  }
}
