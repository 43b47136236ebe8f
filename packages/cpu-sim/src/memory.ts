/**
 * Guest memory: sparse 4 KiB pages with R/W/X permissions and a size limit. Guest addresses
 * are JavaScript numbers (exact below 2^53; canonical user-space x86-64 addresses are below
 * 2^47). Accesses go through a small direct-mapped TLB per access kind; a miss, a permission
 * problem, a page-crossing access or a write to a page that holds cached code takes the slow
 * path. A guest access that is not allowed throws {@link GuestFault}, which the machine turns
 * into a guest signal (SIGSEGV) or a report; it never escapes to the host.
 * @module
 */

/** Page size in bytes. */
export const PAGE_SIZE = 4096;
const PAGE_SHIFT_DIV = 4096;

/** Page permission bits. */
export enum Perm {
  None = 0,
  R = 1,
  W = 2,
  X = 4,
  RW = 3,
  RX = 5,
  RWX = 7,
}

/** A guest memory access that faulted (unmapped page or forbidden access). */
export class GuestFault extends Error {
  /** Faulting guest address. */
  readonly address: number;
  /** "read", "write" or "exec". */
  readonly access: "read" | "write" | "exec";
  /** True when the page is mapped but the access is forbidden (SEGV_ACCERR), else SEGV_MAPERR. */
  readonly protection: boolean;
  constructor(address: number, access: "read" | "write" | "exec", protection: boolean) {
    super(`guest ${access} of ${protection ? "protected" : "unmapped"} address 0x${address.toString(16)}`);
    this.name = "GuestFault";
    this.address = address;
    this.access = access;
    this.protection = protection;
  }
}

/** Thrown when mapping more memory would pass the machine's limit. */
export class MemoryLimitError extends Error {
  constructor(limit: number) {
    super(`guest memory limit of ${limit} bytes reached`);
    this.name = "MemoryLimitError";
  }
}

/**
 * A mapped page. Its bytes are allocated when first used: a fresh mapping is zero-filled, and
 * most of an 8 MB stack is never touched (allocating its 2,048 pages' buffers up front cost
 * several milliseconds and a garbage collection per process).
 */
class Page {
  private b: Uint8Array | null = null;
  private v: DataView | null = null;
  /** Number of cached decoded instructions on this page (writes must invalidate them). */
  code = 0;
  constructor(public perm: number) {}
  get bytes(): Uint8Array {
    return this.b ?? this.alloc();
  }
  get view(): DataView {
    if (this.v === null) this.alloc();
    return this.v!;
  }
  private alloc(): Uint8Array {
    const b = new Uint8Array(PAGE_SIZE);
    this.b = b;
    this.v = new DataView(b.buffer);
    return b;
  }
}

const TLB_SIZE = 256;

/** The TLB entry of page number `p` (as `((addr >>> 12) ^ (addr >>> 20)) & 255` of its addresses). */
function tlbIndex(p: number): number {
  return (p ^ (p >>> 8)) & (TLB_SIZE - 1);
}
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** Sparse paged guest memory. */
export class Memory {
  private readonly pages = new Map<number, Page>();
  /** Bytes currently mapped. */
  mapped = 0;
  /** Maximum bytes that may be mapped. */
  readonly limit: number;
  /**
   * Called with the address and length of a write to a page holding cached code (before the
   * bytes change; an unmapped page reports the whole page).
   */
  onCodeWrite: (addr: number, len: number) => void = () => {};

  // Direct-mapped TLBs indexed by bits 12-19 of the address xor bits 20-27: tag = the page's base
  // address (NaN empty: it equals no address), entry = the page's DataView. Offsets and TLB
  // indices come from integer operations (`a & 4095`, `((a >>> 12) ^ (a >>> 20)) & 255`), exact
  // for every address below 2^53. (Bits 12-19 alone put the stack's top page and the first
  // mmap page, 136 MiB below, on one entry: every program that used both thrashed it.)
  // Fast mode's translated code reads the TLBs inline (exec/translate.ts): filled in place, never
  // replaced; an entry is only ever a page that the access kind may touch without the slow path.
  /** Read TLB tags. */
  readonly rTag: Float64Array = new Float64Array(TLB_SIZE).fill(Number.NaN);
  /** Read TLB entries. */
  readonly rView: DataView[] = new Array(TLB_SIZE).fill(EMPTY_VIEW);
  /** Write TLB tags (never a page holding cached code). */
  readonly wTag: Float64Array = new Float64Array(TLB_SIZE).fill(Number.NaN);
  /** Write TLB entries. */
  readonly wView: DataView[] = new Array(TLB_SIZE).fill(EMPTY_VIEW);
  // The same tags as int32 halves (low: 1 when empty, never a page base), for translated code
  // that has an address as the two halves of a register plus a displacement: comparing them is
  // integer work only, and a hit proves the address canonical (exec/translate.ts `addr`).
  /** Read TLB tags, low 32 bits. */
  readonly rTagLo: Int32Array = new Int32Array(TLB_SIZE).fill(1);
  /** Read TLB tags, high 32 bits. */
  readonly rTagHi: Int32Array = new Int32Array(TLB_SIZE);
  /** Write TLB tags, low 32 bits. */
  readonly wTagLo: Int32Array = new Int32Array(TLB_SIZE).fill(1);
  /** Write TLB tags, high 32 bits. */
  readonly wTagHi: Int32Array = new Int32Array(TLB_SIZE);

  /** High 32 bits of the last 64-bit read ({@link read64}). */
  hi = 0;

  constructor(limitBytes: number = 4 * 1024 * 1024 * 1024) {
    this.limit = limitBytes;
  }

  private flushTlb(): void {
    this.rTag.fill(Number.NaN);
    this.wTag.fill(Number.NaN);
    this.rTagLo.fill(1);
    this.wTagLo.fill(1);
    this.slowNo = -1;
  }

  /** The page last found by the slow paths (a page number above 2^31 is a boxed Map key). */
  private slowNo = -1;
  private slowPg: Page | undefined = undefined;
  private slowPage(p: number): Page | undefined {
    if (p === this.slowNo) return this.slowPg;
    const pg = this.pages.get(p);
    if (pg !== undefined) {
      this.slowNo = p;
      this.slowPg = pg;
    }
    return pg;
  }

  /** Map [addr, addr+len) with `perm`, zero-filled; existing pages keep their bytes and get the new permission. */
  map(addr: number, len: number, perm: number): void {
    const first = Math.floor(addr / PAGE_SHIFT_DIV);
    const last = Math.floor((addr + len - 1) / PAGE_SHIFT_DIV);
    // A range larger than the limit cannot fit whatever is mapped already: refuse it before
    // counting its pages (a guest or a file can ask for 2^46 bytes; counting would hang the host).
    if ((last - first + 1) * PAGE_SIZE > this.limit) throw new MemoryLimitError(this.limit);
    let fresh = 0;
    for (let p = first; p <= last; p++) if (!this.pages.has(p)) fresh++;
    if (this.mapped + fresh * PAGE_SIZE > this.limit) throw new MemoryLimitError(this.limit);
    for (let p = first; p <= last; p++) {
      const pg = this.pages.get(p);
      if (pg) pg.perm = perm;
      else {
        this.pages.set(p, new Page(perm));
        this.mapped += PAGE_SIZE;
      }
    }
    this.flushTlb();
  }

  /** Unmap [addr, addr+len). */
  unmap(addr: number, len: number): void {
    const first = Math.floor(addr / PAGE_SHIFT_DIV);
    const last = Math.floor((addr + len - 1) / PAGE_SHIFT_DIV);
    // Work proportional to the smaller of the range and what is mapped: a guest's munmap of
    // 2^46 bytes must not walk 2^34 absent pages.
    if (last - first + 1 > this.pages.size) {
      for (const p of [...this.pages.keys()]) if (p >= first && p <= last) this.dropPage(p);
    } else for (let p = first; p <= last; p++) this.dropPage(p);
    this.flushTlb();
  }

  private dropPage(p: number): void {
    const pg = this.pages.get(p);
    if (pg) {
      if (pg.code) this.onCodeWrite(p * PAGE_SIZE, PAGE_SIZE);
      this.pages.delete(p);
      this.mapped -= PAGE_SIZE;
    }
  }

  /** Change the permission of mapped pages in [addr, addr+len); returns false if some page is unmapped. */
  protect(addr: number, len: number, perm: number): boolean {
    const first = Math.floor(addr / PAGE_SHIFT_DIV);
    const last = Math.floor((addr + len - 1) / PAGE_SHIFT_DIV);
    for (let p = first; p <= last; p++) if (!this.pages.has(p)) return false;
    for (let p = first; p <= last; p++) this.pages.get(p)!.perm = perm;
    this.flushTlb();
    return true;
  }

  /** Is every page of [addr, addr+len) mapped? */
  isMapped(addr: number, len: number): boolean {
    const first = Math.floor(addr / PAGE_SHIFT_DIV);
    const last = Math.floor((addr + len - 1) / PAGE_SHIFT_DIV);
    for (let p = first; p <= last; p++) if (!this.pages.has(p)) return false;
    return true;
  }

  /** Permission of the page holding `addr` (Perm.None when unmapped). */
  permAt(addr: number): number {
    return this.pages.get(Math.floor(addr / PAGE_SHIFT_DIV))?.perm ?? Perm.None;
  }

  /** Mark the page of `addr` as holding cached code (count up) or release it (count down). */
  markCode(page: number, delta: number): void {
    // The same page again and again (a code page's instructions): the slow paths' memo.
    const pg = this.slowPage(page);
    if (!pg) return;
    pg.code += delta;
    if (pg.code < 0) pg.code = 0;
    // Writable TLB entries must not cover code pages.
    const i = tlbIndex(page);
    if (this.wTag[i] === page * PAGE_SIZE) this.setTag(this.wTag, this.wTagLo, this.wTagHi, i, -1);
  }

  /** Set TLB entry `i`'s tag, as a Number and as int32 halves, to page `p` (-1: empty). */
  private setTag(tag: Float64Array, lo: Int32Array, hi: Int32Array, i: number, p: number): void {
    if (p < 0) {
      tag[i] = Number.NaN;
      lo[i] = 1;
      return;
    }
    tag[i] = p * PAGE_SIZE;
    lo[i] = (p * PAGE_SIZE) | 0;
    hi[i] = Math.floor(p / 1048576);
  }

  /** The page of a guest read or fetch (slow path: fills the read TLB for reads). */
  private readPage(addr: number, exec: boolean): Page {
    const p = Math.floor(addr / PAGE_SHIFT_DIV);
    const pg = this.slowPage(p);
    if (!pg) throw new GuestFault(addr, exec ? "exec" : "read", false);
    if (exec ? !(pg.perm & Perm.X) : !(pg.perm & Perm.R))
      throw new GuestFault(addr, exec ? "exec" : "read", true);
    if (!exec) {
      const i = tlbIndex(p);
      this.setTag(this.rTag, this.rTagLo, this.rTagHi, i, p);
      this.rView[i] = pg.view;
    }
    return pg;
  }

  /**
   * The bytes of the page holding `addr`, for decoding in place (instruction fetch: throws
   * GuestFault(exec) when the page is unmapped or not executable).
   */
  execPage(addr: number): Uint8Array {
    return this.readPage(addr, true).bytes;
  }

  /** The view of the page of a guest read (after a TLB miss). */
  private rv(addr: number): DataView {
    return this.readPage(addr, false).view;
  }

  /**
   * The page of a guest write of `len` bytes (slow path: invalidates cached code on the bytes
   * written, fills the write TLB when the page holds none).
   */
  private writePage(addr: number, len = 1): Page {
    const p = Math.floor(addr / PAGE_SHIFT_DIV);
    const pg = this.slowPage(p);
    if (!pg) throw new GuestFault(addr, "write", false);
    if (!(pg.perm & Perm.W)) throw new GuestFault(addr, "write", true);
    if (pg.code) this.onCodeWrite(addr, len);
    else {
      const i = tlbIndex(p);
      this.setTag(this.wTag, this.wTagLo, this.wTagHi, i, p);
      this.wView[i] = pg.view;
    }
    return pg;
  }

  // The accessors: a TLB hit (tag = the address minus its page offset) and an access that does
  // not cross the page is the fast path; everything else (miss, crossing, fault) the slow one.

  /** Guest read of one byte. */
  read8(addr: number): number {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.rTag[i] === addr - o) return this.rView[i]!.getUint8(o);
    return this.rv(addr).getUint8(o);
  }
  /** Guest read of 16 bits (little-endian). */
  read16(addr: number): number {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.rTag[i] === addr - o && o <= 4094) return this.rView[i]!.getUint16(o, true);
    return this.read16slow(addr, o);
  }
  private read16slow(addr: number, o: number): number {
    if (o <= PAGE_SIZE - 2) return this.rv(addr).getUint16(o, true);
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }
  /** Guest read of 32 bits as a signed int32 (use `>>> 0` for unsigned). */
  read32(addr: number): number {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.rTag[i] === addr - o && o <= 4092) return this.rView[i]!.getInt32(o, true);
    return this.read32slow(addr, o);
  }
  private read32slow(addr: number, o: number): number {
    if (o <= PAGE_SIZE - 4) return this.rv(addr).getInt32(o, true);
    return this.read16(addr) | (this.read16(addr + 2) << 16);
  }
  /** Guest read of 64 bits: returns the low 32 bits (int32), high 32 bits in {@link hi}. */
  read64(addr: number): number {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.rTag[i] === addr - o && o <= 4088) {
      const v = this.rView[i]!;
      this.hi = v.getInt32(o + 4, true);
      return v.getInt32(o, true);
    }
    return this.read64slow(addr, o);
  }
  private read64slow(addr: number, o: number): number {
    if (o <= PAGE_SIZE - 8) {
      const v = this.rv(addr);
      this.hi = v.getInt32(o + 4, true);
      return v.getInt32(o, true);
    }
    const lo = this.read32(addr);
    this.hi = this.read32(addr + 4);
    return lo;
  }
  /** Guest write of one byte. */
  write8(addr: number, v: number): void {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.wTag[i] === addr - o) this.wView[i]!.setUint8(o, v);
    else this.writePage(addr).view.setUint8(o, v);
  }
  /** Guest write of 16 bits. */
  write16(addr: number, v: number): void {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.wTag[i] === addr - o && o <= 4094) this.wView[i]!.setUint16(o, v & 0xffff, true);
    else this.write16slow(addr, o, v);
  }
  private write16slow(addr: number, o: number, v: number): void {
    if (o <= PAGE_SIZE - 2) this.writePage(addr, 2).view.setUint16(o, v & 0xffff, true);
    else {
      this.writePage(addr);
      this.writePage(addr + 1);
      this.write8(addr, v);
      this.write8(addr + 1, v >> 8);
    }
  }
  /** Guest write of 32 bits. */
  write32(addr: number, v: number): void {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.wTag[i] === addr - o && o <= 4092) this.wView[i]!.setInt32(o, v | 0, true);
    else this.write32slow(addr, o, v);
  }
  private write32slow(addr: number, o: number, v: number): void {
    if (o <= PAGE_SIZE - 4) this.writePage(addr, 4).view.setInt32(o, v | 0, true);
    else {
      // Check both pages before writing anything (a faulting store writes nothing).
      this.writePage(addr);
      this.writePage(addr + 3);
      for (let i = 0; i < 4; i++) this.write8(addr + i, v >> (8 * i));
    }
  }
  /** Guest write of 64 bits given as two 32-bit halves. */
  write64(addr: number, lo: number, hi: number): void {
    const o = addr & 4095;
    const i = ((addr >>> 12) ^ (addr >>> 20)) & 255;
    if (this.wTag[i] === addr - o && o <= 4088) {
      const v = this.wView[i]!;
      v.setInt32(o, lo | 0, true);
      v.setInt32(o + 4, hi | 0, true);
    } else this.write64slow(addr, o, lo, hi);
  }
  private write64slow(addr: number, o: number, lo: number, hi: number): void {
    if (o <= PAGE_SIZE - 8) {
      const v = this.writePage(addr, 8).view;
      v.setInt32(o, lo | 0, true);
      v.setInt32(o + 4, hi | 0, true);
    } else {
      this.writePage(addr);
      this.writePage(addr + 7);
      this.write32(addr, lo);
      this.write32(addr + 4, hi);
    }
  }

  /** Guest instruction fetch of up to `n` bytes at `addr` into `out` (stops at an unmapped/non-X page after the first byte). Returns bytes copied. */
  fetch(addr: number, out: Uint8Array, n: number): number {
    let copied = 0;
    while (copied < n) {
      let pg: Page;
      try {
        pg = this.readPage(addr + copied, true);
      } catch (e) {
        if (copied === 0) throw e;
        break;
      }
      const o = (addr + copied) & 4095; // (ToInt32 keeps the low 12 bits of any address)
      const take = Math.min(n - copied, PAGE_SIZE - o);
      const b = pg.bytes;
      for (let i = 0; i < take; i++) out[copied + i] = b[o + i]!;
      copied += take;
    }
    return copied;
  }

  // ---- host-side access (loader, syscalls): no permission checks beyond mapping --------------

  /** Host read of guest bytes; throws GuestFault(read) if some page is unmapped. */
  readBytes(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const pg = this.pages.get(Math.floor(a / PAGE_SHIFT_DIV));
      if (!pg) throw new GuestFault(a, "read", false);
      const o = a % PAGE_SIZE;
      const take = Math.min(len - done, PAGE_SIZE - o);
      out.set(pg.bytes.subarray(o, o + take), done);
      done += take;
    }
    return out;
  }

  /** Host write of guest bytes (ignores W permission: the loader writes read-only text). */
  writeBytes(addr: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      const p = Math.floor(a / PAGE_SHIFT_DIV);
      const pg = this.pages.get(p);
      if (!pg) throw new GuestFault(a, "write", false);
      const o = a % PAGE_SIZE;
      const take = Math.min(data.length - done, PAGE_SIZE - o);
      if (pg.code) this.onCodeWrite(a, take);
      pg.bytes.set(data.subarray(done, done + take), o);
      done += take;
    }
  }

  /** Host read of a NUL-terminated string (at most `max` bytes). */
  readCString(addr: number, max = 4096): string {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const pg = this.pages.get(Math.floor((addr + i) / PAGE_SHIFT_DIV));
      if (!pg) throw new GuestFault(addr + i, "read", false);
      const b = pg.bytes[(addr + i) % PAGE_SIZE]!;
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString("utf8");
  }

  /** Guest-permission-checked host read (for syscalls reading guest buffers): faults like the guest would. */
  readChecked(addr: number, len: number): Uint8Array {
    for (let a = addr; a < addr + len; a = (Math.floor(a / PAGE_SIZE) + 1) * PAGE_SIZE)
      this.readPage(a, false);
    return this.readBytes(addr, len);
  }

  /** Guest-permission-checked host write (for syscalls filling guest buffers). */
  writeChecked(addr: number, data: Uint8Array): void {
    for (let a = addr; a < addr + data.length; a = (Math.floor(a / PAGE_SIZE) + 1) * PAGE_SIZE)
      this.writePage(a);
    this.writeBytes(addr, data);
  }

  /** Lowest address >= `hint` where `len` bytes (page-rounded) are free, searching upward. */
  findFree(hint: number, len: number): number {
    const n = Math.ceil(len / PAGE_SIZE);
    let p = Math.floor(hint / PAGE_SHIFT_DIV);
    for (;;) {
      let ok = true;
      for (let i = 0; i < n; i++) {
        if (this.pages.has(p + i)) {
          p = p + i + 1;
          ok = false;
          break;
        }
      }
      if (ok) return p * PAGE_SIZE;
    }
  }
}
