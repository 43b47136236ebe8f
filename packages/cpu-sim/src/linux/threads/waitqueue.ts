/**
 * A queue of threads parked on something other than a futex (a pipe's readers or writers).
 * Waking is done by the process (it owns the scheduler); this only keeps the order.
 * @module
 */
import type { Thread, Waiter } from "./thread.ts";

/** Threads waiting for one condition, in arrival order. */
export class WaitQueue {
  private list: Thread[] = [];

  /** Add `t`; the returned waiter removes it again (timeout, signal). */
  add(t: Thread): Waiter {
    this.list.push(t);
    return {
      cancel: () => {
        const i = this.list.indexOf(t);
        if (i >= 0) this.list.splice(i, 1);
      },
    };
  }

  /** Remove and return every waiting thread. */
  takeAll(): Thread[] {
    const l = this.list;
    this.list = [];
    return l;
  }

  get size(): number {
    return this.list.length;
  }
}
