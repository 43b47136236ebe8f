/**
 * The patcher: single-site `poke`, `queue`/`finish` batching, and `patch` for a whole batch,
 * over any protocol. Everything is validated (and the writer lock taken) when the call is
 * made; the returned generator then performs the protocol one step at a time, and returns its
 * statistics. Give it to the machine as the patching CPU's program.
 * @module
 */
import { PatchError } from "./errors.ts";
import { Int3Claim } from "./handler.ts";
import type { PatchSteps, PatchYield, TextPort } from "./port.ts";
import {
  earlyPoke,
  int3Batch,
  isJmp2Head,
  jmp2,
  naiveWrite,
  type PatchStats,
  type ProtocolName,
  type ProtocolOptions,
  stopMachine,
  UNSAFE_PROTOCOLS,
} from "./protocols.ts";
import { type PatchSite, type PlannedSite, validateBatch, validateSite } from "./validate.ts";

/** Options of one patch run. */
export interface PatchOptions extends ProtocolOptions {
  /** The protocol (default `int3-batch`). */
  protocol?: ProtocolName;
  /** Required for the unsafe protocols and unsafe variants (omitted syncs, no refcounts). */
  unsafe?: boolean;
}

/** Options of a {@link TextPatcher}. */
export interface PatcherOptions {
  /** Most sites in one batch (default 256, Linux's `TP_VEC_MAX` for 4 KiB of 16-byte entries). */
  maxBatch?: number;
  /** Name of this patcher as the writer lock's owner (default `text-patch`). */
  owner?: string;
}

/** A site without its replacement (for {@link TextPatcher.poke} and {@link TextPatcher.queue}). */
export type SiteRef = Omit<PatchSite, "new">;

/** Patches text through a {@link TextPort}. */
export class TextPatcher {
  /** The port. */
  readonly port: TextPort;
  /** Most sites per batch. */
  readonly maxBatch: number;
  /** Writer-lock owner name. */
  readonly owner: string;
  private readonly claim = new Int3Claim();
  private readonly queued: PatchSite[] = [];
  private last: PatchStats | undefined;
  private disposed = false;

  /** Create a patcher; it claims INT3 traps on the port at once (its handler declines traps that are not its own). */
  constructor(port: TextPort, options: PatcherOptions = {}) {
    this.port = port;
    this.maxBatch = options.maxBatch ?? 256;
    this.owner = options.owner ?? "text-patch";
    port.claimInt3(this.claim.handler);
  }

  /** Statistics of the last finished run. */
  get lastStats(): PatchStats | undefined {
    return this.last;
  }

  /** Sites queued for the next {@link finish}. */
  get pending(): number {
    return this.queued.length;
  }

  /**
   * Patch one site: `newBytes` replace `site.old` at `site.addr`. Validates now (throws
   * {@link PatchError}, nothing written) and returns the protocol's steps.
   */
  poke(site: SiteRef, newBytes: Uint8Array, options: PatchOptions = {}): PatchSteps<PatchStats> {
    return this.patch([{ ...site, new: newBytes }], options);
  }

  /**
   * Queue a site for the next batch. Validated now against memory (throws {@link PatchError});
   * throws `batch-bound` when the batch is full and `overlap` when it overlaps a queued site.
   */
  queue(site: SiteRef, newBytes: Uint8Array): void {
    const s: PatchSite = { ...site, new: newBytes };
    if (this.queued.length >= this.maxBatch)
      throw new PatchError(
        "batch-bound",
        s.addr,
        `the batch is full (${this.maxBatch} sites): finish it first`,
      );
    this.checkLock();
    validateSite(this.port, s);
    for (const q of this.queued)
      if (s.addr < q.addr + q.old.length && q.addr < s.addr + s.old.length)
        throw new PatchError("overlap", s.addr, `overlaps the queued site at 0x${q.addr.toString(16)}`);
    this.queued.push(s);
  }

  /** Patch every queued site in one protocol run (three syncs for the batch, not per site). */
  finish(options: PatchOptions = {}): PatchSteps<PatchStats> {
    const run = this.patch(this.queued, options);
    this.queued.length = 0;
    return run;
  }

  /** Drop the queued sites. */
  clearQueue(): void {
    this.queued.length = 0;
  }

  /**
   * Patch a batch of sites (sorted here) with one protocol run. Validates everything now
   * (throws {@link PatchError}; nothing is written), takes the writer lock, and returns the
   * protocol's steps; the lock is released when they end.
   */
  patch(sites: readonly PatchSite[], options: PatchOptions = {}): PatchSteps<PatchStats> {
    if (this.disposed) throw new PatchError("unsupported", -1, "this patcher was disposed");
    const protocol = options.protocol ?? "int3-batch";
    const unsafeVariant =
      UNSAFE_PROTOCOLS.includes(protocol) ||
      (protocol === "int3-batch" && (options.omitSync !== undefined || options.refcount === false));
    if (unsafeVariant && options.unsafe !== true)
      throw new PatchError(
        "unsafe",
        -1,
        `${protocol}${options.omitSync ? ` without sync ${options.omitSync}` : ""}${options.refcount === false ? " without reference counts" : ""} can make other CPUs execute torn or unhandled bytes; pass unsafe: true to run it anyway`,
      );
    if (protocol === "early" && !this.port.othersQuiet?.())
      throw new PatchError("early", -1, "early poke needs every other CPU to be quiet (boot, before SMP)");
    if (protocol === "stop-machine" && !this.port.stopMachine)
      throw new PatchError("unsupported", -1, "the port has no stop-machine");
    this.checkLock();
    const plan = validateBatch(this.port, sites, this.maxBatch);
    if (protocol === "jmp2" || protocol === "jmp2-sync")
      for (const s of plan)
        if (s.old.length !== 5 || (!isJmp2Head(s.old) && !isJmp2Head(s.new)) || s.addr % 2 !== 0)
          throw new PatchError(
            "shape",
            s.addr,
            "the jmp2 scheme needs a 5-byte site at an even address whose old or new bytes start with `jmp .+5` (EB 03)",
          );
    if (!this.port.lock.tryAcquire(this.owner)) this.checkLock();
    return new PatchRun(this.run(protocol, plan, options), () => this.port.lock.release(this.owner));
  }

  /** Stop claiming INT3 traps (after the last run has finished). */
  dispose(): void {
    this.disposed = true;
    this.port.releaseInt3(this.claim.handler);
  }

  private checkLock(): void {
    const h = this.port.lock.holder;
    if (h !== undefined)
      throw new PatchError(
        "one-writer",
        -1,
        `another patch is in progress (held by ${h}); one writer at a time`,
      );
  }

  private *run(protocol: ProtocolName, plan: PlannedSite[], o: PatchOptions): PatchSteps<PatchStats> {
    try {
      let st: PatchStats;
      if (protocol === "int3-batch") st = yield* int3Batch(this.port, this.claim, plan, o);
      else if (protocol === "early") st = yield* earlyPoke(this.port, plan, o);
      else if (protocol === "stop-machine") st = yield* stopMachine(this.port, plan, o);
      else if (protocol === "naive") st = yield* naiveWrite(this.port, plan, o);
      else st = yield* jmp2(this.port, plan, protocol === "jmp2-sync", o);
      this.last = st;
      return st;
    } finally {
      this.port.lock.release(this.owner);
    }
  }
}

/**
 * The steps of one validated patch. It holds the writer lock from creation: running it to the
 * end (or `return()`/`throw()` at any point, even before the first step) releases it.
 */
class PatchRun implements Generator<PatchYield, PatchStats, void> {
  private started = false;
  constructor(
    private readonly inner: Generator<PatchYield, PatchStats, void>,
    private readonly abandon: () => void,
  ) {}
  next(): IteratorResult<PatchYield, PatchStats> {
    this.started = true;
    return this.inner.next();
  }
  return(value: PatchStats): IteratorResult<PatchYield, PatchStats> {
    // A generator that never started does not run its `finally`: release the lock here.
    if (!this.started) this.abandon();
    this.started = true;
    return this.inner.return(value);
  }
  throw(e: unknown): IteratorResult<PatchYield, PatchStats> {
    if (!this.started) this.abandon();
    this.started = true;
    return this.inner.throw(e);
  }
  [Symbol.iterator](): Generator<PatchYield, PatchStats, void> {
    return this;
  }
}
