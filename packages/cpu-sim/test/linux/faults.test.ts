/**
 * Acceptance 4: a guest that jumps into random bytes, writes its own read-only text, divides
 * by zero or executes a privileged instruction ends with a clear report (signal, address, RIP,
 * instruction bytes and text) and the exit status the real kernel gives it (compared with the
 * native run) — never a host exception.
 */
import { describe, expect, test } from "vitest";
import { fixture, runNative, runSim } from "./helpers.ts";

const CASES: [mode: string, signal: number, report: RegExp][] = [
  ["jump", 4, /SIGILL|SIGSEGV/],
  ["rotext", 11, /SIGSEGV: write of read-only memory at 0x[0-9a-f]+ at rip 0x[0-9a-f]+ .*: c6 05 .* \(movb/],
  ["div0", 8, /SIGFPE: divide error .* at rip 0x[0-9a-f]+ .*: f7 f9 \(idiv/],
  ["priv", 11, /SIGSEGV: general protection fault .* at rip 0x[0-9a-f]+ .*: f4 \(hlt\)/],
  ["null", 11, /SIGSEGV: read of unmapped address 0x0 at rip/],
  ["nx", 11, /SIGSEGV: execution of non-executable memory at 0x[0-9a-f]+/],
  ["ud2", 4, /SIGILL: .* 0f 0b \(ud2\)/],
  ["abort", 6, /SIGABRT/],
];

describe("guest faults", () => {
  for (const [mode, signal, report] of CASES)
    test(mode, () => {
      const native = runNative(fixture("faults"), [mode]);
      const sim = runSim(fixture("faults"), [mode]);
      expect(sim.exit.signal).toBe(signal);
      expect(sim.status).toBe(native.status);
      expect(sim.exit.report).toMatch(report);
      expect(sim.exit.report).not.toMatch(/internal error/);
    });

  test("random code with many seeds never escapes as a host exception", () => {
    for (let s = 1; s <= 40; s++) {
      const sim = runSim(fixture("faults"), ["jump", String(s)], { maxInstructions: 200_000 });
      expect(sim.exit.report ?? "", `seed ${s}`).not.toMatch(/internal error/);
      expect(sim.status === 124 || sim.status > 128 || sim.status < 128).toBe(true);
    }
  });

  test("an unknown syscall returns -ENOSYS and is reported once", () => {
    // The syscalls fixture calls syscall 500 twice (and prints ENOSYS both times).
    const sim = runSim(fixture("syscalls"), []);
    expect(sim.stdout).toMatch(/unknown syscall: -1 -1 Function not implemented/);
    expect(sim.stderr.match(/xmc: unknown syscall 500, returning -ENOSYS/g)).toHaveLength(1);
  });
});
