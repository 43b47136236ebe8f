/**
 * A one-line progress report on stderr for long runs: only when stderr is a terminal, only
 * after the first second, never with `--json` (machine output stays clean).
 */
export class Progress {
  private readonly t0 = performance.now();
  private shown = false;
  private readonly enabled: boolean;
  constructor(
    private readonly what: string,
    private readonly total: number,
    quiet = false,
  ) {
    this.enabled = !quiet && process.stderr.isTTY === true;
  }
  /** `done` of `total` items finished; `label` is the one in progress. */
  update(done: number, label: string): void {
    if (!this.enabled || performance.now() - this.t0 < 1000) return;
    this.shown = true;
    const width = 20;
    const fill = Math.round((done / Math.max(1, this.total)) * width);
    // An unknown total (0): no bar, just what is done.
    const line =
      this.total > 0
        ? `${this.what} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${done}/${this.total} ${label}`
        : `${this.what}: ${label}`;
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 80) - 1)}\x1b[K`);
  }
  /** Clear the line. */
  done(): void {
    if (this.shown) process.stderr.write("\r\x1b[K");
  }
}
