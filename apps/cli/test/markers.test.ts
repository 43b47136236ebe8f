/**
 * `xmc markers` (the built app): the shop fixture's sites, and acceptance 4 of the markers
 * issue — the USDT sites have the same addresses, semaphores and argument specs as
 * `readelf -n` shows for the .note.stapsdt notes; our own notes' addresses are checked against
 * `objdump -d` (a NOP5, a jmp .+5 and a VMCALL at the listed addresses).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";

const xmc = join(import.meta.dirname, "../dist/xmc.js");
const SHOP = join(import.meta.dirname, "../examples/shop");
const run = (...args: string[]) => spawnSync("node", [xmc, ...args], { encoding: "utf8" });

interface Site {
  marker: string;
  kind: string;
  address: string;
  args: string[];
  semaphore: string | null;
  function: string | null;
  format: string | null;
}

function sites(): Site[] {
  const r = run("markers", "--json", SHOP);
  expect(r.status).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Site);
}

describe("xmc markers", () => {
  test.skipIf(!requireTools("readelf"))("USDT sites match readelf -n: address, semaphore, arguments", () => {
    const re = spawnSync("readelf", ["-n", SHOP], { encoding: "utf8" });
    const notes: { name: string; loc: string; sem: string; args: string }[] = [];
    const blocks = re.stdout.split("stapsdt ").slice(1);
    for (const b of blocks) {
      const get = (k: string) => new RegExp(`${k}: ([^\\n,]*)`).exec(b)?.[1]?.trim() ?? "";
      notes.push({
        name: `${get("Provider")}:${get("Name")}`,
        loc: get("Location"),
        sem: get("Semaphore"),
        args: get("Arguments"),
      });
    }
    expect(notes.length).toBe(2);
    const ours = sites().filter((s) => s.kind === "usdt");
    expect(ours.map((s) => s.marker).sort()).toEqual(notes.map((n) => n.name).sort());
    for (const n of notes) {
      const s = ours.find((x) => x.marker === n.name)!;
      expect(BigInt(s.address)).toBe(BigInt(n.loc));
      expect(BigInt(s.semaphore ?? 0)).toBe(BigInt(n.sem));
      expect(s.args.join(" ")).toBe(n.args);
    }
  });

  test.skipIf(!requireTools("objdump"))(
    "our markers' addresses hold the instructions of their kind (objdump -d)",
    () => {
      const dis = spawnSync("objdump", ["-d", "--no-show-raw-insn", SHOP], { encoding: "utf8" }).stdout;
      const at = (addr: string) => new RegExp(`^\\s*${addr.slice(2)}:\\s*(.*)$`, "m").exec(dis)?.[1]?.trim();
      const s = sites();
      const kinds = Object.fromEntries(s.map((x) => [x.marker, x]));
      expect(at(kinds["shop:request_start"]!.address)).toMatch(/^nopl\s+0x0\(%rax,%rax,1\)$/);
      expect(at(kinds["shop:request_done"]!.address)).toMatch(/^jmp\s+[0-9a-f]+ <worker\+0x[0-9a-f]+>$/);
      expect(at(kinds["shop:request_error"]!.address)).toBe("vmcall");
      expect(at(kinds["func:price"]!.address)).toBe("nop");
      expect(kinds["func:price"]!.function).toBe("price");
      expect(kinds["shop:request_start"]!.format).toBe("%d %lu");
    },
  );

  test("the text listing has one line per site with its kind and function", () => {
    const r = run("markers", SHOP);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ADDRESS\s+KIND\s+MARKER\s+FUNCTION\s+FORMAT\s+ARGS$/);
    expect(lines).toHaveLength(1 + sites().length);
    expect(r.stdout).toMatch(/nop5\s+shop:request_start\s+worker\s+"%d %lu"\s+-4@%r9d 8@%rcx/);
    expect(r.stdout).toMatch(/usdt\s+shop:usdt_audit\s+worker\s+-\s+8@%rcx\s+semaphore=0x/);
  });

  test("bad input is one clear line", () => {
    const missing = run("markers", "/nonexistent/prog");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe("xmc markers: cannot read /nonexistent/prog: ENOENT\n");
    const notElf = run("markers", join(import.meta.dirname, "../examples/hello.c"));
    expect(notElf.status).toBe(1);
    expect(notElf.stderr.trim().split("\n")).toHaveLength(1);
    expect(notElf.stderr).toMatch(/^xmc: /);
    const usage = run("markers");
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("xmc markers: give exactly one PROGRAM (see xmc markers --help)\n");
  });
});
