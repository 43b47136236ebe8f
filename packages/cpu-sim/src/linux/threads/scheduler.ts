/**
 * The SMP scheduler: guest threads on N vCPUs, deterministic for a given seed.
 *
 * - The CPU with the smallest modeled time runs next, for one quantum (ties: lowest CPU id).
 *   A CPU with a current thread keeps it while nothing else is ready; otherwise, at the end of
 *   its quantum, the thread goes to the tail of the single FIFO run queue (and may migrate).
 * - An idle CPU (no thread) is a candidate only when the run queue is not empty; when it takes
 *   a thread it first advances its clock to the time the thread became ready (idle time is
 *   counted per CPU), so a woken thread never runs "before" the event that woke it.
 * - Blocked threads with a deadline (futex timeouts, nanosleep) are woken when the earliest
 *   candidate CPU's time reaches the deadline, or at once when no CPU has anything to run
 *   (the idle CPUs then jump to the deadline). Nothing runnable and no deadline is a deadlock.
 * - The quantum is `quantum/2 + rng() % quantum` instructions, drawn from the scheduling RNG:
 *   the same seed gives the same interleaving, another seed a different one.
 * @module
 */
import type { Cpu } from "../../cpu.ts";
import { Stop } from "../../exec/run.ts";
import type { EventKind, Machine } from "../../machine.ts";
import { copyContext } from "./context.ts";
import { type Thread, ThreadState } from "./thread.ts";

/** What the scheduler calls back into (the process). */
export interface SchedulerHost {
  /** True once the process has ended. */
  finished(): boolean;
  /** `t` was just loaded on `c` (deliver pending signals). */
  switchedIn(c: Cpu, t: Thread): void;
  /** The run loop stopped on a fault on `c` running `t`. */
  faulted(c: Cpu, t: Thread): void;
  /** `t`'s deadline passed while it was blocked: cancel its wait and set its result. */
  timedOut(t: Thread): void;
  /** Nothing can ever run again. */
  deadlocked(): void;
  /** The instruction limit was reached after `total` instructions. */
  limitReached(total: number): void;
  /** Called every {@link PROGRESS_EVERY} instructions or so with the total so far (optional). */
  readonly progress?: ((total: number) => void) | undefined;
}

/** Instructions between {@link SchedulerHost.progress} calls. */
export const PROGRESS_EVERY: number = 1 << 22;

/** A 32-bit SplitMix-style generator: deterministic for a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** Next 32-bit unsigned value. */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

/** Threads on vCPUs. */
export class Scheduler {
  readonly machine: Machine;
  /** The thread on each CPU, or null when the CPU is idle. */
  readonly current: (Thread | null)[];
  /** Cycles each CPU spent idle (waiting for a thread to become ready). */
  readonly idleCycles: Float64Array;
  /** Context switches (a thread loaded on a CPU). */
  switches = 0;
  /** The CPU executing guest code right now (during its quantum). */
  running: Cpu | undefined;
  private ready: Thread[] = [];
  private sleepers: Thread[] = [];
  private readonly rng: Rng;
  private readonly quantum: number;

  private readonly adversarial: boolean;

  constructor(machine: Machine, rng: Rng, quantum: number, adversarial = false) {
    this.machine = machine;
    this.rng = rng;
    this.quantum = Math.max(2, Math.floor(quantum));
    this.adversarial = adversarial;
    this.current = machine.cpus.map(() => null);
    this.idleCycles = new Float64Array(machine.cpus.length);
  }

  /** Make `t` runnable from modeled time `at` (cycles). */
  enqueue(t: Thread, at: number): void {
    t.state = ThreadState.Ready;
    t.readyAt = at;
    t.deadline = Number.POSITIVE_INFINITY;
    this.ready.push(t);
  }

  /** Park `t` (it is on a CPU and will be switched out when its syscall returns). */
  park(t: Thread, deadline: number): void {
    t.state = ThreadState.Blocked;
    t.deadline = deadline;
    if (deadline !== Number.POSITIVE_INFINITY) this.sleepers.push(t);
  }

  /** Wake a parked thread at modeled time `at`. */
  unpark(t: Thread, at: number): void {
    if (t.deadline !== Number.POSITIVE_INFINITY) {
      const i = this.sleepers.indexOf(t);
      if (i >= 0) this.sleepers.splice(i, 1);
    }
    this.enqueue(t, at);
  }

  /** Forget `t` (exited while ready or blocked). */
  remove(t: Thread): void {
    let i = this.ready.indexOf(t);
    if (i >= 0) this.ready.splice(i, 1);
    i = this.sleepers.indexOf(t);
    if (i >= 0) this.sleepers.splice(i, 1);
  }

  /** Is another thread ready to run on `c` by its current time? (sched_yield, preemption) */
  othersReady(c: Cpu): boolean {
    const h = this.ready[0];
    return h !== undefined && h.readyAt <= c.cycles;
  }

  private record(c: Cpu, t: Thread, kind: EventKind, detail: number): void {
    this.machine.events.record(c.id, t.tid, kind, detail);
  }

  /** Run until the host says the process finished, or `limit` instructions in total. */
  run(host: SchedulerHost, limit: number): void {
    const cpus = this.machine.cpus;
    const side = this.machine.hostSide;
    let total = 0;
    let nextProgress = host.progress ? PROGRESS_EVERY : Number.POSITIVE_INFINITY;
    while (!host.finished()) {
      // The candidate CPU with the smallest modeled time. A CPU with a pending IPI is a
      // candidate even when idle (it must acknowledge); a CPU parked by stop-machine is not.
      const head = this.ready[0];
      let best = -1;
      let bestAt = Number.POSITIVE_INFINITY;
      for (let i = 0; i < cpus.length; i++) {
        const c = cpus[i]!;
        let at: number;
        if (side.pending[i]!.length > 0) at = c.cycles;
        else if (side.parked[i]) continue;
        else if (this.current[i]) at = c.cycles;
        else if (head) at = Math.max(c.cycles, head.readyAt);
        else continue;
        if (at < bestAt) {
          best = i;
          bestAt = at;
        }
      }
      // The patching agent runs when it is not ahead of every candidate CPU (or nothing else can).
      if (side.agentActive && side.agentRunnable() && (side.agentTime <= bestAt || best < 0)) {
        side.agentStep();
        continue;
      }
      if (best >= 0 && side.pending[best]!.length > 0) {
        this.machine.takeIpis(cpus[best]!);
        continue;
      }

      // Timers due by then (or the earliest one when nothing can run).
      if (this.sleepers.length > 0) {
        let s = this.sleepers[0]!;
        for (const x of this.sleepers)
          if (x.deadline < s.deadline || (x.deadline === s.deadline && x.tid < s.tid)) s = x;
        if (s.deadline <= bestAt) {
          this.sleepers.splice(this.sleepers.indexOf(s), 1);
          host.timedOut(s);
          this.enqueue(s, s.deadline);
          continue;
        }
      }
      if (best < 0) {
        host.deadlocked();
        return;
      }
      const c = cpus[best]!;
      let t = this.current[best];
      if (!t) {
        t = this.ready.shift()!;
        if (t.readyAt > c.cycles) {
          this.idleCycles[best] = this.idleCycles[best]! + (t.readyAt - c.cycles);
          c.cycles = t.readyAt;
        }
        copyContext(t.ctx, c);
        this.running = c;
        t.cpu = best;
        t.state = ThreadState.Running;
        t.switchedInAt = c.cycles;
        this.current[best] = t;
        this.switches++;
        this.record(c, t, 0, 0);
        host.switchedIn(c, t);
        if (host.finished()) break;
      }
      if (t.state === ThreadState.Running) {
        let q = this.adversarial
          ? 1 + (this.rng.next() % this.quantum)
          : (this.quantum >> 1) + (this.rng.next() % this.quantum);
        // While the agent works, quanta are short so that IPIs are taken promptly.
        // (An agent that starts later in modeled time leaves the quanta alone until then.)
        if (side.agentActive) {
          const ahead = side.agentTime - c.cycles;
          const cap = ahead > side.agentQuantum ? ahead : side.agentQuantum;
          if (q > cap) q = cap;
        }
        const before = c.instructions;
        this.running = c;
        const why = this.machine.run(c, Math.min(q, limit - total));
        total += c.instructions - before;
        if (total >= nextProgress) {
          nextProgress = total + PROGRESS_EVERY;
          host.progress!(total);
        }
        if (why === Stop.Fault) host.faulted(c, t);
      }
      if (t.state !== ThreadState.Running) {
        // Blocked, exited, or yielded (Ready).
        this.switchOut(c, t);
        if (t.state === ThreadState.Ready) this.enqueue(t, c.cycles);
      } else if (this.othersReady(c)) {
        this.switchOut(c, t);
        this.enqueue(t, c.cycles);
      }
      if (total >= limit && !host.finished()) {
        host.limitReached(total);
        return;
      }
    }
  }

  private switchOut(c: Cpu, t: Thread): void {
    t.runCycles += c.cycles - t.switchedInAt;
    if (t.state !== ThreadState.Done) copyContext(c, t.ctx);
    t.cpu = -1;
    this.current[c.id] = null;
  }
}
