/**
 * Tables: what every experiment prints, stores in its JSON and BENCHMARKS.md shows. A table
 * names its unit and its cost profile (modeled figures) or its machine (host figures); the
 * first cell of each row is the row's key, which the smoke test checks.
 * @module
 */

/** One table of an experiment. */
export interface Table {
  /** Stable id (`fastpath`, `cuts-overhead`, …). */
  readonly id: string;
  readonly title: string;
  /** What the figures are: "modeled cycles per call (profile default)", "host ns, median (min–max)". */
  readonly unit: string;
  readonly columns: readonly string[];
  /** Formatted cells; `rows[i][0]` is the row's key. */
  readonly rows: readonly (readonly string[])[];
  readonly notes?: readonly string[];
}

/** `n` with thousands separators and at most `digits` decimals (trailing zeros dropped). */
export function num(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A host figure: `median (min–max)`. */
export function med(s: { median: number; min: number; max: number }, digits = 2): string {
  return `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

/** The table as GitHub markdown (columns of figures right-aligned, text left-aligned). */
export function markdown(t: Table): string {
  // Right-aligned: columns of figures (every cell a number, a percentage, a spread or a placeholder).
  const figure = /^(-?[\d.,]+( \([\d.,]+–[\d.,]+\))?%?|-?[\d.,]+ cycles|pending|skipped|—|)$/;
  const align = t.columns.map((_, i) =>
    i > 0 && t.rows.every((r) => figure.test(r[i] ?? "")) ? "---:" : "---",
  );
  const esc = (c: string): string => c.replace(/\|/g, "\\|");
  const lines = [
    `| ${t.columns.map(esc).join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ];
  return lines.join("\n");
}

/** The table for a terminal: title, unit, padded columns, notes. */
export function plain(t: Table): string {
  const all = [t.columns, ...t.rows];
  const widths = t.columns.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [`${t.title} — ${t.unit}`, line(t.columns), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const r of t.rows) out.push(line(r));
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join("\n");
}
