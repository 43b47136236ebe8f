// A small seeded mutation and property fuzzer shared by the packages' `test/fuzz-*.test.ts`.
//
// Every run is a pure function of its seed: a case that fails prints the seed, the case index
// and the input (hex or JSON), so it can be replayed and kept as a regression case. CI runs a
// fixed number of cases per surface; `pnpm fuzz` sets XMC_FUZZ_CASES for a longer local run
// (XMC_FUZZ_SEED changes the seed of that run). Hangs: JavaScript cannot preempt a synchronous
// loop, so every case is timed and one slower than its bound fails the run with its input;
// a real infinite loop is stopped by vitest's test timeout (the surfaces bound themselves:
// instruction limits, byte counts).

/** Deterministic pseudo-random numbers: xorshift128 (Marsaglia, 2003), 32-bit words. */
export class FuzzRng {
  constructor(seed) {
    // Spread the seed over the four words (splitmix-style constants) so nearby seeds differ.
    let s = seed >>> 0 || 0x9e3779b9;
    const word = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0 || 1;
    };
    this.x = word();
    this.y = word();
    this.z = word();
    this.w = word();
  }

  /** Next unsigned 32-bit value. */
  next() {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** Integer in [0, n) (n ≤ 2^32). */
  below(n) {
    return n <= 1 ? 0 : this.next() % n;
  }

  /** True with probability p. */
  chance(p) {
    return this.next() < p * 4294967296;
  }

  /** One element of a non-empty array. */
  pick(items) {
    return items[this.below(items.length)];
  }

  /** `n` random bytes. */
  bytes(n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** Values that often sit on a boundary in a length, count, offset or sign check. */
export const INTERESTING = [
  0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];

function putLe(b, at, width, v) {
  for (let i = 0; i < width && at + i < b.length; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}

/**
 * One mutation of `input` (never modified; a new array is returned): bit flip, byte set,
 * an interesting value (1, 2 or 4 bytes, little-endian), insertion, deletion, duplication
 * of a slice, a splice with another input from `corpus`, or truncation. At most `maxLen`
 * bytes come out.
 */
export function mutateBytes(rng, input, corpus = [], maxLen = 1 << 20) {
  let b = input.slice();
  const kind = rng.below(9);
  const at = rng.below(Math.max(1, b.length));
  switch (kind) {
    case 0: // bit flip
      if (b.length > 0) b[at] ^= 1 << rng.below(8);
      break;
    case 1: // byte set
      if (b.length > 0) b[at] = rng.next() & 0xff;
      break;
    case 2: {
      // interesting value
      const width = rng.pick([1, 2, 4]);
      putLe(b, at, width, rng.pick(INTERESTING));
      break;
    }
    case 3: {
      // insert random bytes
      const ins = rng.bytes(1 + rng.below(8));
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      b = out;
      break;
    }
    case 4: {
      // delete a slice
      const n = 1 + rng.below(Math.min(16, Math.max(1, b.length - at)));
      const out = new Uint8Array(Math.max(0, b.length - n));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + n), at);
      b = out;
      break;
    }
    case 5: {
      // copy a slice of itself elsewhere
      if (b.length > 1) {
        const from = rng.below(b.length);
        const n = 1 + rng.below(Math.min(32, b.length - from));
        b.copyWithin(rng.below(b.length), from, from + n);
      }
      break;
    }
    case 6: {
      // splice with another input
      if (corpus.length > 0) {
        const other = rng.pick(corpus);
        const cut = rng.below(other.length + 1);
        const out = new Uint8Array(at + other.length - cut);
        out.set(b.subarray(0, at));
        out.set(other.subarray(cut), at);
        b = out;
      }
      break;
    }
    case 7: // truncate
      b = b.slice(0, at);
      break;
    default: {
      // several byte sets in a row (a burst)
      const n = 1 + rng.below(4);
      for (let i = 0; i < n && b.length > 0; i++) b[rng.below(b.length)] = rng.next() & 0xff;
    }
  }
  return b.length > maxLen ? b.slice(0, maxLen) : b;
}

/** Apply 1 to `max` mutations in a row. */
export function mutateMany(rng, input, corpus = [], max = 4, maxLen = 1 << 20) {
  let b = input;
  const n = 1 + rng.below(max);
  for (let i = 0; i < n; i++) b = mutateBytes(rng, b, corpus, maxLen);
  return b === input ? input.slice() : b;
}

const SPECIAL_CHARS = [
  "\0",
  "\n",
  "\r",
  "\t",
  '"',
  "\\",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffd",
  "\ud800", // lone high surrogate
  "\udfff", // lone low surrogate
  "\ud83d\ude00", // a valid pair
  "\u007f",
  "\u0080",
  "\u07ff",
  "\u0800",
  "\uffff",
  "%s",
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  "\x1b[31m",
];

/**
 * A random string of up to `maxLen` UTF-16 code units: ASCII, control characters, NULs,
 * quotes and backslashes, any BMP code unit (lone surrogates included), astral pairs.
 */
export function randomString(rng, maxLen) {
  const len = rng.below(maxLen + 1);
  let s = "";
  while (s.length < len) {
    const k = rng.below(6);
    if (k === 0) s += rng.pick(SPECIAL_CHARS);
    else if (k === 1) s += String.fromCharCode(rng.below(0x20));
    else if (k === 2) s += String.fromCharCode(0x20 + rng.below(0x5f));
    else if (k === 3) s += String.fromCharCode(rng.below(0x10000));
    else if (k === 4) s += String.fromCodePoint(0x10000 + rng.below(0x100000));
    else s += String.fromCharCode(0x80 + rng.below(0x780));
  }
  return s.length > len ? s.slice(0, len) : s;
}

/** Lowercase hex of bytes (for failure messages and regression files). */
export function toHex(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, "0");
  return s;
}

/** Bytes of a hex string (spaces allowed). */
export function fromHex(text) {
  const h = text.replace(/\s+/g, "");
  if (h.length % 2 !== 0 || /[^0-9a-f]/i.test(h)) throw new Error(`not hex: ${text.slice(0, 40)}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Number of cases for a fuzzer: `ciCases`, or XMC_FUZZ_CASES (the long local run of
 * `pnpm fuzz`) scaled by `ciCases / 100000` so that an expensive surface keeps its ratio.
 */
export function fuzzCases(ciCases) {
  const env = Number(process.env.XMC_FUZZ_CASES);
  if (!Number.isFinite(env) || env <= 0) return ciCases;
  return Math.max(ciCases, Math.round((env * ciCases) / 100000));
}

/** Seed of a fuzzer: `seed`, or `seed` mixed with XMC_FUZZ_SEED when that is set. */
export function fuzzSeed(seed) {
  const env = Number(process.env.XMC_FUZZ_SEED);
  return Number.isInteger(env) ? (seed ^ Math.imul(env, 0x9e3779b1)) >>> 0 : seed >>> 0;
}

/** A failed fuzz case: the message names the fuzzer, the seed, the case and the input. */
export class FuzzFailure extends Error {
  constructor(message, input) {
    super(message);
    this.name = "FuzzFailure";
    this.input = input;
  }
}

function show(input) {
  if (input instanceof Uint8Array)
    return `hex ${toHex(input.subarray(0, 1024))}${input.length > 1024 ? "…" : ""}`;
  try {
    const j = JSON.stringify(input, (_k, v) =>
      v instanceof Uint8Array ? `hex ${toHex(v)}` : typeof v === "bigint" ? `${v}n` : v,
    );
    return j === undefined ? String(input) : j.length > 4096 ? `${j.slice(0, 4096)}…` : j;
  } catch {
    return String(input);
  }
}

/**
 * Run a fuzzer. For case i = 0..cases-1, `generate(rng, i)` makes an input and `check(input, i)`
 * tests the property: it throws on a violation, and returns the name of the outcome (for the
 * printed tally, e.g. "ok" or an error code). A case that takes more than `caseMs` of this
 * process's CPU time fails too (CPU time, not wall time: a loaded machine or a descheduled
 * process must not fail a case; a pathological input that computes for long still does).
 * Prints one line: name, seed, cases, outcomes, slowest case and total time.
 * @returns the tally.
 * @throws FuzzFailure naming the seed, the case index and the input.
 */
export function runFuzz({ name, seed, cases, caseMs = 1000, generate, check, log = true }) {
  const rng = new FuzzRng(seed);
  const outcomes = new Map();
  let slowest = 0;
  const t0 = performance.now();
  for (let i = 0; i < cases; i++) {
    const input = generate(rng, i);
    const c0 = process.cpuUsage();
    let outcome;
    try {
      outcome = check(input, i);
    } catch (e) {
      const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
      throw new FuzzFailure(
        `fuzz ${name}: seed ${seed} case ${i}: ${detail}\n  input: ${show(input)}`,
        input,
      );
    }
    const used = process.cpuUsage(c0);
    const ms = (used.user + used.system) / 1000;
    if (ms > slowest) slowest = ms;
    if (ms > caseMs)
      throw new FuzzFailure(
        `fuzz ${name}: seed ${seed} case ${i} took ${ms.toFixed(0)} ms of CPU time (bound ${caseMs} ms)\n  input: ${show(input)}`,
        input,
      );
    const key = outcome === undefined ? "ok" : String(outcome);
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  const totalMs = performance.now() - t0;
  const tally = { name, seed, cases, outcomes, slowestMs: slowest, totalMs };
  if (log) {
    const parts = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
    process.stdout.write(
      `fuzz ${name}: seed ${seed}, ${cases} cases, 0 failures, ${(totalMs / 1000).toFixed(1)} s, slowest case ${slowest.toFixed(1)} ms; ${parts.join(", ")}\n`,
    );
  }
  return tally;
}

/**
 * A test timeout for a fuzz test: `baseMs` (vitest's 600 s here) in CI, scaled by
 * XMC_FUZZ_CASES / 100,000 for the long local runs of `pnpm fuzz`.
 */
export function fuzzTimeoutMs(baseMs = 600_000) {
  const env = Number(process.env.XMC_FUZZ_CASES);
  return !Number.isFinite(env) || env <= 100000 ? baseMs : Math.round((baseMs * env) / 100000);
}
