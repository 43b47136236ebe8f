/**
 * `renderReport(model)`: one self-contained HTML page (inline CSS and SVG, no script, no
 * network) with a per-CPU timeline — one lane per CPU (`data-cpu`), one mark per event
 * (`data-event`), patch phases as bands over every lane (`data-phase`), IPIs as marks on the
 * target's lane (`data-ipi`) — a legend, counts per event per CPU, histograms and the run's
 * settings. Above {@link MAX_MARKS} events the lanes show event density in bins
 * (`data-bin`, `data-count`) instead of one mark each.
 */
import {
  countEvents,
  type Histogram,
  type Ipi,
  ipisFromEvents,
  isPhaseEvent,
  PATCH_PREFIX,
  type PatchPhase,
  phasesFromEvents,
  type ReportEvent,
  type ReportModel,
  type ReportValue,
} from "./model.ts";

/** Most event marks drawn one by one; above it lanes show binned density. */
export const MAX_MARKS = 20_000;

const W = 1200;
const LEFT = 64;
const RIGHT = 16;
const TOP = 28;
const LANE = 30;
const BINS = 400;

/** Escape text for HTML and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function hue(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % 360;
}

/** A stable colour per event name. */
export function colorOf(name: string): string {
  return `hsl(${hue(name)} 62% 42%)`;
}

const PHASE_COLORS: Record<string, string> = {
  int3: "#d62728",
  sync: "#ff7f0e",
  tail: "#9467bd",
  head: "#1f77b4",
  done: "#2ca02c",
};
const phaseColor = (p: string): string => PHASE_COLORS[p] ?? "#7f7f7f";

const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toPrecision(6));
const f1 = (n: number): string => n.toFixed(1);

function fieldsText(f: Readonly<Record<string, ReportValue>>): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${typeof v === "string" ? JSON.stringify(v) : String(v)}`)
    .join(" ");
}

function axis(t0: number, span: number, unit: string, height: number): string {
  const out: string[] = [];
  const width = W - LEFT - RIGHT;
  const raw = span / 8;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  for (let t = Math.ceil(t0 / step) * step; t <= t0 + span; t += step) {
    const x = LEFT + ((t - t0) / span) * width;
    out.push(
      `<line class="tick" x1="${f1(x)}" x2="${f1(x)}" y1="${TOP - 4}" y2="${TOP + height}"/><text class="tl" x="${f1(x)}" y="${TOP - 8}">${fmt(t)}</text>`,
    );
  }
  out.push(`<text class="tl unit" x="${W - RIGHT}" y="12">${esc(unit)}</text>`);
  return out.join("");
}

function timeline(
  m: ReportModel,
  events: readonly ReportEvent[],
  phases: readonly PatchPhase[],
  ipis: readonly Ipi[],
): string {
  const times = [
    ...events.map((e) => e.time),
    ...phases.flatMap((p) => [p.start, p.end]),
    ...ipis.map((i) => i.time),
  ];
  let t0 = Number.POSITIVE_INFINITY;
  let t1 = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
  }
  if (times.length === 0) {
    t0 = 0;
    t1 = 1;
  }
  const span = Math.max(1, t1 - t0);
  const width = W - LEFT - RIGHT;
  const x = (t: number) => LEFT + ((t - t0) / span) * width;
  const height = m.cpus * LANE;
  const parts: string[] = [];
  parts.push(
    `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${TOP + height + 8}" viewBox="0 0 ${W} ${TOP + height + 8}" role="img" aria-label="per-CPU timeline">`,
  );
  parts.push(axis(t0, span, m.timeUnit ?? "cycles", height));
  const binned = events.length > MAX_MARKS;
  const byCpu: ReportEvent[][] = Array.from({ length: m.cpus }, () => []);
  for (const e of events) if (e.cpu >= 0 && e.cpu < m.cpus) byCpu[e.cpu]!.push(e);
  for (let cpu = 0; cpu < m.cpus; cpu++) {
    const y = TOP + cpu * LANE;
    parts.push(`<g class="lane" data-cpu="${cpu}">`);
    parts.push(
      `<rect class="lane-bg${cpu % 2 ? " odd" : ""}" x="${LEFT}" y="${y}" width="${width}" height="${LANE}"/><text class="cpu" x="${LEFT - 8}" y="${y + LANE / 2 + 4}">cpu${cpu}</text>`,
    );
    const list = byCpu[cpu]!;
    if (binned) {
      const bins = new Array<number>(BINS).fill(0);
      for (const e of list) bins[Math.min(BINS - 1, Math.floor(((e.time - t0) / span) * BINS))]!++;
      const max = Math.max(1, ...bins);
      const bw = width / BINS;
      bins.forEach((c, i) => {
        if (c === 0) return;
        const h = Math.max(1, ((LANE - 6) * c) / max);
        parts.push(
          `<rect class="bin" data-bin="${i}" data-count="${c}" x="${f1(LEFT + i * bw)}" y="${f1(y + LANE - 3 - h)}" width="${f1(Math.max(1, bw - 0.5))}" height="${f1(h)}"><title>${c} events</title></rect>`,
        );
      });
    } else
      for (const e of list)
        parts.push(
          `<rect data-event="${esc(e.name)}" x="${f1(x(e.time) - 0.75)}" y="${y + 5}" width="1.5" height="${LANE - 10}" fill="${colorOf(e.name)}"><title>${esc(`${e.name} @ ${fmt(e.time)}${Object.keys(e.fields).length ? `: ${fieldsText(e.fields)}` : ""}`)}</title></rect>`,
        );
    for (const i of ipis)
      if (i.target === cpu) {
        const xi = x(i.time);
        parts.push(
          `<path data-ipi="${i.target}" d="M${f1(xi)} ${y + 7} l-4 -6 h8 z" class="ipi"><title>IPI cpu${i.from} → cpu${i.target} @ ${fmt(i.time)}</title></path>`,
        );
      }
    parts.push("</g>");
  }
  // Phases over every lane, drawn last, translucent.
  for (const p of phases) {
    const xs = x(p.start);
    const w = Math.max(1.5, x(p.end) - xs);
    parts.push(
      `<rect data-phase="${esc(p.phase)}" x="${f1(xs)}" y="${TOP}" width="${f1(w)}" height="${height}" fill="${phaseColor(p.phase)}" class="phase"><title>${esc(`patch ${p.phase}: ${fmt(p.start)}–${fmt(p.end)} (${fmt(p.end - p.start)}), ${p.sites} site(s), by ${p.cpu < 0 ? "the patching agent" : `cpu${p.cpu}`}`)}</title></rect>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}

function legend(names: readonly string[], phases: readonly PatchPhase[], ipis: number): string {
  const items = names.map(
    (n) => `<span class="key"><i style="background:${colorOf(n)}"></i>${esc(n)}</span>`,
  );
  for (const p of [...new Set(phases.map((x) => x.phase))])
    items.push(
      `<span class="key"><i class="band" style="background:${phaseColor(p)}"></i>patch ${esc(p)}</span>`,
    );
  if (ipis > 0) items.push(`<span class="key"><b class="tri">▼</b>IPI</span>`);
  return `<div class="legend">${items.join("")}</div>`;
}

function countsTable(
  counts: Readonly<Record<string, readonly number[]>>,
  cpus: number,
  lost?: readonly number[],
): string {
  const head = `<tr><th>event</th>${Array.from({ length: cpus }, (_, i) => `<th>cpu${i}</th>`).join("")}<th>total</th></tr>`;
  const rows = Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, row]) => {
      const cells = Array.from({ length: cpus }, (_, i) => `<td>${fmt(row[i] ?? 0)}</td>`).join("");
      return `<tr data-count-row="${esc(name)}"><td class="name"><i style="background:${colorOf(name)}"></i>${esc(name)}</td>${cells}<td>${fmt(row.reduce((s, v) => s + v, 0))}</td></tr>`;
    });
  if (lost)
    rows.push(
      `<tr class="lost"><td class="name">lost (buffer full or overwritten)</td>${Array.from({ length: cpus }, (_, i) => `<td>${fmt(lost[i] ?? 0)}</td>`).join("")}<td>${fmt(lost.reduce((s, v) => s + v, 0))}</td></tr>`,
    );
  if (rows.length === 0) return `<p class="none">no events</p>`;
  return `<table class="counts">${head}${rows.join("")}</table>`;
}

function histogram(h: Histogram): string {
  const max = Math.max(1, ...h.buckets.map((b) => b.count));
  const total = h.buckets.reduce((s, b) => s + b.count, 0);
  const rowH = 18;
  const labelW = 180;
  const barW = 420;
  const rows = h.buckets.map((b, i) => {
    const y = i * rowH;
    const w = (barW * b.count) / max;
    return `<text class="hl" x="${labelW - 6}" y="${y + 13}">[${fmt(b.lo)}, ${fmt(b.hi)})</text><rect data-bucket="${i}" x="${labelW}" y="${y + 2}" width="${f1(Math.max(b.count ? 1 : 0, w))}" height="${rowH - 4}" class="bar"/><text class="hc" x="${f1(labelW + w + 6)}" y="${y + 13}">${fmt(b.count)}</text>`;
  });
  const height = Math.max(rowH, h.buckets.length * rowH);
  return `<figure class="hist" data-histogram="${esc(h.name)}"><figcaption>${esc(h.name)} <span class="dim">(${fmt(total)} values)</span></figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 80}" height="${height}">${rows.join("")}</svg></figure>`;
}

function settingsTable(s: Readonly<Record<string, ReportValue>>): string {
  const rows = Object.entries(s).map(
    ([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === "number" ? fmt(v) : String(v))}</td></tr>`,
  );
  return rows.length
    ? `<table class="settings">${rows.join("")}</table>`
    : `<p class="none">none recorded</p>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d1d1f;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.dim,.none{color:#6e6e73}.summary{margin:0 0 16px;color:#3a3a3c}
svg text{font:11px system-ui,sans-serif;fill:#3a3a3c}
.tl{text-anchor:middle}.unit{text-anchor:end}.cpu{text-anchor:end;font-weight:600}
.tick{stroke:#e5e5ea}.lane-bg{fill:#f7f7f9}.lane-bg.odd{fill:#efeff4}
.phase{opacity:.22}.ipi{fill:#111}.bin{fill:#4a6fa5}.bar{fill:#4a6fa5}.hl{text-anchor:end}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:8px 0}
.key{display:inline-flex;align-items:center;gap:6px}
.key i,.name i{display:inline-block;width:10px;height:10px;border-radius:2px}
.key i.band{opacity:.5;width:14px}.tri{font-size:10px}
table{border-collapse:collapse;margin:4px 0}th,td{padding:3px 10px;border-bottom:1px solid #e5e5ea;text-align:right}
th{font-weight:600;background:#f7f7f9}.settings th,.counts td.name{text-align:left}.settings td{text-align:left;font-family:ui-monospace,monospace}
.counts td.name i{margin-right:6px}.lost td{color:#b3261e}
figure{margin:8px 0 16px}figcaption{font-weight:600;margin-bottom:4px}
.scroll{overflow-x:auto}
`;

/**
 * Render `model` as a complete HTML document (UTF-8). Deterministic: the same model gives
 * the same bytes.
 */
export function renderReport(model: ReportModel): string {
  if (!Number.isInteger(model.cpus) || model.cpus < 1 || model.cpus > 1024)
    throw new RangeError(`renderReport: cpus must be an integer from 1 to 1024, not ${model.cpus}`);
  const phases = model.patchPhases ?? phasesFromEvents(model.events);
  const ipis = model.ipis ?? ipisFromEvents(model.events);
  const marks = model.events.filter((e) => !e.name.startsWith(PATCH_PREFIX));
  const counts = model.counts ?? countEvents(model.events, model.cpus);
  const names = [...new Set(marks.map((e) => e.name))].sort();
  const title = model.title ?? "xmc trace report";
  const batches = phases.filter((p) => p.phase === "done").length;
  const phaseEvents = model.events.filter(isPhaseEvent).length;
  const summary = [
    `${fmt(marks.length)} events on ${model.cpus} CPU${model.cpus === 1 ? "" : "s"}`,
    phases.length
      ? `${fmt(phases.length)} patch phases (${batches} batch${batches === 1 ? "" : "es"} done)`
      : "",
    ipis.length ? `${fmt(ipis.length)} IPIs` : "",
    marks.length > MAX_MARKS ? `lanes show event density (more than ${fmt(MAX_MARKS)} events)` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="xmc report">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body data-events="${marks.length}" data-cpus="${model.cpus}" data-phases="${phases.length}" data-phase-events="${phaseEvents}" data-ipis="${ipis.length}">
<h1>${esc(title)}</h1>
<p class="summary">${esc(summary)}</p>
<h2>Timeline</h2>
${legend(names, phases, ipis.length)}
<div class="scroll">
${timeline(model, marks, phases, ipis)}
</div>
<h2>Events per CPU</h2>
${countsTable(counts, model.cpus, model.lost)}
<h2>Histograms</h2>
${model.histograms?.length ? model.histograms.map(histogram).join("\n") : `<p class="none">none</p>`}
<h2>Settings</h2>
${settingsTable(model.settings ?? {})}
</body>
</html>
`;
}
