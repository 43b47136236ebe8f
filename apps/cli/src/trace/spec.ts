/**
 * `xmc trace -e SPEC`: what to trace and what to do with each hit.
 *
 *   marker:PROVIDER:NAME   our markers (globs * and ? allowed)
 *   usdt:PROVIDER:NAME     USDT probes
 *   func:GLOB              function-entry sites (patchable entries, mcount NOPs)
 *   kprobe:SYMBOL[+OFF]    a kprobe at an instruction (OFF decimal or 0x hex)
 *   kretprobe:SYMBOL       a return probe
 *   djprobe:SYMBOL[+OFF]   a jump-optimized probe
 *
 * optionally followed by an action in braces: `{ print }` (the default: one line per hit),
 * `{ count }` (counts only), `{ hist(argN) }` (a log2 histogram of argument N, from 0).
 */
import { UsageError } from "../errors.ts";

export type SpecKind = "marker" | "usdt" | "func" | "kprobe" | "kretprobe" | "djprobe";

export type Action = { type: "print" } | { type: "count" } | { type: "hist"; arg: number };

export interface TraceSpec {
  /** The text as given. */
  readonly text: string;
  readonly kind: SpecKind;
  /** marker/usdt: `PROVIDER:NAME`; func: the glob; probes: the symbol. */
  readonly target: string;
  /** kprobe/djprobe: the offset from the symbol. */
  readonly offset: number;
  readonly action: Action;
}

const KINDS: readonly SpecKind[] = ["marker", "usdt", "func", "kprobe", "kretprobe", "djprobe"];
const GLOB = /^[\w.*?@-]+$/;
const SYMBOL = /^[A-Za-z_.$][\w.$@]*$/;

function bad(text: string, why: string): never {
  throw new UsageError(`xmc trace: bad spec "${text}": ${why}`);
}

/** Parse one `-e` spec; UsageError naming the problem. */
export function parseSpec(text: string): TraceSpec {
  let body = text.trim();
  let action: Action = { type: "print" };
  const brace = body.indexOf("{");
  if (brace >= 0) {
    const m = /^\{\s*(print|count|hist\(\s*arg(\d{1,2})\s*\))\s*\}$/.exec(body.slice(brace).trim());
    if (!m) bad(text, "the action must be { print }, { count } or { hist(argN) }");
    action =
      m[1] === "print"
        ? { type: "print" }
        : m[1] === "count"
          ? { type: "count" }
          : { type: "hist", arg: Number(m[2]) };
    body = body.slice(0, brace).trim();
  }
  const colon = body.indexOf(":");
  if (colon < 0) bad(text, `start with one of ${KINDS.map((k) => `${k}:`).join(" ")}`);
  const kind = body.slice(0, colon) as SpecKind;
  if (!KINDS.includes(kind)) bad(text, `unknown kind "${body.slice(0, colon)}" (use ${KINDS.join(", ")})`);
  const rest = body.slice(colon + 1);
  switch (kind) {
    case "marker":
    case "usdt": {
      const parts = rest.split(":");
      if (parts.length !== 2 || !GLOB.test(parts[0]!) || !GLOB.test(parts[1]!))
        bad(text, `${kind} needs PROVIDER:NAME (globs * and ? allowed)`);
      return { text, kind, target: rest, offset: 0, action };
    }
    case "func":
      if (!GLOB.test(rest)) bad(text, "func needs a function name or glob");
      return { text, kind, target: rest, offset: 0, action };
    case "kretprobe":
      if (!SYMBOL.test(rest)) bad(text, "kretprobe needs a SYMBOL");
      return { text, kind, target: rest, offset: 0, action };
    default: {
      const m = /^([^+]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(rest);
      if (!m || !SYMBOL.test(m[1]!)) bad(text, `${kind} needs SYMBOL or SYMBOL+OFFSET`);
      const offset = m[2] === undefined ? 0 : Number(m[2]);
      if (!Number.isSafeInteger(offset)) bad(text, "the offset is too large");
      return { text, kind, target: m[1]!, offset, action };
    }
  }
}
