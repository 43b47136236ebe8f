/**
 * What a handler sees: the probed CPU's registers (readable and writable), memory, the CPU id,
 * its modeled time, the function's integer arguments, a marker's decoded arguments, and for a
 * kretprobe the return value and the data its entry handler left.
 * @module
 */
import type { ProbeValue } from "@xmc/markers";
import { detourSlotOf } from "./code.ts";
import type { ProbeCpu, ProbePort } from "./port.ts";
import type { Probe } from "./probes.ts";

/** System V integer argument registers: RDI, RSI, RDX, RCX, R8, R9. */
const ARG_REGS = [7, 6, 2, 1, 8, 9];

/** The context a handler is called with. */
export interface ProbeContext {
  /** The probe being run. */
  readonly probe: Probe;
  /** The probed instruction's address (for a kretprobe's return: the function's). */
  readonly address: number;
  /** CPU number and its modeled time (cycles). */
  readonly cpu: number;
  readonly cycles: number;
  /** A 64-bit register (0 RAX … 4 RSP … 15 R15) as the probed code sees it. */
  reg(r: number): bigint;
  /** Set a register for the probed code (not RSP). Takes effect when the handler returns. */
  setReg(r: number, v: bigint): void;
  /** RFLAGS as the probed code sees it. */
  readonly flags: number;
  /** Integer argument `i` (0-5) of the System V calling convention (meaningful at a function's entry). */
  arg(i: number): bigint;
  /** Read / write guest memory (data accesses; throws when unmapped). */
  read(addr: number, len: number): Uint8Array;
  write(addr: number, bytes: Uint8Array): void;
  /** A marker probe's decoded arguments (empty for other probes). */
  readonly args: readonly ProbeValue[];
  /** kretprobe return handler: the return value (RAX). */
  readonly retval: bigint;
  /** kretprobe: whatever the entry handler stored here for this instance. */
  data: unknown;
}

/** Where the registers are: on the trapped CPU, or saved in a detour's frame. */
export interface RegView {
  reg(r: number): bigint;
  setReg(r: number, v: bigint): void;
  readonly flags: number;
}

/** Registers of a CPU stopped by a trap (the state the probed instruction will see). */
export function trapView(cpu: ProbeCpu): RegView {
  return {
    reg: (r) => cpu.reg64n(r),
    setReg(r, v) {
      if (r === 4) throw new RangeError("a probe handler cannot move the stack pointer");
      cpu.setReg64n(r, v);
    },
    get flags() {
      return cpu.flags;
    },
  };
}

function le64(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** Registers saved by a detour buffer, at its host call (`frame` = the CPU's RSP there). */
export function frameView(port: ProbePort, cpu: ProbeCpu, rspOffset: number): RegView {
  const frame = Number(cpu.reg64n(4));
  return {
    reg(r) {
      if (r === 4) return BigInt.asUintN(64, BigInt(frame + rspOffset));
      return le64(port.readMem(frame + detourSlotOf(r), 8));
    },
    setReg(r, v) {
      if (r === 4) throw new RangeError("a probe handler cannot move the stack pointer");
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
      port.writeMem(frame + detourSlotOf(r), b);
    },
    get flags() {
      return Number(le64(port.readMem(frame + detourSlotOf(-1), 8)) & 0xffffffffn);
    },
  };
}

/** A context over `view`. */
export class Context implements ProbeContext {
  data: unknown = undefined;
  args: readonly ProbeValue[] = [];
  constructor(
    readonly probe: Probe,
    readonly address: number,
    private readonly cpuRef: ProbeCpu,
    private readonly view: RegView,
    private readonly port: ProbePort,
  ) {}
  get cpu(): number {
    return this.cpuRef.id;
  }
  get cycles(): number {
    return this.cpuRef.cycles;
  }
  reg(r: number): bigint {
    return this.view.reg(r);
  }
  setReg(r: number, v: bigint): void {
    this.view.setReg(r, v);
  }
  get flags(): number {
    return this.view.flags;
  }
  arg(i: number): bigint {
    const r = ARG_REGS[i];
    if (r === undefined) throw new RangeError(`argument ${i}: only the 6 register arguments are available`);
    return this.view.reg(r);
  }
  read(addr: number, len: number): Uint8Array {
    return this.port.readMem(addr, len);
  }
  write(addr: number, bytes: Uint8Array): void {
    this.port.writeMem(addr, bytes);
  }
  get retval(): bigint {
    return this.view.reg(0);
  }
}
