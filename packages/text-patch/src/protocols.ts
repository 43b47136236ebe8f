/**
 * The patching protocols, each a generator of steps over a {@link TextPort} (one privileged
 * store or one wait per step), returning its {@link PatchStats}.
 *
 * - `int3-batch` (Linux `text_poke_bp_batch` / `smp_text_poke_batch_finish`): publish the
 *   handler's table; INT3 over every first byte; sync; every tail; sync; every first byte;
 *   sync; retire the table when its reference count drops to zero. A step with nothing to write
 *   skips its sync.
 * - `early` (Linux `text_poke_early`): nothing else runs; plain stores, then serialize.
 * - `stop-machine`: park every CPU (IPI rendezvous), store, serialize and release them.
 * - `naive` (unsafe): plain stores while the other CPUs run.
 * - `jmp2` / `jmp2-sync` (unsafe): the "2-byte jmp + 3 NOPs" marker: write the bytes the jmp8
 *   skips, (sync,) then the 2-byte head as one store.
 * @module
 */
import type { Int3Claim } from "./handler.ts";
import { Int3Table } from "./handler.ts";
import type { PatchSteps, TextPort } from "./port.ts";
import type { PlannedSite } from "./validate.ts";

/** Protocol names. */
export type ProtocolName = "int3-batch" | "early" | "stop-machine" | "naive" | "jmp2" | "jmp2-sync";

/** Protocols that are never safe while other CPUs run (they need `unsafe: true`). */
export const UNSAFE_PROTOCOLS: readonly ProtocolName[] = ["naive", "jmp2", "jmp2-sync"];

/** Statistics of one protocol run. Cycles are modeled cycles. */
export interface PatchStats {
  /** The protocol that ran. */
  protocol: ProtocolName;
  /** Sites whose bytes changed (sites asked to keep their bytes are skipped). */
  sites: number;
  /** Modeled cycles of the patching CPU from the first step to the last. */
  cycles: number;
  /** Privileged stores to text. */
  stores: number;
  /** Syncs (IPI rounds) sent. */
  syncs: number;
  /** IPIs sent (targets summed over the syncs and rendezvous). */
  ipis: number;
  /** Cycles the other CPUs spent taking sync IPIs and serializing. */
  syncStallCycles: number;
  /** Cycles CPUs spent parked by stop-machine (including its IPI and the release sync). */
  parkedStallCycles: number;
  /** INT3 traps taken at the batch's sites while its table was live. */
  int3Hits: number;
  /** Of those, how many the handler emulated (the rest were declined: new INT3 sites). */
  int3Emulated: number;
}

/** Protocol-level options (the unsafe ones need `unsafe: true`). */
export interface ProtocolOptions {
  /** Store width in bytes for tails and plain writes: naturally aligned stores of at most this size (default 8). */
  width?: 1 | 2 | 4 | 8;
  /** int3-batch, unsafe: leave out sync 1 (after INT3), 2 (after the tails) or 3 (after the first bytes). */
  omitSync?: 1 | 2 | 3;
  /** int3-batch: take references on the handler's table (default true; false is unsafe). */
  refcount?: boolean;
}

/** A fresh statistics record. */
export function newStats(protocol: ProtocolName): PatchStats {
  return {
    protocol,
    sites: 0,
    cycles: 0,
    stores: 0,
    syncs: 0,
    ipis: 0,
    syncStallCycles: 0,
    parkedStallCycles: 0,
    int3Hits: 0,
    int3Emulated: 0,
  };
}

/**
 * Split [addr, addr+len) into naturally aligned stores of 1, 2, 4 or 8 bytes, none wider than
 * `width`; calls `store(offset, size)` for each, in address order.
 */
export function splitStores(
  addr: number,
  len: number,
  width: number,
  store: (off: number, size: number) => void,
): void {
  let off = 0;
  while (off < len) {
    const a = addr + off;
    let size = width;
    while (size > 1 && (a % size !== 0 || size > len - off)) size >>= 1;
    store(off, size);
    off += size;
  }
}

function* storeRange(
  port: TextPort,
  st: PatchStats,
  addr: number,
  bytes: Uint8Array,
  width: number,
): PatchSteps<void> {
  const stores: [number, number][] = [];
  splitStores(addr, bytes.length, width, (off, size) => stores.push([off, size]));
  for (const [off, size] of stores) {
    port.write(addr + off, bytes.subarray(off, off + size));
    st.stores++;
    yield;
  }
}

function* sync(port: TextPort, st: PatchStats): PatchSteps<void> {
  const h = port.syncAll();
  st.syncs++;
  st.ipis += h.targets;
  yield { wait: () => h.done(), why: "sync_core acknowledgements" };
  st.syncStallCycles += h.stallCycles();
}

function changed(s: PlannedSite): boolean {
  for (let i = 0; i < s.old.length; i++) if (s.old[i] !== s.new[i]) return true;
  return false;
}

/** The INT3 batch protocol over sorted, validated sites. */
export function* int3Batch(
  port: TextPort,
  claim: Int3Claim,
  plan: readonly PlannedSite[],
  opts: ProtocolOptions,
): PatchSteps<PatchStats> {
  const st = newStats("int3-batch");
  const t0 = port.cycles();
  const sites = plan.filter(changed);
  st.sites = sites.length;
  if (sites.length === 0) return st;
  const width = opts.width ?? 8;
  for (const s of sites) port.declarePatched(s.addr, s.old.length);
  const table = new Int3Table(sites);
  claim.refcount = opts.refcount ?? true;
  claim.publish(table);
  yield;
  // 1. INT3 over every first byte (the one write that needs no sync before it).
  const int3 = Uint8Array.of(0xcc);
  let wrote = false;
  for (const s of sites) {
    if (s.old[0] === 0xcc) continue;
    port.write(s.addr, int3);
    st.stores++;
    wrote = true;
    yield;
  }
  if (wrote && opts.omitSync !== 1) yield* sync(port, st);
  // 2. Every tail (only the bytes that change).
  wrote = false;
  for (const s of sites) {
    let lo = 1;
    let hi = s.old.length - 1;
    while (lo <= hi && s.old[lo] === s.new[lo]) lo++;
    while (hi >= lo && s.old[hi] === s.new[hi]) hi--;
    if (lo > hi) continue;
    yield* storeRange(port, st, s.addr + lo, s.new.subarray(lo, hi + 1), width);
    wrote = true;
  }
  if (wrote && opts.omitSync !== 2) yield* sync(port, st);
  // 3. Every first byte (an INT3 that stays needs no write).
  wrote = false;
  for (const s of sites) {
    if (s.new[0] === 0xcc) continue;
    port.write(s.addr, s.new.subarray(0, 1));
    st.stores++;
    wrote = true;
    yield;
  }
  if (wrote && opts.omitSync !== 3) yield* sync(port, st);
  // 4. Retire the table once no CPU can be inside the handler.
  if (claim.refcount) {
    table.refs--;
    yield { wait: () => table.refs === 0, why: "INT3 handlers to leave" };
  }
  claim.retire(table);
  st.int3Hits = table.hits;
  st.int3Emulated = table.emulated;
  st.cycles = port.cycles() - t0;
  return st;
}

/** Early poke: plain stores, then serialize the patching CPU. Others must not run text. */
export function* earlyPoke(
  port: TextPort,
  plan: readonly PlannedSite[],
  opts: ProtocolOptions,
): PatchSteps<PatchStats> {
  const st = newStats("early");
  const t0 = port.cycles();
  for (const s of plan.filter(changed)) {
    st.sites++;
    yield* storeRange(port, st, s.addr, s.new, opts.width ?? 8);
  }
  port.serializeSelf?.();
  st.cycles = port.cycles() - t0;
  return st;
}

/** Stop-machine: rendezvous every CPU, store, serialize and release. */
export function* stopMachine(
  port: TextPort,
  plan: readonly PlannedSite[],
  opts: ProtocolOptions,
): PatchSteps<PatchStats> {
  const st = newStats("stop-machine");
  const t0 = port.cycles();
  const sites = plan.filter(changed);
  st.sites = sites.length;
  if (sites.length === 0 || !port.stopMachine) return st;
  for (const s of sites) port.declarePatched(s.addr, s.old.length);
  const h = port.stopMachine();
  st.ipis += port.cpus;
  yield { wait: () => h.parked(), why: "stop-machine rendezvous" };
  for (const s of sites) yield* storeRange(port, st, s.addr, s.new, opts.width ?? 8);
  h.release();
  st.syncs++;
  st.parkedStallCycles = h.stallCycles();
  yield;
  st.cycles = port.cycles() - t0;
  return st;
}

/** Naive (unsafe): plain stores while the other CPUs run. */
export function* naiveWrite(
  port: TextPort,
  plan: readonly PlannedSite[],
  opts: ProtocolOptions,
): PatchSteps<PatchStats> {
  const st = newStats("naive");
  const t0 = port.cycles();
  for (const s of plan.filter(changed)) {
    st.sites++;
    port.declarePatched(s.addr, s.old.length);
    yield* storeRange(port, st, s.addr, s.new, opts.width ?? 8);
  }
  st.cycles = port.cycles() - t0;
  return st;
}

/** Is `b` a "jmp8 over the rest" head: EB (len-2), i.e. a 2-byte jump to the end of the site? */
export function isJmp2Head(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xeb && b[1] === b.length - 2;
}

/**
 * The "2-byte jmp + 3 NOPs" scheme (unsafe): enabling (the old bytes jump over the tail)
 * writes the tail that the jmp8 skips, optionally syncs, then the 2-byte head as one store;
 * disabling writes the head first, then the (now skipped) tail.
 */
export function* jmp2(
  port: TextPort,
  plan: readonly PlannedSite[],
  withSync: boolean,
  opts: ProtocolOptions,
): PatchSteps<PatchStats> {
  const st = newStats(withSync ? "jmp2-sync" : "jmp2");
  const t0 = port.cycles();
  const width = opts.width ?? 8;
  for (const s of plan.filter(changed)) {
    st.sites++;
    port.declarePatched(s.addr, s.old.length);
    const tail = s.new.subarray(2);
    let tailChanged = false;
    for (let i = 2; i < s.old.length; i++) if (s.old[i] !== s.new[i]) tailChanged = true;
    const head = (): PatchSteps<void> => storeRange(port, st, s.addr, s.new.subarray(0, 2), 2);
    if (isJmp2Head(s.old)) {
      if (tailChanged) yield* storeRange(port, st, s.addr + 2, tail, width);
      if (withSync) yield* sync(port, st);
      yield* head();
    } else {
      yield* head();
      if (withSync) yield* sync(port, st);
      if (tailChanged) yield* storeRange(port, st, s.addr + 2, tail, width);
    }
  }
  st.cycles = port.cycles() - t0;
  return st;
}
