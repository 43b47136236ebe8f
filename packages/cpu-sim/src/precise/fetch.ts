/**
 * The instruction-fetch unit of XMC-MODEL.md, one per vCPU: code is fetched in aligned blocks
 * of B bytes, each a snapshot of memory (bytes and the write that produced each byte) taken at
 * the moment it was fetched; a prefetch queue holds up to Q blocks ahead of the one being
 * executed. Instructions are decoded from the queue: one that spans two blocks takes its bytes
 * from two snapshots, possibly of different times. The queue is flushed on serializing
 * instructions, exception/interrupt delivery and return, and taken branches out of the queue.
 * B = 1, Q = 0 is a perfectly coherent CPU.
 * @module
 */
import type { TrackedMemory } from "./tracked-memory.ts";

/** A fetched block: a snapshot of [addr, addr+B). */
export interface Block {
  addr: number;
  bytes: Uint8Array;
  /** Write id that produced each byte at fetch time. */
  prov: Int32Array;
  /** Event time of the fetch. */
  time: number;
}

/** Bytes of one instruction assembled from the queue, with where each came from. */
export interface Fetched {
  bytes: Uint8Array;
  /** Write id per byte. */
  prov: Int32Array;
  /** Fetch time per byte (the snapshot it came from). */
  fetchTime: Float64Array;
  /** Number of valid bytes (may be < 15 near an unmapped page). */
  n: number;
}

/** Per-vCPU fetch unit. */
export class FetchUnit {
  readonly B: number;
  readonly Q: number;
  /** Blocks in address order; queue[0] holds (or held) the current instruction's first byte. */
  queue: Block[] = [];
  /** Fetches performed. */
  fetches = 0;
  /** Flushes performed. */
  flushes = 0;
  private readonly mem: TrackedMemory;

  constructor(mem: TrackedMemory, B = 16, Q = 2) {
    if (!Number.isInteger(B) || B < 1 || (B & (B - 1)) !== 0 || B > 64)
      throw new RangeError(`fetch block size must be a power of two from 1 to 64, not ${B}`);
    if (!Number.isInteger(Q) || Q < 0 || Q > 16)
      throw new RangeError(`prefetch queue must be 0-16 blocks, not ${Q}`);
    this.B = B;
    this.Q = Q;
    this.mem = mem;
  }

  /**
   * This CPU stored to [addr, addr+size): queued blocks that overlap are now stale. The next
   * taken branch refetches them (the SDM's rule for self-modifying code: store, then jump).
   */
  noteOwnStore(addr: number, size: number): void {
    for (const b of this.queue) if (addr < b.addr + this.B && addr + size > b.addr) this.stale = true;
  }
  /** A block in the queue was written by this CPU since it was fetched. */
  stale = false;

  /** Drop every queued block. */
  flush(): void {
    if (this.queue.length) this.flushes++;
    this.queue = [];
    this.stale = false;
  }

  private fetchBlock(addr: number): Block {
    const B = this.B;
    const bytes = new Uint8Array(B);
    const prov = new Int32Array(B);
    // Instruction fetch honors X permission; a fault surfaces when the instruction needs the byte.
    this.mem.fetch(addr, bytes, B);
    for (let i = 0; i < B; i++) prov[i] = this.mem.producer(addr + i);
    this.fetches++;
    return { addr, bytes, prov, time: this.mem.now };
  }

  /** Is a block for `addr` queued? */
  has(addr: number): boolean {
    const a = addr - (addr % this.B);
    return this.queue.some((b) => b.addr === a);
  }

  /**
   * Prefetch one more block after the last queued one, if the queue has room (the eager
   * choice a scheduler may make at any step). Returns true if a block was fetched.
   */
  prefetchOne(): boolean {
    if (this.queue.length === 0 || this.queue.length > this.Q) return false;
    const last = this.queue[this.queue.length - 1]!;
    try {
      this.queue.push(this.fetchBlock(last.addr + this.B));
      return true;
    } catch {
      return false; // not executable or unmapped: nothing to prefetch
    }
  }

  /**
   * Make the block holding `rip` current: straight-line execution consumes blocks that lie
   * before it; a `rip` outside the queue (a taken branch elsewhere, or the first fetch) flushes
   * the queue and fetches the block. Throws GuestFault when that block is not executable.
   */
  enter(rip: number, branched = false): void {
    if (branched && this.stale) this.flush();
    const first = rip - (rip % this.B);
    while (this.queue.length && this.queue[0]!.addr < first) this.queue.shift();
    if (this.queue.length && this.queue[0]!.addr !== first) this.flush();
    if (!this.queue.length) this.queue.push(this.fetchBlock(first));
  }

  /** Fetch the block after the last queued one now (lazy fetch of an instruction's tail). */
  fetchNext(): boolean {
    const last = this.queue[this.queue.length - 1];
    if (!last) return false;
    try {
      this.queue.push(this.fetchBlock(last.addr + this.B));
      return true;
    } catch {
      return false;
    }
  }

  /** Copy the queued bytes from `rip` on (at most 15) into `out`, with their provenance. */
  read(rip: number, out: Fetched): void {
    let n = 0;
    for (const blk of this.queue) {
      if (blk.addr + this.B <= rip) continue;
      let o = Math.max(0, rip + n - blk.addr);
      if (blk.addr > rip + n) break; // a gap (cannot happen: blocks are contiguous)
      for (; o < this.B && n < 15; o++, n++) {
        out.bytes[n] = blk.bytes[o]!;
        out.prov[n] = blk.prov[o]!;
        out.fetchTime[n] = blk.time;
      }
      if (n >= 15) break;
    }
    out.n = n;
  }

  /** Keep the queue within Q blocks ahead of the block holding `rip` (after lazy over-fetch). */
  trim(rip: number): void {
    const first = rip - (rip % this.B);
    while (this.queue.length && this.queue[0]!.addr < first) this.queue.shift();
    if (this.queue.length > this.Q + 1) this.queue.length = this.Q + 1;
  }
}

/** A reusable {@link Fetched} buffer. */
export function newFetched(): Fetched {
  return { bytes: new Uint8Array(16), prov: new Int32Array(16), fetchTime: new Float64Array(16), n: 0 };
}
