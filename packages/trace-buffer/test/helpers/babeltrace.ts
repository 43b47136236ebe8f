/**
 * Running babeltrace2 on an exported CTF trace and parsing its text output (the default
 * `sink.text.pretty` format with `--clock-cycles --no-delta`), so tests compare what the
 * reference reader sees with what the test wrote.
 */
import { spawnSync } from "node:child_process";

/** A field value as babeltrace2 prints it. */
export type BtValue = bigint | number | string | BtValue[] | { [name: string]: BtValue };

/** One event line. */
export interface BtEvent {
  /** Timestamp in clock cycles. */
  readonly cycles: bigint;
  readonly name: string;
  /** `cpu_id` from the packet context. */
  readonly cpu: number;
  readonly fields: Record<string, BtValue>;
}

/** One "Tracer discarded N events/packets" line. */
export interface BtDiscarded {
  readonly what: "events" | "packets";
  readonly count: number;
  /** Stream file name (e.g. `stream_1`). */
  readonly stream: string;
  /** The window babeltrace2 reports, in ns (clock frequency 1 GHz in these tests). */
  readonly from: bigint;
  readonly to: bigint;
}

/** The run and what was parsed from it. */
export interface BtResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: BtEvent[];
  /**
   * Discarded events/packets. babeltrace2's pretty sink prints these "WARNING: Tracer
   * discarded ..." lines to stderr when its output is not a terminal.
   */
  readonly discarded: BtDiscarded[];
  /** Every other non-empty stderr line: warnings and errors of babeltrace2 itself. */
  readonly warnings: string[];
}

/** Run `babeltrace2 --clock-cycles --no-delta dir` and parse the output. */
export function babeltrace(dir: string): BtResult {
  const r = spawnSync("babeltrace2", ["--clock-cycles", "--no-delta", dir], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (r.error) throw r.error;
  const events: BtEvent[] = [];
  const discarded: BtDiscarded[] = [];
  const warnings: string[] = [];
  for (const line of r.stdout.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("WARNING: Tracer discarded")) discarded.push(parseDiscarded(line));
    else events.push(parseEventLine(line));
  }
  for (const line of r.stderr.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("WARNING: Tracer discarded")) discarded.push(parseDiscarded(line));
    else warnings.push(line);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, events, discarded, warnings };
}

function timeNs(t: string): bigint {
  // [hh:mm:ss.nnnnnnnnn]
  const m = /^(\d+):(\d+):(\d+)\.(\d{9})$/.exec(t);
  if (m === null) throw new Error(`unexpected babeltrace2 time ${t}`);
  return ((BigInt(m[1]!) * 60n + BigInt(m[2]!)) * 60n + BigInt(m[3]!)) * 1_000_000_000n + BigInt(m[4]!);
}

function parseDiscarded(line: string): BtDiscarded {
  const m =
    /^WARNING: Tracer discarded (\d+) (event|packet)s? between \[([^\]]+)\] and \[([^\]]+)\] in trace .* within stream "([^"]*)"/.exec(
      line,
    );
  if (m === null) throw new Error(`cannot parse babeltrace2 line: ${line}`);
  return {
    what: m[2] === "event" ? "events" : "packets",
    count: Number(m[1]),
    from: timeNs(m[3]!),
    to: timeNs(m[4]!),
    stream: m[5]!.split("/").pop()!,
  };
}

/** Parse `[cycles] name: { cpu_id = N }, { fields }`. */
export function parseEventLine(line: string): BtEvent {
  const m = /^\[(\d+)\] /.exec(line);
  const at = line.indexOf(": { cpu_id = ");
  if (m === null || at < 0) throw new Error(`cannot parse babeltrace2 line: ${line}`);
  const p = new Parser(line, at + 2);
  const context = p.struct();
  p.expect(", ");
  const fields = p.struct();
  if (p.i !== line.length) throw new Error(`trailing text in babeltrace2 line: ${line.slice(p.i)}`);
  const cpu = context["cpu_id"];
  if (typeof cpu !== "bigint") throw new Error(`no cpu_id in: ${line}`);
  return { cycles: BigInt(m[1]!), name: line.slice(m[0].length, at), cpu: Number(cpu), fields };
}

const ESC: Record<string, string> = {
  "'": "'",
  "?": "?",
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  e: "\x1b", // babeltrace2 prints ESC as \e
};

class Parser {
  constructor(
    readonly s: string,
    public i: number,
  ) {}

  expect(t: string): void {
    if (!this.s.startsWith(t, this.i)) throw new Error(`expected "${t}" at ${this.i} in: ${this.s}`);
    this.i += t.length;
  }

  struct(): { [name: string]: BtValue } {
    this.expect("{ ");
    const out: { [name: string]: BtValue } = {};
    if (this.s.startsWith("}", this.i)) {
      this.i += 1;
      return out;
    }
    for (;;) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*) = /.exec(this.s.slice(this.i));
      if (m === null) throw new Error(`expected a field name at ${this.i} in: ${this.s}`);
      this.i += m[0].length;
      out[m[1]!] = this.value();
      if (this.s.startsWith(", ", this.i)) {
        this.i += 2;
        continue;
      }
      this.expect(" }");
      return out;
    }
  }

  array(): BtValue[] {
    this.expect("[ ");
    const out: BtValue[] = [];
    if (this.s.startsWith("]", this.i)) {
      this.i += 1;
      return out;
    }
    for (;;) {
      const m = /^\[(\d+)\] = /.exec(this.s.slice(this.i));
      if (m === null) throw new Error(`expected an array index at ${this.i} in: ${this.s}`);
      this.i += m[0].length;
      out.push(this.value());
      if (this.s.startsWith(", ", this.i)) {
        this.i += 2;
        continue;
      }
      this.expect(" ]");
      return out;
    }
  }

  string(): string {
    this.expect('"');
    const bytes: number[] = [];
    const enc = new TextEncoder();
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) throw new Error(`unterminated string in: ${this.s}`);
      this.i++;
      if (c === '"') break;
      if (c === "\\") {
        const e = this.s[this.i++]!;
        if (e === "x") {
          bytes.push(Number.parseInt(this.s.slice(this.i, this.i + 2), 16));
          this.i += 2;
        } else if (ESC[e] !== undefined) {
          bytes.push(ESC[e].charCodeAt(0));
        } else {
          throw new Error(`unknown escape \\${e} in: ${this.s}`);
        }
      } else {
        const cp = this.s.codePointAt(this.i - 1)!;
        if (cp > 0xffff) this.i++;
        bytes.push(...enc.encode(String.fromCodePoint(cp)));
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  value(): BtValue {
    const c = this.s[this.i];
    if (c === "{") return this.struct();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    const m = /^(-?(?:nan|inf)|-?[0-9][0-9.e+-]*)/.exec(this.s.slice(this.i));
    if (m === null) throw new Error(`expected a value at ${this.i} in: ${this.s}`);
    this.i += m[0].length;
    const t = m[1]!;
    if (/^-?\d+$/.test(t)) return BigInt(t);
    if (t === "nan" || t === "-nan") return Number.NaN;
    if (t === "inf") return Number.POSITIVE_INFINITY;
    if (t === "-inf") return Number.NEGATIVE_INFINITY;
    return Number(t);
  }
}

/** How babeltrace2 prints a double (C's %g: 6 significant digits), parsed back. */
export function asPrintedDouble(v: number): number {
  if (Number.isNaN(v) || !Number.isFinite(v)) return v;
  return Number(v.toPrecision(6));
}
