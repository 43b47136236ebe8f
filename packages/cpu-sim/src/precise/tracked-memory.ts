/**
 * Memory with provenance (XMC-MODEL.md "Hazards"): every byte remembers which write produced
 * it, and every write is logged with who made it and when (a global event time). Writes are
 * logged per store: a guest store is one write at its width; the patching agent's writes are
 * one write per step at the width it asks for. The history of each tracked byte lets the
 * checker find, for a byte value used by an instruction, the time of the next write to it.
 * @module
 */
import { Memory, PAGE_SIZE } from "../memory.ts";

/** Who wrote: a CPU number, or {@link AGENT} for the patching agent, or {@link LOADER}. */
export const AGENT = -1;
export const LOADER = -2;

/** One logged write. */
export interface WriteRecord {
  /** Write id (index into the log). 0 is the initial image. */
  id: number;
  /** Writer: CPU number, AGENT or LOADER. */
  by: number;
  /** Event time of the write. */
  time: number;
  addr: number;
  size: number;
  /** Bytes written. */
  bytes: Uint8Array;
  /** Bytes the write replaced. */
  old: Uint8Array;
}

interface PageProv {
  /** Write id per byte (0 = initial image). */
  ids: Int32Array;
  /** Per-byte history of (write id) in time order, only for bytes written more than once. */
  history: Map<number, number[]>;
}

/** Paged memory that logs every write with its writer and time. */
export class TrackedMemory extends Memory {
  /** The write log; index = write id. Entry 0 is the initial image (time 0, LOADER). */
  readonly log: WriteRecord[] = [
    { id: 0, by: LOADER, time: 0, addr: 0, size: 0, bytes: new Uint8Array(0), old: new Uint8Array(0) },
  ];
  private readonly prov = new Map<number, PageProv>();
  /** Current event time (the machine advances it). */
  now = 0;
  /** Writer of guest stores: the CPU executing (the machine sets it before each instruction). */
  writer = 0;
  /** Set to false to stop logging (e.g. while loading). */
  tracking = true;

  private provOf(page: number): PageProv {
    let p = this.prov.get(page);
    if (!p) {
      p = { ids: new Int32Array(PAGE_SIZE), history: new Map() };
      this.prov.set(page, p);
    }
    return p;
  }

  /** The write id that produced the byte at `addr`. */
  producer(addr: number): number {
    const p = this.prov.get(Math.floor(addr / PAGE_SIZE));
    return p ? p.ids[addr % PAGE_SIZE]! : 0;
  }

  /** Time of the first write to `addr` after write `id` (Infinity when none yet). */
  nextWriteTime(addr: number, id: number): number {
    const p = this.prov.get(Math.floor(addr / PAGE_SIZE));
    if (!p) return Number.POSITIVE_INFINITY;
    const h = p.history.get(addr % PAGE_SIZE);
    if (!h) return Number.POSITIVE_INFINITY;
    const i = h.indexOf(id);
    if (i < 0 || i + 1 >= h.length) return Number.POSITIVE_INFINITY;
    return this.log[h[i + 1]!]!.time;
  }

  /** Record a write of `bytes` at `addr` (already applied or about to be); returns its id. */
  record(by: number, addr: number, bytes: Uint8Array, old: Uint8Array): number {
    const id = this.log.length;
    this.log.push({ id, by, time: this.now, addr, size: bytes.length, bytes, old });
    for (let i = 0; i < bytes.length; i++) {
      const a = addr + i;
      const p = this.provOf(Math.floor(a / PAGE_SIZE));
      const o = a % PAGE_SIZE;
      const prev = p.ids[o]!;
      let h = p.history.get(o);
      if (!h) {
        h = [prev];
        p.history.set(o, h);
      }
      h.push(id);
      p.ids[o] = id;
    }
    return id;
  }

  private logStore(addr: number, size: number, write: () => void): void {
    if (!this.tracking) {
      write();
      return;
    }
    const old = this.readRaw(addr, size);
    write();
    this.record(this.writer, addr, this.readRaw(addr, size), old);
  }

  /** Read bytes ignoring permissions (mapping required); for provenance bookkeeping. */
  readRaw(addr: number, size: number): Uint8Array {
    return this.readBytes(addr, size);
  }

  override write8(addr: number, v: number): void {
    this.logStore(addr, 1, () => super.write8(addr, v));
  }
  override write16(addr: number, v: number): void {
    this.logStore(addr, 2, () => super.write16(addr, v));
  }
  override write32(addr: number, v: number): void {
    this.logStore(addr, 4, () => super.write32(addr, v));
  }
  override write64(addr: number, lo: number, hi: number): void {
    this.logStore(addr, 8, () => super.write64(addr, lo, hi));
  }

  /** A privileged (agent) write of `bytes` at `addr` as one store, ignoring W permission. */
  agentWrite(addr: number, bytes: Uint8Array): number {
    const old = this.readRaw(addr, bytes.length);
    this.writeBytes(addr, bytes);
    return this.record(AGENT, addr, bytes.slice(), old);
  }
}
