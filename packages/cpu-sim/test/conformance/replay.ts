/**
 * The simulator side of the conformance run: replays every case of a stream on a fresh
 * {@link Machine} (code page and data page at the harness's addresses, registers and flags from
 * the case, run until RIP passes the snippet) and compares with the native results: all
 * sixteen GPRs, the defined flags, the data buffer, and the fault status.
 * @module
 */
import { formName } from "@xmc/x86-decode";
import type { Block } from "../../src/exec/block.ts";
import { translateBlock } from "../../src/exec/translate.ts";
import { CpuException, GuestFault, Machine, Perm, runCpu, Stop, type Uop, Vec } from "../../src/index.ts";
import {
  CASE_HEAD,
  CODE_ADDR,
  DATA_ADDR,
  DATA_SIZE,
  FLAGS_COMPARED,
  HAS_XMM,
  RESULT_HEAD,
  Status,
} from "./format.ts";

const REG_NAMES = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
];

/** Outcome of a replay. */
export interface ReplayReport {
  cases: number;
  passed: number;
  /** Cases per decoded form name (the decoder's, not the generator's label). */
  perForm: Map<string, number>;
  /** Failing cases per form. */
  failedPerForm: Map<string, number>;
  /** Cases where the native CPU faulted, by status. */
  faults: Map<number, number>;
  /** The first failures, described. */
  failures: string[];
}

function hex64(lo: number, hi: number): string {
  return `0x${(hi >>> 0).toString(16).padStart(8, "0")}${(lo >>> 0).toString(16).padStart(8, "0")}`;
}

function simStatus(e: unknown): Status {
  if (e instanceof CpuException) {
    switch (e.vector) {
      case Vec.DE:
        return Status.DE;
      case Vec.UD:
        return Status.UD;
      case Vec.GP:
        return Status.GP;
      case Vec.AC:
        return Status.AC;
      case Vec.BP:
      case Vec.DB:
        return Status.Trap;
      default:
        return Status.Other;
    }
  }
  if (e instanceof GuestFault) return e.address >= 2 ** 47 ? Status.GP : Status.PF;
  return Status.Other;
}

/**
 * Replay `stream` (see format.ts) against the native `results`. `undef[i]` is the mask of
 * flags the SDM leaves undefined for case i; `offsets[i]` its record offset; `labels[i]` the
 * generator's label (for messages).
 */
export function replay(
  stream: Uint8Array,
  offsets: readonly number[],
  undef: readonly number[],
  labels: readonly string[],
  results: Uint8Array,
  maxFailures = 40,
  mode: "fast" | "interp" = "interp",
): ReplayReport {
  const m = new Machine({ cpus: 1, mode });
  m.mem.map(DATA_ADDR, DATA_SIZE, Perm.RW);
  m.mem.map(CODE_ADDR, 4096, Perm.RX);
  const c = m.cpus[0]!;
  const base = stream.subarray(8, 8 + DATA_SIZE);
  const sv = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const rv = new DataView(results.buffer, results.byteOffset, results.byteLength);
  const init = new Uint8Array(DATA_SIZE);
  const expect = new Uint8Array(DATA_SIZE);
  const code = new Uint8Array(32).fill(0xcc);
  const report: ReplayReport = {
    cases: offsets.length,
    passed: 0,
    perForm: new Map(),
    failedPerForm: new Map(),
    faults: new Map(),
    failures: [],
  };
  let rp = 0;
  for (let i = 0; i < offsets.length; i++) {
    const p = offsets[i]!;
    const codeLen = sv.getUint32(p + 16, true);
    const caseFlags = sv.getUint32(p + 20, true);
    const ovlOff = sv.getUint16(p + 160, true);
    const ovlLen = sv.getUint16(p + 162, true);
    // Native result.
    if (rp + RESULT_HEAD > results.length) throw new Error(`native results end before case ${i}`);
    const nStatus = rv.getUint32(rp, true);
    const nDiff = rv.getUint32(rp + 4, true);
    const rHead = rp;
    rp += RESULT_HEAD + (caseFlags & HAS_XMM ? 256 : 0);
    const diffAt = rp;
    rp += 4 * nDiff;

    // Set up the simulator.
    for (let k = 0; k < 32; k++) c.regs[k] = sv.getInt32(p + 24 + 4 * k, true);
    c.setFlags((sv.getUint32(p + 152, true) & 0xcd5) | 0x202);
    c.fault = undefined;
    c.stopRequested = false;
    init.set(base);
    init.set(stream.subarray(p + CASE_HEAD, p + CASE_HEAD + ovlLen), ovlOff);
    m.mem.writeBytes(DATA_ADDR, init);
    code.fill(0xcc);
    code.set(stream.subarray(p, p + codeLen));
    m.mem.writeBytes(CODE_ADDR, code);
    c.rip = CODE_ADDR;
    let form = "(undecodable)";
    let text = "";
    let first: Uop | undefined;
    try {
      const u = m.cache.lookup(CODE_ADDR);
      first = u;
      form = formName(u.form);
      text = u.text;
      if (u.len !== codeLen) form = `${form}(length ${u.len} != ${codeLen})`;
    } catch {
      // Reported through the run below.
    }
    let status = Status.Ok;
    const end = CODE_ADDR + codeLen;
    // Fast mode: the first instruction runs as a translated one-instruction block (exec/translate.ts).
    if (mode === "fast" && first !== undefined) {
      const b: Block = {
        uops: [first],
        len: 1,
        head: first.ip,
        loops: false,
        flags: Uint8Array.of(1),
        expect: [-1],
        heat: 0,
        run: null,
      };
      translateBlock(b);
      try {
        b.run!(c, b, m.cache, 1);
        c.instructions++;
      } catch (e) {
        c.rip = first.ip;
        c.fault = e;
        status = simStatus(e);
      }
    }
    for (let k = 0; k < 10000 && c.rip !== end && status === Status.Ok; k++) {
      if (runCpu(c, m.cache, 1) === Stop.Fault) {
        status = simStatus(c.fault);
        break;
      }
    }
    report.perForm.set(form, (report.perForm.get(form) ?? 0) + 1);
    if (nStatus !== Status.Ok) report.faults.set(nStatus, (report.faults.get(nStatus) ?? 0) + 1);

    // Compare.
    const problems: string[] = [];
    if (status !== nStatus) {
      const why = status !== Status.Ok && c.fault instanceof Error ? ` (${c.fault.message})` : "";
      problems.push(`status: native ${Status[nStatus]}, simulator ${Status[status]}${why}`);
    } else if (status === Status.Ok) {
      for (let r = 0; r < 16; r++) {
        const lo = rv.getInt32(rHead + 8 + 8 * r, true);
        const hi = rv.getInt32(rHead + 12 + 8 * r, true);
        if (lo !== c.regs[2 * r] || hi !== c.regs[2 * r + 1])
          problems.push(
            `${REG_NAMES[r]}: native ${hex64(lo, hi)}, simulator ${hex64(c.regs[2 * r]!, c.regs[2 * r + 1]!)}`,
          );
      }
      const mask = FLAGS_COMPARED & ~undef[i]!;
      const nf = rv.getUint32(rHead + 136, true) & mask;
      const sf = c.getFlags() & mask;
      if (nf !== sf)
        problems.push(
          `rflags (mask 0x${mask.toString(16)}): native 0x${nf.toString(16)}, simulator 0x${sf.toString(16)}`,
        );
      expect.set(init);
      for (let d = 0; d < nDiff; d++) {
        const off = rv.getUint16(diffAt + 4 * d, true);
        expect[off] = rv.getUint8(diffAt + 4 * d + 2);
      }
      const got = m.mem.readBytes(DATA_ADDR, DATA_SIZE);
      let bad = 0;
      for (let k = 0; k < DATA_SIZE; k++) {
        if (got[k] !== expect[k]) {
          if (bad < 4)
            problems.push(
              `data[0x${k.toString(16)}]: native 0x${expect[k]!.toString(16)}, simulator 0x${got[k]!.toString(16)} (initial 0x${init[k]!.toString(16)})`,
            );
          bad++;
        }
      }
      if (bad > 4) problems.push(`… ${bad} data bytes differ`);
    }
    if (problems.length === 0) report.passed++;
    else {
      report.failedPerForm.set(form, (report.failedPerForm.get(form) ?? 0) + 1);
      if (report.failures.length < maxFailures) {
        const bytes = Buffer.from(stream.subarray(p, p + codeLen)).toString("hex");
        const regs: string[] = [];
        for (let r = 0; r < 16; r++)
          regs.push(
            `${REG_NAMES[r]}=${hex64(sv.getInt32(p + 24 + 8 * r, true), sv.getInt32(p + 28 + 8 * r, true))}`,
          );
        report.failures.push(
          `case ${i} [${labels[i]}] ${form} \`${text}\` bytes ${bytes} flags 0x${sv.getUint32(p + 152, true).toString(16)}\n  ` +
            `${problems.join("\n  ")}\n  initial ${regs.join(" ")}`,
        );
      }
    }
  }
  return report;
}
