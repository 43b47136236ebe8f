/**
 * The privileged side on the machine that runs real programs (issue 4): an INT3 handler that
 * emulates a CALL leaves a program's output unchanged; a single-stepped run counts exactly the
 * instructions executed; a VMCALL handler sees and changes registers; IPIs from the agent to
 * all CPUs are acknowledged and charged while threads run; stop-machine parks every CPU.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";
import { DEFAULT_PROFILE, LinuxProcess, Machine } from "../src/index.ts";
import { assemble } from "../src/precise/litmus.ts";

const BIN = join(import.meta.dirname, "fixtures/bin");
const hello = join(import.meta.dirname, "../../../apps/cli/examples/hello");

function run(m: Machine, path: string, args: string[] = [], seed = 1): { out: string; proc: LinuxProcess } {
  let out = "";
  const proc = new LinuxProcess(m, readFileSync(path), {
    argv: [path, ...args],
    seed,
    stdout: (d) => {
      out += Buffer.from(d).toString();
    },
    stderr: () => {},
  });
  const r = proc.run();
  out += JSON.stringify(r);
  return { out, proc };
}

describe("host traps, calls and IPIs on real programs", () => {
  test.skipIf(!requireTools("as", "ld"))(
    "an INT3 handler emulating a CALL leaves the result unchanged",
    () => {
      // _start: call f ten times (f: rax = 3*rax + 1), write the result's low byte, exit with it.
      const asm = [
        "  xor %eax, %eax",
        "  mov $10, %ebx",
        "1:",
        "site:",
        "  call f",
        "  dec %ebx",
        "  jnz 1b",
        "  mov %eax, %edi",
        "  and $0x7f, %edi",
        "  mov $60, %eax",
        "  syscall",
        "f:",
        "  lea 1(%rax,%rax,2), %eax",
        "  ret",
      ];
      const code = assemble(asm, 0x401000, "host.test");
      const exitOf = (withInt3: boolean): { code: number; hits: number } => {
        const m = new Machine({ cpus: 1 });
        const proc = new LinuxProcess(m, readFileSync(hello), { argv: ["hello"], stdout: () => {} });
        m.writeText(0x401000, code);
        const site = 0x401000 + 7; // xor (2) + mov (5)
        expect(m.mem.readBytes(site, 1)[0]).toBe(0xe8);
        const target = site + 5 + new DataView(code.buffer, code.byteOffset + 8, 4).getInt32(0, true);
        let hits = 0;
        if (withInt3) {
          m.writeText(site, Uint8Array.of(0xcc));
          m.onTrap("bp", ({ cpu, address }) => {
            if (address !== site) return "declined";
            hits++;
            const sp = cpu.reg64(4) - 8;
            m.mem.write64(sp, site + 5, 0);
            cpu.setReg64(4, sp);
            cpu.rip = target;
            return "handled";
          });
        }
        return { code: proc.run().code, hits };
      };
      const plain = exitOf(false);
      const trapped = exitOf(true);
      expect(plain.code).toBe(29524 & 0x7f); // f applied 10 times to 0: (3^10 - 1) / 2 = 29524
      expect(trapped.code).toBe(plain.code);
      expect(trapped.hits).toBe(10);
    },
  );

  test("a single-stepped program counts exactly its instructions", () => {
    const plain = new Machine({ cpus: 1 });
    run(plain, hello);
    const m = new Machine({ cpus: 1 });
    const proc = new LinuxProcess(m, readFileSync(hello), { argv: ["hello"], stdout: () => {} });
    m.cpus[0]!.setFlags(m.cpus[0]!.getFlags() | 0x100);
    // The process loads its own initial context; set TF there.
    (proc as unknown as { threads: Map<number, { ctx: { flags: number } }> }).threads.forEach((t) => {
      t.ctx.flags |= 0x100;
    });
    let steps = 0;
    m.onTrap("db", () => {
      steps++;
      return "handled";
    });
    const r = proc.run();
    expect(r.code).toBe(0);
    expect(steps).toBe(plain.cpus[0]!.instructions);
    expect(m.cpus[0]!.instructions).toBe(plain.cpus[0]!.instructions);
  });

  test("a VMCALL handler sees and changes registers", () => {
    const m = new Machine({ cpus: 1 });
    const proc = new LinuxProcess(m, readFileSync(hello), { argv: ["hello"], stdout: () => {} });
    // Patch _start: mov $77,%eax ; mov $5,%edi ; vmcall ; mov %eax,%edi ; mov $60,%eax ; syscall
    const code = Uint8Array.of(
      0xb8,
      77,
      0,
      0,
      0,
      0xbf,
      5,
      0,
      0,
      0,
      0x0f,
      0x01,
      0xc1,
      0x89,
      0xc7,
      0xb8,
      60,
      0,
      0,
      0,
      0x0f,
      0x05,
    );
    m.writeText(0x401000, code);
    let seen = -1;
    m.onHostCall(77, ({ cpu }) => {
      seen = cpu.reg64(7);
      cpu.setReg64(0, seen * 8);
    });
    const r = proc.run();
    expect(seen).toBe(5);
    expect(r.code).toBe(40); // exit(rdi = rax = 5 * 8)
    expect(m.cpus[0]!.cycles).toBeGreaterThanOrEqual(DEFAULT_PROFILE.events.hostCall);
  });

  test("IPIs from the agent reach every CPU while threads run; stop-machine parks all", () => {
    const m = new Machine({ cpus: 4 });
    let out = "";
    const proc = new LinuxProcess(m, readFileSync(join(BIN, "threads")), {
      argv: ["threads"],
      seed: 2,
      stdout: (d) => {
        out += Buffer.from(d).toString();
      },
    });
    const seen: number[] = [];
    let ipi: ReturnType<Machine["sendIpi"]> | undefined;
    let parkedAll = false;
    m.setAgent(function* (mm) {
      for (let i = 0; i < 200; i++) yield; // let the threads get going
      ipi = mm.sendIpi((cpu) => seen.push(cpu.id));
      yield { wait: () => ipi!.acked === 4, why: "acks" };
      yield* mm.stopMachine(() => {
        parkedAll = mm.hostSide.parked.every((x) => x);
      });
    }, 0);
    const before = m.cpus.map((c) => c.cycles);
    const r = proc.run();
    const native = readFileSync(join(BIN, "threads"));
    void native;
    expect(r.code).toBe(0);
    expect(seen.sort()).toEqual([0, 1, 2, 3]);
    expect(parkedAll).toBe(true);
    expect(m.hostSide.stats.ipis).toBe(8);
    for (const [i, c] of m.cpus.entries())
      expect(c.cycles - before[i]!).toBeGreaterThanOrEqual(2 * DEFAULT_PROFILE.events.ipi);
    const plain = run(new Machine({ cpus: 4 }), join(BIN, "threads"), [], 2);
    expect(out + JSON.stringify(r)).toBe(plain.out);
  });

  test.skipIf(!requireTools("as", "ld"))("quiescence sees RIPs and return addresses on stacks", () => {
    // _start: call g (returns to 'back'); g: vmcall 9 (the host asks about quiescence); exit 0.
    const asm = [
      "  call g",
      "back:",
      "  xor %edi, %edi",
      "  mov $60, %eax",
      "  syscall",
      "g:",
      "  mov $9, %eax",
      "  vmcall",
      "  ret",
    ];
    const code = assemble(asm, 0x401000, "host.test");
    const m = new Machine({ cpus: 2 });
    const proc = new LinuxProcess(m, readFileSync(hello), { argv: ["hello"], stdout: () => {} });
    m.writeText(0x401000, code);
    const back = 0x401005;
    const answers: boolean[] = [];
    m.onHostCall(9, ({ cpu }) => {
      answers.push(m.quiescent([{ start: back, len: 1 }])); // a return address on the stack
      answers.push(m.quiescent([{ start: cpu.rip, len: 1 }])); // the calling CPU's RIP
      answers.push(m.quiescent([{ start: 0x500000, len: 0x1000 }])); // unrelated
    });
    expect(proc.run().code).toBe(0);
    expect(answers).toEqual([false, false, true]);
    // After the call returned, nothing refers to 'back' any more... but RIP ran there: quiescent now.
    expect(m.quiescent([{ start: back, len: 1 }])).toBe(true);
  });
});
