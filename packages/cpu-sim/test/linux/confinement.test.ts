/**
 * Guest confinement (issue 12), one test per rule, with small guest programs that make raw
 * syscalls (see `../fuzz-helpers.ts`), so each attempt and its errno are exact:
 * - files: nothing outside the `fsRoot` directory (`..`, absolute paths, symlinks out, /proc
 *   tricks, directory descriptors, FIFOs, O_NOFOLLOW); without `fsRoot` nothing of the host;
 * - network: every socket syscall is -ENOSYS;
 * - processes and signals: kill/tkill/tgkill reach only the guest's own threads (-ESRCH for
 *   any other pid, the host's included); fork, vfork, execve and clone without CLONE_VM are
 *   -ENOSYS;
 * - limits: the memory limit holds against mmap and brk loops and the instruction limit stops
 *   an endless loop exactly, in every mode (interpreter, blocks, precise, several CPUs);
 * - defaults: what a machine and a process get when the options are left out.
 * (`fs.test.ts` runs the C fixture `fsescape` for the same file rules through libc.)
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { LinuxProcess, Machine, type ProcessOptions } from "../../src/index.ts";
import {
  DATA_BASE,
  exitCode,
  type GuestCall,
  guestCalls,
  RESULTS,
  SCRATCH,
  tinyElf,
} from "../fuzz-helpers.ts";

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EACCES = 13;
const ENOTDIR = 20;
const ENOMEM = 12;
const ENOSYS = 38;
const ELOOP = 40;

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const AT_FDCWD = -100;

interface Run {
  results: number[];
  exit: ReturnType<LinuxProcess["run"]>;
  machine: Machine;
  diagnostics: string[];
}

/** Run `calls` in a fresh process; results as signed numbers (-errno on failure). */
function run(
  calls: readonly GuestCall[],
  opts: Partial<ProcessOptions> & { memoryLimit?: number } = {},
): Run {
  const machine = new Machine({ cpus: 1, ...(opts.memoryLimit ? { memoryLimit: opts.memoryLimit } : {}) });
  const diagnostics: string[] = [];
  const p = new LinuxProcess(machine, guestCalls(calls), {
    argv: ["confined"],
    stdin: new Uint8Array(0),
    stdout: () => {},
    stderr: () => {},
    diagnostics: (l) => diagnostics.push(l),
    maxInstructions: 1_000_000,
    ...opts,
  });
  const exit = p.run();
  const results = calls.map((_, i) => {
    const lo = machine.mem.read64(RESULTS + 8 * i) >>> 0;
    return Number(BigInt.asIntN(64, BigInt(lo) + (BigInt(machine.mem.hi >>> 0) << 32n)));
  });
  return { results, exit, machine, diagnostics };
}

let root = "";
let outside = "";
beforeAll(() => {
  outside = mkdtempSync(join(tmpdir(), "xmc-outside-"));
  writeFileSync(join(outside, "secret.txt"), "host secret\n");
  root = mkdtempSync(join(tmpdir(), "xmc-confined-"));
  mkdirSync(join(root, "sub"));
  mkdirSync(join(root, "proc"));
  writeFileSync(join(root, "inside.txt"), "inside\n");
  symlinkSync(join(outside, "secret.txt"), join(root, "abs-link"));
  symlinkSync(join(outside, "secret.txt").replace(/^\//, "../../../../../../../../"), join(root, "rel-link"));
  symlinkSync("../..", join(root, "sub", "up"));
  symlinkSync(outside, join(root, "dir-link"));
  symlinkSync("inside.txt", join(root, "ok-link"));
  execFileSync("mkfifo", [join(root, "fifo")]);
});

describe("files: nothing outside fsRoot", () => {
  const secret = () => join(outside, "secret.txt");

  test("escapes by .., absolute paths, symlinks and /proc are refused; inside paths work", () => {
    const attempts: [string, number][] = [
      ["/inside.txt", 0],
      ["/sub/../inside.txt", 0],
      ["/ok-link", 0],
      ["/..", -EACCES],
      ["/../inside.txt", -EACCES],
      [`/..${secret()}`, -EACCES],
      ["../../../../../../../../../../etc/passwd", -EACCES],
      [secret(), -ENOENT], // an absolute host path names a guest path under the root
      [`//${secret()}`, -ENOENT],
      ["/abs-link", -EACCES],
      ["/rel-link", -EACCES],
      ["/sub/up/inside.txt", -EACCES],
      ["/dir-link/secret.txt", -EACCES],
      ["/proc/self/root/inside.txt", -ENOENT],
      [`/proc/self/root${secret()}`, -ENOENT],
      [`/proc/1/root${secret()}`, -ENOENT],
      ["/proc/self/cwd/../inside.txt", -ENOENT],
      ["/inside.txt/..", -ENOTDIR],
    ];
    const r = run(
      attempts.map(([path]) => ({ nr: 2, args: [path, O_RDONLY, 0] })),
      { fsRoot: root },
    );
    expect(r.exit).toEqual({ code: 0, signal: 0 });
    const got = attempts.map(([path], i) => `${path}: ${r.results[i]! >= 0 ? "opened" : r.results[i]}`);
    expect(got).toEqual(attempts.map(([path, want]) => `${path}: ${want === 0 ? "opened" : want}`));
  });

  test("a directory descriptor does not lead out, nor does chdir", () => {
    const r = run(
      [
        { nr: 2, args: ["/sub", O_RDONLY | O_DIRECTORY, 0] }, // fd 3
        { nr: 257, args: [3, "../inside.txt", O_RDONLY, 0] },
        { nr: 257, args: [3, "../../inside.txt", O_RDONLY, 0] },
        { nr: 257, args: [3, "up/inside.txt", O_RDONLY, 0] },
        { nr: 80, args: ["/sub"] }, // chdir
        { nr: 80, args: ["../.."] },
        { nr: 257, args: [AT_FDCWD, "../inside.txt", O_RDONLY, 0] },
        { nr: 79, args: [SCRATCH, 64] }, // getcwd
      ],
      { fsRoot: root },
    );
    expect(r.results[0]).toBe(3);
    expect(r.results[1]).toBeGreaterThan(3);
    expect(r.results.slice(2, 4)).toEqual([-EACCES, -EACCES]);
    expect(r.results[4]).toBe(0);
    expect(r.results[5]).toBe(-EACCES);
    expect(r.results[6]).toBeGreaterThan(3);
    const cwd = r.machine.mem.readCString(SCRATCH, 64);
    expect(cwd).toBe("/sub");
  });

  test("O_NOFOLLOW on a symlink is ELOOP; a FIFO is refused (it could block the host)", () => {
    const r = run(
      [
        { nr: 2, args: ["/abs-link", O_RDONLY | O_NOFOLLOW, 0] },
        { nr: 2, args: ["/ok-link", O_RDONLY | O_NOFOLLOW, 0] },
        { nr: 2, args: ["/fifo", O_RDONLY, 0] },
        { nr: 2, args: ["/fifo", O_WRONLY, 0] },
      ],
      { fsRoot: root },
    );
    expect(r.results).toEqual([-ELOOP, -ELOOP, -EACCES, -EACCES]);
  });

  test("a read-only root refuses writes; a writable one still refuses escapes", () => {
    const ro = run([{ nr: 2, args: ["/new.txt", O_WRONLY | O_CREAT, 0o644] }], { fsRoot: root });
    expect(ro.results).toEqual([-30]); // EROFS
    const dir = mkdtempSync(join(tmpdir(), "xmc-rw-"));
    symlinkSync(outside, join(dir, "out"));
    const rw = run(
      [
        { nr: 2, args: ["/new.txt", O_WRONLY | O_CREAT, 0o644] },
        { nr: 2, args: ["/../escaped.txt", O_WRONLY | O_CREAT, 0o644] },
        { nr: 2, args: ["/out/escaped.txt", O_WRONLY | O_CREAT, 0o644] },
        { nr: 83, args: ["/out/newdir", 0o755] }, // mkdir through the link
        { nr: 87, args: ["/out/secret.txt"] }, // unlink through the link
      ],
      { fsRoot: dir, fsWritable: true },
    );
    expect(rw.results[0]).toBeGreaterThanOrEqual(3);
    expect(rw.results.slice(1)).toEqual([-EACCES, -EACCES, -EACCES, -EACCES]);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("host secret\n");
  });

  test("without fsRoot the host is invisible: only the virtual files exist", () => {
    const r = run([
      { nr: 2, args: ["/etc/passwd", O_RDONLY, 0] },
      { nr: 2, args: [join(outside, "secret.txt"), O_RDONLY, 0] },
      { nr: 2, args: ["/proc/self/root/etc/passwd", O_RDONLY, 0] },
      { nr: 2, args: ["/tmp", O_RDONLY | O_DIRECTORY, 0] },
      { nr: 2, args: ["/dev/null", O_RDONLY, 0] },
    ]);
    expect(r.results.slice(0, 4)).toEqual([-ENOENT, -ENOENT, -ENOENT, -ENOENT]);
    expect(r.results[4]).toBe(3);
  });
});

describe("network: none", () => {
  test("socket, socketpair, connect, bind, listen, accept, sendto, recvfrom are -ENOSYS", () => {
    const nrs = [41, 53, 42, 49, 50, 43, 288, 44, 45, 46, 47];
    const r = run(nrs.map((nr) => ({ nr, args: [2, 1, 0] })));
    expect(r.results).toEqual(nrs.map(() => -ENOSYS));
    expect(r.exit).toEqual({ code: 0, signal: 0 });
    expect(r.diagnostics.join("\n")).toMatch(/unknown syscall 41, returning -ENOSYS/);
  });
});

describe("processes and signals: only the guest itself", () => {
  test("kill/tkill/tgkill of any other pid is -ESRCH, the host's pid included; the host gets nothing", () => {
    let hostGot = 0;
    const onSignal = () => {
      hostGot++;
    };
    process.on("SIGUSR1", onSignal);
    try {
      const host = process.pid;
      const r = run([
        { nr: 62, args: [host, 10] }, // kill(host pid, SIGUSR1)
        { nr: 62, args: [1, 9] }, // kill(init, SIGKILL)
        { nr: 62, args: [process.ppid, 9] },
        { nr: 62, args: [-host, 9] }, // a host process group
        { nr: 200, args: [host, 9] }, // tkill
        { nr: 234, args: [host, host, 9] }, // tgkill
        { nr: 234, args: [1000, host, 9] },
        { nr: 62, args: [1000, 0] }, // the guest itself: allowed
        { nr: 62, args: [0, 0] },
      ]);
      expect(r.results).toEqual([-ESRCH, -ESRCH, -ESRCH, -ESRCH, -ESRCH, -ESRCH, -ESRCH, 0, 0]);
      expect(r.exit).toEqual({ code: 0, signal: 0 });
    } finally {
      process.off("SIGUSR1", onSignal);
    }
    expect(hostGot).toBe(0);
  });

  test("kill(-1, sig) reaches only the guest (it kills itself, nothing else)", () => {
    const r = run([{ nr: 62, args: [-1, 15] }]);
    expect(r.exit.signal).toBe(15);
  });

  test("fork, vfork, execve, clone without CLONE_VM, ptrace and process_vm_* are -ENOSYS", () => {
    const r = run([
      { nr: 57, args: [] },
      { nr: 58, args: [] },
      { nr: 59, args: ["/bin/sh", 0, 0] },
      { nr: 56, args: [17, 0, 0, 0, 0] }, // clone(SIGCHLD): a fork
      { nr: 101, args: [16, 1, 0, 0] }, // ptrace(PTRACE_ATTACH, 1)
      { nr: 310, args: [1, 0, 0, 0, 0, 0] },
      { nr: 322, args: [AT_FDCWD, "/bin/sh", 0, 0, 0] }, // execveat
    ]);
    expect(r.results).toEqual([-ENOSYS, -ENOSYS, -ENOSYS, -ENOSYS, -ENOSYS, -ENOSYS, -ENOSYS]);
    expect(r.exit).toEqual({ code: 0, signal: 0 });
  });

  test("setuid and friends do not pretend: the guest is an unprivileged user", () => {
    const r = run([
      { nr: 105, args: [0] }, // setuid(0)
      { nr: 102, args: [] }, // getuid
    ]);
    expect([-EPERM, -ENOSYS]).toContain(r.results[0]);
    expect(r.results[1]).not.toBe(0);
  });
});

describe("limits are always enforced", () => {
  test("memory: mmap in a loop stops at the limit with -ENOMEM; brk cannot pass it", () => {
    const limit = 24 << 20;
    const calls: GuestCall[] = [];
    for (let i = 0; i < 40; i++) calls.push({ nr: 9, args: [0, 1 << 20, 3, 0x22, -1, 0] }); // 1 MiB each
    calls.push({ nr: 12, args: [0] });
    calls.push({ nr: 12, args: [DATA_BASE + (64 << 20)] }); // brk far past the limit
    const r = run(calls, { memoryLimit: limit });
    const maps = r.results.slice(0, 40);
    const ok = maps.filter((v) => v > 0).length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(40);
    expect(maps.slice(ok)).toEqual(new Array(40 - ok).fill(-ENOMEM));
    expect(r.results[41]).toBe(r.results[40]); // the break did not move
    expect(r.machine.mem.mapped).toBeLessThanOrEqual(limit);
  });

  const spin = tinyElf(Uint8Array.of(0xeb, 0xfe)); // jmp .
  const loop = tinyElf(Uint8Array.of(0x48, 0xff, 0xc0, 0x48, 0x01, 0xc3, 0xeb, 0xf8)); // inc rax; add rbx,rax; jmp

  test.each([
    ["interpreter", 1, undefined],
    ["4 CPUs", 4, undefined],
    ["precise", 1, {}],
  ] as const)(
    "instructions: an endless loop stops at exactly maxInstructions (%s)",
    (_name, cpus, precise) => {
      for (const [prog, max] of [
        [spin, 1_000],
        [loop, 123_457],
        [loop, precise ? 200_000 : 2_000_000],
      ] as const) {
        const m = new Machine({ cpus, ...(precise ? { precise } : {}) });
        const p = new LinuxProcess(m, prog, {
          argv: ["spin"],
          stdout: () => {},
          stderr: () => {},
          maxInstructions: max,
        });
        const exit = p.run();
        expect(exit.instructionLimit).toBe(true);
        expect(exit.report).toMatch(/stopped after \d+ instructions/);
        expect(m.cpus.reduce((s, c) => s + c.instructions, 0)).toBe(max);
      }
    },
  );

  test("host time: an endless loop without an instruction limit stops at timeLimitMs", () => {
    const m = new Machine({ cpus: 2 });
    const p = new LinuxProcess(m, spin, {
      argv: ["spin"],
      stdout: () => {},
      stderr: () => {},
      timeLimitMs: 300,
    });
    const t0 = performance.now();
    const exit = p.run();
    const ms = performance.now() - t0;
    expect(exit.timeLimit).toBe(true);
    expect(exit.report).toMatch(/stopped after \d+ instructions and 0\.3 s of host time \(the time limit\)/);
    // Checked every few million instructions: it stops soon after the limit, never before.
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(m.cpus.reduce((s, c) => s + c.instructions, 0)).toBeGreaterThan(0);
  });

  test("a program that only exits is not stopped", () => {
    const m = new Machine({ cpus: 1 });
    const p = new LinuxProcess(m, tinyElf(Uint8Array.from(exitCode(5))), {
      argv: ["x"],
      maxInstructions: 3,
    });
    expect(p.run()).toEqual({ code: 5, signal: 0 });
  });
});

describe("host-side defaults", () => {
  test("a machine maps at most 4 GiB; a process sees no host files and has no instruction limit", () => {
    const m = new Machine();
    expect(m.mem.limit).toBe(4 * 1024 * 1024 * 1024);
    expect(m.cpus.length).toBe(1);
    const p = new LinuxProcess(m, guestCalls([{ nr: 2, args: ["/etc/passwd", O_RDONLY, 0] }]), {
      argv: ["d"],
      stdout: () => {},
      stderr: () => {},
    });
    expect(p.fs.root).toBeUndefined();
    expect(p.fs.writable).toBe(false);
    expect(p.opts.maxInstructions).toBeUndefined();
    expect(p.run()).toEqual({ code: 0, signal: 0 });
    expect(m.mem.read32(RESULTS)).toBe(-ENOENT);
  });
});
