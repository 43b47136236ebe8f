/**
 * The charts are SVG files a browser renders: experiment 2's chart (built in process in quick
 * mode) is opened in headless Chromium, which must draw one line per variant through every
 * point, a legend entry per series and the axes' ticks. A missing Chromium skips loudly here
 * and fails in CI (XMC_FORBID_SKIP).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireTools } from "@xmc/tooling/test-tools";
import { expect, test } from "vitest";
import { CUT_VARIANTS, CUTS, cuts } from "../src/exp/cuts.ts";

const ARTIFACTS = join(import.meta.dirname, "../test-artifacts");

interface Box {
  width: number;
  height: number;
}

test.skipIf(!requireTools("chromium"))(
  "headless Chromium draws experiment 2's series: a polyline per variant with a point per marker count",
  async () => {
    const e = cuts(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, e.charts[0]!.file);
    writeFileSync(file, e.charts[0]!.svg);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(err.message));
      await page.goto(`file://${file}`);
      expect(errors).toEqual([]);
      const lines = page.locator("svg polyline[data-series]");
      expect(await lines.count()).toBe(CUT_VARIANTS.length);
      expect(await lines.evaluateAll((els) => els.map((el) => el.getAttribute("data-series")))).toEqual(
        CUT_VARIANTS.map(([, name]) => name),
      );
      // Each line is drawn: it has a box of non-zero size and one vertex per marker count.
      const boxes = await lines.evaluateAll((els) =>
        els.map((el) => {
          // SVG DOM in the page (no DOM types in this Node project's tsconfig).
          const g = el as unknown as { getBBox(): Box; points: { numberOfItems: number } };
          const b = g.getBBox();
          return { width: b.width, height: b.height, points: g.points.numberOfItems };
        }),
      );
      for (const b of boxes) {
        expect(b.points).toBe(CUTS.length);
        expect(b.width).toBeGreaterThan(300);
        expect(b.height).toBeGreaterThan(1);
      }
      expect(await page.locator("svg circle[data-point]").count()).toBe(CUT_VARIANTS.length * CUTS.length);
      expect(await page.locator("svg .legend text").allTextContents()).toEqual(
        CUT_VARIANTS.map(([, n]) => n),
      );
      expect(await page.locator("svg line.tick").count()).toBeGreaterThan(CUTS.length);
      await page.screenshot({ path: join(ARTIFACTS, "cuts.png") });
    } finally {
      await browser.close();
    }
  },
  120_000,
);
