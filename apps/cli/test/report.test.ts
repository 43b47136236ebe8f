/**
 * `xmc report` (the built app) and `renderReport`: a CTF trace written by trace-buffer is read
 * back and rendered; headless Chromium (playwright-core, /usr/bin/chromium) loads the page
 * with every network request refused and counts one lane per CPU, one mark per event (per
 * lane too), a band per patch phase and a mark per IPI; a screenshot goes to
 * test-artifacts/report.png. Plus the renderer's density mode, escaping, and one-line errors.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { defineSchema, TraceBuffers, writeCtf } from "@xmc/trace-buffer";
import { afterAll, describe, expect, test } from "vitest";
import { MAX_MARKS, type ReportEvent, renderReport } from "../src/report/index.ts";

interface Box {
  top: number;
  bottom: number;
  width: number;
  height: number;
}

const xmc = join(import.meta.dirname, "../dist/xmc.js");
const ARTIFACTS = join(import.meta.dirname, "../test-artifacts");
const root = mkdtempSync(join(tmpdir(), "xmc-report-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const xreport = (...args: string[]) => spawnSync("node", [xmc, "report", ...args], { encoding: "utf8" });

const SCHEMA = defineSchema({
  "marker:app:tick": { fields: { value: "u64" } },
  "marker:app:work": { fields: { item: "u32", label: "string" } },
  "xmc_patch:int3": { fields: { phase: "string", sites: "u32" } },
  "xmc_patch:sync": { fields: { phase: "string", sites: "u32" } },
  "xmc_patch:tail": { fields: { phase: "string", sites: "u32" } },
  "xmc_patch:head": { fields: { phase: "string", sites: "u32" } },
  "xmc_patch:done": { fields: { phase: "string", sites: "u32" } },
  "xmc_patch:ipi": { fields: { target: "u32" } },
});

/** A 4-CPU trace: app events on every CPU, one patch batch by CPU 0 with three syncs (IPIs to all). */
function writeTrace(dir: string, env: Record<string, string> = {}) {
  const cpus = 4;
  const buffers = TraceBuffers.create({
    schema: SCHEMA,
    cpus,
    clock: { unit: "cycles", frequency: 3_000_000_000 },
  });
  const w = Array.from({ length: cpus }, (_, c) => buffers.writer(c));
  // Each ring takes its events in time order (a ring raises a timestamp that goes back).
  const todo: { cpu: number; t: number; name: string; values: (string | number)[] }[] = [];
  const perCpu = [0, 0, 0, 0];
  for (let c = 0; c < cpus; c++)
    for (let i = 0; i < 40 + 10 * c; i++) {
      const t = 1000 + i * 997 + c * 31;
      if (i % 3 === 0) todo.push({ cpu: c, t, name: "marker:app:work", values: [i, `item <${i}> & "co"`] });
      else todo.push({ cpu: c, t, name: "marker:app:tick", values: [i * 7] });
      perCpu[c]!++;
    }
  const phases: [string, number][] = [
    ["int3", 12_000],
    ["sync", 12_100],
    ["tail", 18_000],
    ["sync", 18_100],
    ["head", 24_000],
    ["sync", 24_100],
    ["done", 30_000],
  ];
  let ipis = 0;
  for (const [p, t] of phases) {
    todo.push({ cpu: 0, t, name: `xmc_patch:${p}`, values: [p, 2] });
    if (p === "sync")
      for (let c = 0; c < cpus; c++) {
        todo.push({ cpu: 0, t: t + 1 + c, name: "xmc_patch:ipi", values: [c] });
        ipis++;
      }
  }
  for (const e of todo.sort((a, b) => a.t - b.t)) expect(w[e.cpu]!.emit(e.name, e.t, e.values)).toBe(true);
  for (const x of w) x.close();
  const snapshot = buffers.snapshot();
  for (let c = 0; c < cpus; c++) expect(buffers.stats(c).timestampsRaised).toBe(0);
  const histograms = JSON.stringify([
    {
      name: "marker:app:tick value",
      buckets: [
        { lo: 0, hi: 64, count: 30 },
        { lo: 64, hi: 256, count: 70 },
        { lo: 256, hi: 1024, count: 12 },
      ],
    },
  ]);
  writeCtf(snapshot, dir, {
    env: {
      cpus: String(cpus),
      protocol: "int3-batch",
      program: "demo",
      title: "demo run",
      histograms,
      ...env,
    },
  });
  return { perCpu, events: perCpu.reduce((a, b) => a + b, 0), phases: phases.length, ipis };
}

describe("xmc report", () => {
  const run = join(root, "run");
  const dir = join(run, "ctf");
  const facts = writeTrace(dir);

  test("writes report.html beside the CTF directory (given it or its run directory) and says so; --json summary", () => {
    const r = xreport(dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const total = facts.events + facts.phases + facts.ipis;
    expect(r.stdout).toMatch(
      new RegExp(`^wrote ${run}/report\\.html \\(${total} events, 4 CPUs, [\\d,]+ bytes\\)\\n$`),
    );
    expect(xreport(run).stdout).toBe(r.stdout);
    const html = readFileSync(join(run, "report.html"), "utf8");
    expect(html).toContain("<title>demo run</title>");
    // babeltrace2 still reads the directory (nothing was written into it).
    if (requireTools("babeltrace2"))
      expect(spawnSync("babeltrace2", [dir], { encoding: "utf8" }).stderr).toBe("");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    // Self-contained: no external resources of any kind.
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")).not.toMatch(/https?:\/\//);
    const j = JSON.parse(xreport("--json", "-o", join(root, "x.html"), dir).stdout);
    expect(j).toMatchObject({ file: join(root, "x.html"), cpus: 4, events: total, histograms: 1 });
  });

  test.skipIf(!requireTools("chromium"))(
    "headless Chromium: one lane per CPU, one mark per event, phase bands, IPI marks; screenshot",
    async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, "report.html");
      expect(xreport("-o", file, dir).status).toBe(0);
      const { chromium } = await import("playwright-core");
      const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const requests: string[] = [];
        page.on("request", (req) => requests.push(req.url()));
        await page.route(/^(?!file:)/, (route) => route.abort());
        await page.goto(`file://${file}`);
        expect(requests).toEqual([`file://${file}`]);
        expect(await page.locator("svg#timeline [data-cpu]").count()).toBe(4);
        expect(await page.locator("svg#timeline [data-event]").count()).toBe(facts.events);
        for (let c = 0; c < 4; c++)
          expect(await page.locator(`svg#timeline [data-cpu="${c}"] [data-event]`).count()).toBe(
            facts.perCpu[c],
          );
        expect(await page.locator("svg#timeline [data-phase]").count()).toBe(facts.phases);
        expect(await page.locator('svg#timeline [data-phase="sync"]').count()).toBe(3);
        expect(await page.locator("svg#timeline [data-ipi]").count()).toBe(facts.ipis);
        // Lanes are laid out one under the other, each visible and as wide as the plot.
        const boxes = await page.locator("svg#timeline [data-cpu] > rect.lane-bg").evaluateAll((els) =>
          els.map((e) => {
            // The page's DOM (no DOM types in this Node project's tsconfig).
            const r = (e as unknown as { getBoundingClientRect(): Box }).getBoundingClientRect();
            return { top: r.top, bottom: r.bottom, width: r.width, height: r.height };
          }),
        );
        for (let i = 1; i < boxes.length; i++)
          expect(boxes[i]!.top).toBeGreaterThanOrEqual(boxes[i - 1]!.bottom - 0.5);
        expect(boxes.every((b) => b.width > 1000 && b.height > 20)).toBe(true);
        // Tables: counts per event per CPU, the histogram's buckets, the settings.
        const row = await page.locator('tr[data-count-row="marker:app:tick"] td').allTextContents();
        expect(row.length).toBe(6);
        expect(await page.locator('[data-histogram="marker:app:tick value"] [data-bucket]').count()).toBe(3);
        expect(await page.locator("table.settings").textContent()).toContain("int3-batch");
        // The escaped field text reaches the DOM intact.
        expect(await page.locator("svg#timeline [data-event] title").first().textContent()).toMatch(
          /item <0> & \\"co\\"|value=0/,
        );
        await page.screenshot({ path: join(ARTIFACTS, "report.png"), fullPage: true });
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  test("errors: one line, status 1 for unreadable or malformed traces, 2 for usage", () => {
    const cases: [string[], number, RegExp][] = [
      [[], 2, /^xmc report: give exactly one TRACE_DIR/],
      [[join(root, "nope")], 1, /^xmc report: cannot read .*nope: ENOENT$/],
      [[join(dir, "metadata")], 1, /is not a directory/],
      [[tmpdir()], 1, /^xmc report: CTF trace .*: no metadata file/],
      [["--frob", dir], 2, /^xmc report: unknown option --frob/],
    ];
    const broken = join(root, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "metadata"), readFileSync(join(dir, "metadata")));
    writeFileSync(join(broken, "stream_0"), readFileSync(join(dir, "stream_0")).subarray(0, 100));
    cases.push([[broken], 1, /^xmc report: stream_0: byte 0: packet_size \d+ bits does not fit the file/]);
    const badHist = join(root, "badhist");
    writeTrace(badHist, { histograms: '[{"name":"h","buckets":[{"lo":0}]}]' });
    cases.push([
      [badHist],
      1,
      /badhist: env\.histograms: histogram h bucket 0 needs numbers lo, hi and count$/,
    ]);
    for (const [args, status, msg] of cases) {
      const r = xreport(...args);
      expect(r.status, args.join(" ")).toBe(status);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(msg);
    }
    expect(xreport("--help").stdout).toContain("Examples:");
  });
});

describe("renderReport", () => {
  const ev = (cpu: number, time: number, name: string, fields = {}): ReportEvent => ({
    cpu,
    time,
    name,
    fields,
  });

  test("marks, lanes and phases by count; patch events become bands and IPIs, not marks", () => {
    const events = [
      ev(0, 10, "a"),
      ev(1, 20, "b<script>"),
      ev(1, 25, "xmc_patch:int3", { phase: "int3", sites: 1 }),
      ev(1, 26, "xmc_patch:ipi", { target: 0 }),
      ev(1, 40, "xmc_patch:done", { phase: "done", sites: 1 }),
    ];
    const html = renderReport({ cpus: 3, events, settings: { seed: 7 } });
    expect(html.match(/data-cpu="/g)?.length).toBe(3);
    expect(html.match(/data-event="/g)?.length).toBe(2);
    expect(html.match(/data-phase="/g)?.length).toBe(2);
    expect(html.match(/data-ipi="/g)?.length).toBe(1);
    expect(html).not.toContain("<script>");
    expect(html).toContain("b&lt;script&gt;");
    expect(renderReport({ cpus: 3, events, settings: { seed: 7 } })).toBe(html);
  });

  test(`above ${MAX_MARKS} events the lanes show density bins whose counts add up`, () => {
    const n = MAX_MARKS + 5000;
    const events = Array.from({ length: n }, (_, i) => ev(i % 2, i * 3, "tick"));
    const html = renderReport({ cpus: 2, events });
    expect(html).not.toContain("data-event=");
    const counts = [...html.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
  });

  test("bad cpus is a RangeError", () => {
    expect(() => renderReport({ cpus: 0, events: [] })).toThrow(RangeError);
  });
});
