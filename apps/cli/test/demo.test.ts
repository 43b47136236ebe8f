/**
 * `xmc demo`, what `npm start` runs (acceptance 1 of the app issue): the summary is printed
 * with every part, and its numbers agree with the files it wrote — the CTF trace read by
 * babeltrace2, the Chrome JSON and the report.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { describe, expect, test } from "vitest";

const xmc = join(import.meta.dirname, "../dist/xmc.js");

describe("xmc demo", () => {
  const dir = mkdtempSync(join(tmpdir(), "xmc-demo-"));
  const out = join(dir, "xmc-demo");
  const r = spawnSync("node", [xmc, "demo", "--out", out], { encoding: "utf8", maxBuffer: 1 << 26 });

  test("prints every part of the summary and exits 0", () => {
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    for (const part of [
      /^xmc demo — the shop program \(4 threads\) on 4 simulated CPUs$/m,
      /markers armed at \d+ and disarmed at \d+ \(modeled cycles\) with the INT3 batch protocol/,
      /events per marker per CPU/,
      /^ {4}shop:request_start(\s+\d+){5}$/m,
      /^ {4}\d+ events written, 0 lost$/m,
      /^ {4}2 runs, 5 sites enabled and 5 disabled in 2 batches: \d+ stores, 6 syncs, 24 IPIs/m,
      /disabled marker: 0\.25 cycles per call \(a 5-byte NOP; 100,000 calls/,
      /enabled marker: +\d+\.\d cycles per hit/,
      /naive protocol \(plain writes\): +hazards: (?!none)/,
      /INT3 batch protocol: +hazards: none; program output unchanged/,
      new RegExp(`wrote ${out}/: ctf/`),
    ])
      expect(r.stdout).toMatch(part);
  });

  test.skipIf(!requireTools("babeltrace2"))("its numbers agree with the trace files", () => {
    const rows = [...r.stdout.matchAll(/^ {4}([\w:]+)((?:\s+\d+){5})$/gm)].map((m) => ({
      name: m[1]!,
      counts: m[2]!.trim().split(/\s+/).map(Number),
    }));
    expect(rows.map((x) => x.name)).toEqual([
      "shop:request_start",
      "shop:request_done",
      "shop:request_error",
      "shop:usdt_item",
      "func:price",
    ]);
    for (const row of rows) expect(row.counts.slice(0, 4).reduce((a, b) => a + b, 0)).toBe(row.counts[4]);
    const written = Number(/^ {4}(\d+) events written/m.exec(r.stdout)![1]);
    expect(rows.reduce((a, x) => a + x.counts[4]!, 0)).toBe(written);
    const bt = spawnSync("babeltrace2", [join(out, "ctf")], { encoding: "utf8", maxBuffer: 1 << 28 });
    expect(bt.status).toBe(0);
    const lines = bt.stdout.trim().split("\n");
    const probeLines = lines.filter((l) => !l.includes(" xmc_patch:"));
    expect(probeLines).toHaveLength(written);
    for (const row of rows) {
      const perCpu = [0, 1, 2, 3].map(
        (cpu) =>
          probeLines.filter((l) => l.includes(` ${row.name}:`) && l.includes(`cpu_id = ${cpu} `)).length,
      );
      expect(perCpu).toEqual(row.counts.slice(0, 4));
    }
    // 6 syncs to 4 CPUs: 24 IPI events on the patching agent's stream.
    expect(lines.filter((l) => l.includes(" xmc_patch:ipi:"))).toHaveLength(24);
    const chrome = JSON.parse(readFileSync(join(out, "trace.json"), "utf8")) as {
      traceEvents: { name: string; ph: string }[];
    };
    expect(chrome.traceEvents.filter((e) => e.ph === "i" && !e.name.startsWith("xmc_patch:"))).toHaveLength(
      written,
    );
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html.match(/<g class="lane" data-cpu="\d+"/g)).toHaveLength(4);
    expect(html.match(/data-ipi=/g)).toHaveLength(24);
    // Self-contained: no external script, style or image (the SVG namespace is not a fetch).
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', "")).not.toMatch(
      /<script[^>]+src=|https?:\/\//,
    );
  });

  test("--json gives the same figures as one object", () => {
    const j = spawnSync("node", [xmc, "demo", "--json", "--out", join(dir, "j")], {
      encoding: "utf8",
      maxBuffer: 1 << 26,
    });
    expect(j.status).toBe(0);
    const s = JSON.parse(j.stdout) as {
      costs: { disabledPerCall: number; enabledPerHit: number };
      check: { naive: Record<string, number>; int3: Record<string, number>; outputSame: boolean };
      events: number;
    };
    expect(s.costs.disabledPerCall).toBeCloseTo(0.25, 9);
    expect(Object.values(s.check.int3).reduce((a, b) => a + b, 0)).toBe(0);
    expect(Object.values(s.check.naive).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(s.check.outputSame).toBe(true);
    expect(s.events).toBe(Number(/^ {4}(\d+) events written/m.exec(r.stdout)![1]));
  });
});
