/**
 * Futex wait queues (futex(2)): per address, in arrival order, with the waiter's bitset.
 * Private and shared futexes are the same here (one process). Waking hands threads back to
 * the process, which makes them runnable at the waker's modeled time.
 * @module
 */
import type { Thread, Waiter } from "./threads/thread.ts";

interface Entry {
  t: Thread;
  bitset: number;
}

/** All futex queues of a process. */
export class Futexes {
  private readonly queues = new Map<number, Entry[]>();

  /** Queue `t` on `addr` with `bitset`; the waiter removes it again. */
  enqueue(t: Thread, addr: number, bitset: number): Waiter {
    let q = this.queues.get(addr);
    if (!q) {
      q = [];
      this.queues.set(addr, q);
    }
    const e = { t, bitset };
    q.push(e);
    const self = this;
    return {
      cancel() {
        self.removeEntry(addr, e);
      },
    };
  }

  private removeEntry(addr: number, e: Entry): void {
    const q = this.queues.get(addr);
    if (!q) return;
    const i = q.indexOf(e);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.queues.delete(addr);
  }

  /** Remove and return up to `n` waiters on `addr` whose bitset meets `bitset`. */
  take(addr: number, n: number, bitset = -1): Thread[] {
    const q = this.queues.get(addr);
    const out: Thread[] = [];
    if (!q) return out;
    for (let i = 0; i < q.length && out.length < n; ) {
      if (q[i]!.bitset & bitset) out.push(q.splice(i, 1)[0]!.t);
      else i++;
    }
    if (q.length === 0) this.queues.delete(addr);
    return out;
  }

  /**
   * Move up to `n` waiters from `from` to `to` (FUTEX_REQUEUE); returns the threads moved,
   * whose waiters must be replaced with {@link retarget}.
   */
  requeue(from: number, to: number, n: number): Thread[] {
    const q = this.queues.get(from);
    if (!q || n <= 0) return [];
    const moved = q.splice(0, Math.min(n, q.length));
    if (q.length === 0) this.queues.delete(from);
    for (const e of moved) e.t.waiter = this.enqueue(e.t, to, e.bitset);
    return moved.map((e) => e.t);
  }

  /** Number of waiters on `addr`. */
  count(addr: number): number {
    return this.queues.get(addr)?.length ?? 0;
  }
}
