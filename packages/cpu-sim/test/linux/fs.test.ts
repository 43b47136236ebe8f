/**
 * The guest filesystem: --fs maps a host directory as `/`; `..` above the root, absolute
 * symlinks and symlinks leading out are refused (EACCES), a read-only mapping refuses writes
 * (EROFS), and without --fs the host is invisible (ENOENT). Unit tests of the resolver, and
 * the fsescape fixture run in the guest.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { GuestFs } from "../../src/linux/fs.ts";
import { fixture, runSim } from "./helpers.ts";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "xmc-root-"));
  mkdirSync(join(root, "sub"));
  writeFileSync(join(root, "inside.txt"), "inside file\n");
  symlinkSync("/etc/passwd", join(root, "abs-link"));
  symlinkSync("../../etc/passwd", join(root, "rel-link"));
  symlinkSync("../..", join(root, "sub", "up-link"));
  symlinkSync("inside.txt", join(root, "ok-link"));
  symlinkSync("../inside.txt", join(root, "sub", "back-link"));
});

describe("GuestFs.resolve", () => {
  const EACCES = -13;
  const ENOENT = -2;
  test("paths inside the root", () => {
    const fs = new GuestFs({ root, exe: "/prog", cpus: 2 });
    const r = fs.resolve("/sub/../inside.txt", "/", true);
    expect(typeof r === "object" && r.host).toBe(join(root, "inside.txt"));
    const l = fs.resolve("/sub/back-link", "/", true);
    expect(typeof l === "object" && l.guest).toBe("/inside.txt");
    const n = fs.resolve("/ok-link", "/", false);
    expect(typeof n === "object" && n.guest).toBe("/ok-link");
    const m = fs.resolve("/missing", "/", true);
    expect(typeof m === "object" && m.exists).toBe(false);
  });
  test("escapes are refused", () => {
    const fs = new GuestFs({ root, exe: "/prog", cpus: 2 });
    for (const p of [
      "/..",
      "/../etc/passwd",
      "../../x",
      "/sub/../../etc",
      "/abs-link",
      "/rel-link",
      "/sub/up-link/etc",
    ])
      expect(fs.resolve(p, "/", true), p).toBe(EACCES);
    expect(fs.resolve("..", "/sub", true)).toMatchObject({ guest: "/" });
  });
  test("without a root the host is invisible; virtual files remain", () => {
    const fs = new GuestFs({ exe: "/prog", cpus: 4 });
    expect(fs.resolve("/etc/passwd", "/", true)).toBe(ENOENT);
    expect(fs.resolve("/dev/null", "/", true)).toMatchObject({ virt: { kind: "dev", name: "null" } });
    expect(fs.resolve("/proc/self/exe", "/", false)).toMatchObject({
      virt: { kind: "link", target: "/prog" },
    });
    const online = fs.resolve("/sys/devices/system/cpu/online", "/", true);
    expect(
      typeof online === "object" &&
        new TextDecoder().decode((online.virt as { content: Uint8Array }).content),
    ).toBe("0-3\n");
  });
});

describe("fs escape attempts in the guest", () => {
  test("fail with EACCES/ENOENT/EROFS, inside paths work", () => {
    const r = runSim(fixture("fsescape"), [], { fsRoot: root });
    expect(r.status, r.exit.report).toBe(0);
    expect(r.stdout).toBe(
      [
        "/inside.txt: opened (inside file)",
        "/sub/../inside.txt: opened (inside file)",
        "/..: Permission denied",
        "/../etc/passwd: Permission denied",
        "../../../../etc/passwd: Permission denied",
        "/sub/../../etc/passwd: Permission denied",
        "/abs-link: Permission denied",
        "/rel-link: Permission denied",
        "/sub/up-link/etc/passwd: Permission denied",
        "/ok-link: opened (inside file)",
        "/etc/passwd: No such file or directory",
        "/new-file: Read-only file system",
        "/inside.txt: Read-only file system",
        "cwd /",
        "chdir ok",
        "../inside.txt: opened (inside file)",
        "../../inside.txt: Permission denied",
        "access /inside.txt R_OK=0 W_OK=-1",
        "",
      ].join("\n"),
    );
  });

  test("--fs-rw allows creating files inside, still no escapes", () => {
    const dir = mkdtempSync(join(tmpdir(), "xmc-rw-"));
    writeFileSync(join(dir, "inside.txt"), "rw\n");
    const r = runSim(fixture("fsescape"), [], { fsRoot: dir, fsWritable: true });
    expect(r.stdout).toMatch(/^\/new-file: opened \(\)$/m);
    expect(r.stdout).toMatch(/^\/inside.txt: opened \(rw\)$/m);
    expect(r.stdout).toMatch(/^\/\.\.\/etc\/passwd: Permission denied$/m);
  });

  test("without --fs nothing of the host is visible", () => {
    const r = runSim(fixture("fsescape"), []);
    expect(r.stdout).toMatch(/^\/etc\/passwd: No such file or directory$/m);
    expect(r.stdout).toMatch(/^\/inside.txt: No such file or directory$/m);
  });
});
