/**
 * Hand-written SVG charts (no dependencies): a line chart (one `<polyline data-series>` per
 * series, a `<circle data-point>` per point) and a grouped bar chart (one `<path data-series>`
 * per series holding all its bars). Both have axes, ticks, axis labels, a title and a legend.
 * @module
 */

const W = 760;
const H = 470;
const M = { left: 78, right: 190, top: 44, bottom: 96 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function label(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/** An axis: data value → pixel, and its ticks. */
interface Axis {
  readonly at: (v: number) => number;
  readonly ticks: readonly number[];
}

/**
 * A linear or log axis from `lo` to `hi` onto pixels `from`..`to`. A log y axis (`round`)
 * is widened to whole decades; ticks are decades, or 1-2-5 steps when the range is short.
 */
function axis(
  lo: number,
  hi: number,
  from: number,
  to: number,
  log: boolean,
  ticks?: readonly number[],
  round = false,
): Axis {
  if (log) {
    let a = Math.log10(Math.max(lo, 1e-12));
    let b = Math.log10(Math.max(hi, lo * 1.0001));
    if (round) {
      a = Math.floor(a + 1e-9);
      b = Math.ceil(b - 1e-9);
      if (b === a) b = a + 1;
    }
    const at = (v: number): number => from + ((Math.log10(Math.max(v, 1e-12)) - a) / (b - a)) * (to - from);
    const t: number[] = [];
    const steps = b - a <= 2 ? [1, 2, 5] : [1];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++)
      for (const m of steps) {
        const v = m * 10 ** e;
        if (Math.log10(v) >= a - 1e-9 && Math.log10(v) <= b + 1e-9) t.push(+v.toPrecision(6));
      }
    return { at, ticks: ticks ?? t };
  }
  if (hi === lo) hi = lo + 1;
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const l = Math.floor(lo / step) * step;
  const h = Math.ceil(hi / step) * step;
  const at = (v: number): number => from + ((v - l) / (h - l)) * (to - from);
  const t: number[] = [];
  for (let v = l; v <= h + step / 2; v += step) t.push(+v.toPrecision(12));
  return { at, ticks: ticks ?? t };
}

function frame(title: string, xLabel: string, yLabel: string, x: Axis | string[], y: Axis): string[] {
  const px0 = M.left;
  const px1 = W - M.right;
  const py0 = H - M.bottom;
  const py1 = M.top;
  const out: string[] = [
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2 - M.right / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<g class="axes" stroke="#333" stroke-width="1">`,
    `<line x1="${px0}" y1="${py0}" x2="${px1}" y2="${py0}"/>`,
    `<line x1="${px0}" y1="${py0}" x2="${px0}" y2="${py1}"/>`,
    `</g>`,
  ];
  for (const t of y.ticks) {
    const py = y.at(t).toFixed(1);
    out.push(
      `<line class="tick" x1="${px0 - 5}" y1="${py}" x2="${px1}" y2="${py}" stroke="#ddd"/>`,
      `<text x="${px0 - 8}" y="${py}" dy="4" text-anchor="end" font-size="11">${label(t)}</text>`,
    );
  }
  if (Array.isArray(x)) {
    const bw = (px1 - px0) / x.length;
    x.forEach((c, i) => {
      const px = (px0 + bw * (i + 0.5)).toFixed(1);
      out.push(
        `<line class="tick" x1="${px}" y1="${py0}" x2="${px}" y2="${py0 + 5}" stroke="#333"/>`,
        `<text transform="translate(${px} ${py0 + 14}) rotate(-35)" text-anchor="end" font-size="10">${esc(c)}</text>`,
      );
    });
  } else {
    for (const t of x.ticks) {
      const px = x.at(t).toFixed(1);
      out.push(
        `<line class="tick" x1="${px}" y1="${py0}" x2="${px}" y2="${py0 + 5}" stroke="#333"/>`,
        `<text x="${px}" y="${py0 + 18}" text-anchor="middle" font-size="11">${label(t)}</text>`,
      );
    }
  }
  out.push(
    `<text x="${(px0 + px1) / 2}" y="${H - 22}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`,
    `<text transform="translate(18 ${(py0 + py1) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
  );
  return out;
}

function legend(names: readonly string[]): string[] {
  const x = W - M.right + 16;
  const out = [`<g class="legend">`];
  names.forEach((n, i) => {
    const y = M.top + 8 + i * 20;
    out.push(
      `<rect x="${x}" y="${y - 9}" width="14" height="10" fill="${COLORS[i % COLORS.length]}"/>`,
      `<text x="${x + 20}" y="${y}" font-size="11">${esc(n)}</text>`,
    );
  });
  out.push("</g>");
  return out;
}

function svg(body: string[], title: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" role="img" aria-label="${esc(title)}">`,
    `<title>${esc(title)}</title>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/** A series of a line chart: (x, y) points. */
export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** Options of {@link lineChart}. */
export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly xLog?: boolean;
  readonly yLog?: boolean;
  /** Tick values of the x axis (default: computed). */
  readonly xTicks?: readonly number[];
}

/** A line chart as an SVG document. */
export function lineChart(c: LineChart): string {
  const pts = c.series.flatMap((s) => s.points);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x = axis(Math.min(...xs), Math.max(...xs), M.left, W - M.right, c.xLog ?? false, c.xTicks);
  const ymin = c.yLog ? Math.min(...ys.filter((v) => v > 0)) : Math.min(0, ...ys);
  const y = axis(ymin, Math.max(...ys), H - M.bottom, M.top, c.yLog ?? false, undefined, true);
  const body = frame(c.title, c.xLabel, c.yLabel, x, y);
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const p = s.points.map(([a, b]) => `${x.at(a).toFixed(1)},${y.at(b).toFixed(1)}`);
    body.push(
      `<g class="series" data-name="${esc(s.name)}">`,
      `<polyline data-series="${esc(s.name)}" fill="none" stroke="${color}" stroke-width="2" points="${p.join(" ")}"/>`,
      ...s.points.map(
        ([a, b]) =>
          `<circle data-point="${esc(s.name)}" cx="${x.at(a).toFixed(1)}" cy="${y.at(b).toFixed(1)}" r="3" fill="${color}"><title>${esc(s.name)}: ${label(a)}, ${label(b)}</title></circle>`,
      ),
      "</g>",
    );
  });
  body.push(...legend(c.series.map((s) => s.name)));
  return svg(body, c.title);
}

/** A series of a bar chart: one value per category (`null`: no bar). */
export interface BarSeries {
  readonly name: string;
  readonly values: readonly (number | null)[];
}

/** Options of {@link barChart}. */
export interface BarChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  readonly yLog?: boolean;
  /** A dashed horizontal reference line (e.g. ratio 1). */
  readonly rule?: { readonly value: number; readonly label: string };
}

/** A grouped bar chart as an SVG document: one `<path data-series>` per series. */
export function barChart(c: BarChart): string {
  const vals = c.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const lo = c.yLog ? Math.min(...vals.filter((v) => v > 0)) : 0;
  const y = axis(lo, Math.max(...vals), H - M.bottom, M.top, c.yLog ?? false, undefined, true);
  const body = frame(c.title, c.xLabel, c.yLabel, [...c.categories], y);
  const bw = (W - M.right - M.left) / c.categories.length;
  const base = H - M.bottom;
  const paths: string[][] = c.series.map(() => []);
  c.categories.forEach((_, k) => {
    // The bars of this category: only the series with a value, side by side, centred.
    const present = c.series.flatMap((s, i) =>
      s.values[k] === null || s.values[k] === undefined ? [] : [i],
    );
    const inner = (bw * 0.8) / Math.max(1, present.length);
    present.forEach((i, j) => {
      const x0 = M.left + bw * k + bw * 0.1 + inner * j;
      const top = y.at(c.series[i]!.values[k]!);
      paths[i]!.push(
        `M${x0.toFixed(1)},${base.toFixed(1)}V${top.toFixed(1)}H${(x0 + inner * 0.9).toFixed(1)}V${base.toFixed(1)}Z`,
      );
    });
  });
  c.series.forEach((s, i) => {
    body.push(
      `<path data-series="${esc(s.name)}" fill="${COLORS[i % COLORS.length]}" d="${paths[i]!.join("")}"><title>${esc(s.name)}</title></path>`,
    );
  });
  // The rule over the bars, its label right of the plot.
  if (c.rule) {
    const py = y.at(c.rule.value).toFixed(1);
    body.push(
      `<line class="rule" x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#555" stroke-dasharray="6 4"/>`,
      `<text x="${W - M.right + 6}" y="${py}" dy="4" font-size="11">${esc(c.rule.label)}</text>`,
    );
  }
  body.push(...legend(c.series.map((s) => s.name)));
  return svg(body, c.title);
}
