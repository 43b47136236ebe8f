/**
 * A parser for the subset of CTF 1.8 TSDL (metadata text) that {@link ctfMetadata} writes:
 * `typealias`, `trace`, `env`, `clock`, `stream` and `event` blocks; `integer`,
 * `floating_point`, `string` and `struct` types; fixed arrays and sequences whose length is an
 * earlier field; `key = value;` and `key := type;` entries. Anything outside it is a
 * {@link TraceBufferError} `BAD_TRACE` naming the line.
 */
import { TraceBufferError } from "../errors.ts";

/** A TSDL type, resolved (aliases replaced). Sizes and alignments in bits. */
export type TsdlType =
  | { kind: "integer"; size: number; align: number; signed: boolean; clock: string | undefined }
  | { kind: "float"; size: number; align: number }
  | { kind: "string" }
  | { kind: "struct"; fields: TsdlField[] };

/** A struct member: a scalar, a fixed array (`length` a number) or a sequence (`length` a field name). */
export interface TsdlField {
  name: string;
  type: TsdlType;
  length?: number | string;
}

/** A value of a `key = value;` entry. */
export type TsdlValue = number | bigint | string | { ident: string };

/** A block: its `=` entries and its `:=` types. */
export interface TsdlBlock {
  values: Map<string, TsdlValue>;
  types: Map<string, TsdlType>;
}

/** The parsed metadata. */
export interface TsdlMetadata {
  trace: TsdlBlock;
  env: TsdlBlock;
  clocks: TsdlBlock[];
  streams: TsdlBlock[];
  events: TsdlBlock[];
}

interface Token {
  t: "id" | "num" | "str" | "punct";
  v: string;
  line: number;
}

function fail(line: number, msg: string): never {
  throw new TraceBufferError("BAD_TRACE", `CTF metadata line ${line}: ${msg}`);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") i++;
    else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) fail(line, "unterminated comment");
      for (let k = i; k < end; k++) if (text[k] === "\n") line++;
      i = end + 2;
    } else if (text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === '"') {
      let s = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") {
          const e = text[i + 1];
          s += e === "n" ? "\n" : e === "t" ? "\t" : (e ?? "");
          i += 2;
        } else {
          if (text[i] === "\n") line++;
          s += text[i++];
        }
      }
      if (i >= text.length) fail(line, "unterminated string");
      i++;
      out.push({ t: "str", v: s, line });
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      out.push({ t: "id", v: text.slice(i, j), line });
      i = j;
    } else if (/[0-9-]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[0-9a-fA-FxX]/.test(text[j]!)) j++;
      out.push({ t: "num", v: text.slice(i, j), line });
      i = j;
    } else if (text.startsWith(":=", i)) {
      out.push({ t: "punct", v: ":=", line });
      i += 2;
    } else if ("{}[];=.".includes(c)) {
      out.push({ t: "punct", v: c, line });
      i++;
    } else fail(line, `unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

function toNumber(tok: Token): number | bigint {
  const neg = tok.v.startsWith("-");
  const body = neg ? tok.v.slice(1) : tok.v;
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(body)) fail(tok.line, `"${tok.v}" is not a number`);
  const b = BigInt(body) * (neg ? -1n : 1n);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

class Parser {
  private i = 0;
  readonly aliases = new Map<string, TsdlType>();
  constructor(private readonly toks: Token[]) {}

  private peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }
  private line(): number {
    return (this.peek() ?? this.toks[this.toks.length - 1])?.line ?? 1;
  }
  private next(): Token {
    const t = this.toks[this.i++];
    if (!t) fail(this.line(), "unexpected end of metadata");
    return t;
  }
  private expect(v: string): void {
    const t = this.next();
    if (t.v !== v || (t.t !== "punct" && t.t !== "id")) fail(t.line, `expected "${v}", found "${t.v}"`);
  }
  private ident(): string {
    const t = this.next();
    if (t.t !== "id") fail(t.line, `expected a name, found "${t.v}"`);
    return t.v;
  }
  get done(): boolean {
    return this.i >= this.toks.length;
  }

  /** A type: integer/floating_point/string/struct `{...}` or an alias name. */
  type(): TsdlType {
    const t = this.next();
    if (t.t !== "id") fail(t.line, `expected a type, found "${t.v}"`);
    if (t.v === "struct") {
      this.expect("{");
      const fields: TsdlField[] = [];
      while (this.peek()?.v !== "}") fields.push(this.member(fields));
      this.expect("}");
      // `align(n)` after a struct is not written by our exporter.
      return { kind: "struct", fields };
    }
    if (t.v === "integer" || t.v === "floating_point" || t.v === "string") {
      const attrs = new Map<string, TsdlValue>();
      if (this.peek()?.v === "{") {
        this.next();
        while (this.peek()?.v !== "}") {
          const k = this.ident();
          this.expect("=");
          attrs.set(k, this.value());
          this.expect(";");
        }
        this.expect("}");
      }
      const num = (k: string, def: number): number => {
        const v = attrs.get(k) ?? def;
        if (typeof v !== "number") fail(t.line, `${t.v} attribute ${k} must be a number`);
        return v;
      };
      const order = attrs.get("byte_order");
      if (
        order !== undefined &&
        !(typeof order === "object" && (order.ident === "le" || order.ident === "native"))
      )
        fail(t.line, "only little-endian (byte_order = le) data is supported");
      if (t.v === "string") {
        const enc = attrs.get("encoding");
        if (enc !== undefined && !(typeof enc === "object" && /^(UTF8|ASCII)$/i.test(enc.ident)))
          fail(t.line, "string encoding must be UTF8 or ASCII");
        return { kind: "string" };
      }
      if (t.v === "floating_point") {
        const exp = num("exp_dig", 0);
        const mant = num("mant_dig", 0);
        if (!((exp === 11 && mant === 53) || (exp === 8 && mant === 24)))
          fail(t.line, `floating_point with exp_dig ${exp}, mant_dig ${mant} is not binary32 or binary64`);
        const falign = num("align", 8);
        // As for integers: 0 or a non-power of two would put the cursor between bytes.
        if (falign < 8 || (falign & (falign - 1)) !== 0)
          fail(t.line, `floating_point align ${falign} is not a power of two of at least 8 bits`);
        return { kind: "float", size: exp + mant, align: falign };
      }
      const size = num("size", 0);
      if (size < 8 || size > 64 || size % 8 !== 0)
        fail(t.line, `integer size ${size} is not 8, 16, 24, ..., 64 bits`);
      const align = num("align", 8);
      if (align < 8 || (align & (align - 1)) !== 0)
        fail(t.line, `integer align ${align} is not a power of two of at least 8 bits`);
      const signed = attrs.get("signed");
      const isSigned = typeof signed === "object" ? signed.ident === "true" : signed === 1;
      const map = attrs.get("map");
      const clock =
        typeof map === "object" ? /^clock\.([A-Za-z_]\w*)\.value$/.exec(map.ident)?.[1] : undefined;
      return { kind: "integer", size, align, signed: isSigned, clock };
    }
    const alias = this.aliases.get(t.v);
    if (!alias) fail(t.line, `unknown type "${t.v}"`);
    return alias;
  }

  /** `type name;`, `type name[N];` or `type name[lengthField];` */
  private member(before: readonly TsdlField[]): TsdlField {
    const type = this.type();
    const name = this.ident();
    let length: number | string | undefined;
    if (this.peek()?.v === "[") {
      this.next();
      const t = this.next();
      if (t.t === "num") {
        const n = toNumber(t);
        if (typeof n !== "number" || n < 0) fail(t.line, `array length ${t.v} out of range`);
        length = n;
      } else if (t.t === "id") {
        const lf = before.find((f) => f.name === t.v);
        if (lf?.type.kind !== "integer" || lf.length !== undefined)
          fail(t.line, `sequence length "${t.v}" is not an earlier integer field`);
        length = t.v;
      } else fail(t.line, `bad array length "${t.v}"`);
      this.expect("]");
    }
    this.expect(";");
    return length === undefined ? { name, type } : { name, type, length };
  }

  /** A value: number, string, identifier path (`clock.cycles.value`) or `true`/`false`. */
  value(): TsdlValue {
    const t = this.next();
    if (t.t === "num") return toNumber(t);
    if (t.t === "str") return t.v;
    if (t.t === "id") {
      let id = t.v;
      while (this.peek()?.v === ".") {
        this.next();
        id += `.${this.ident()}`;
      }
      return { ident: id };
    }
    fail(t.line, `expected a value, found "${t.v}"`);
  }

  /** `{ key = value; key.sub := type; ... }` */
  block(): TsdlBlock {
    const b: TsdlBlock = { values: new Map(), types: new Map() };
    this.expect("{");
    while (this.peek()?.v !== "}") {
      let key = this.ident();
      while (this.peek()?.v === ".") {
        this.next();
        key += `.${this.ident()}`;
      }
      const op = this.next();
      if (op.v === "=") b.values.set(key, this.value());
      else if (op.v === ":=") b.types.set(key, this.type());
      else fail(op.line, `expected "=" or ":=" after ${key}`);
      this.expect(";");
    }
    this.expect("}");
    this.expect(";");
    return b;
  }

  /** `typealias TYPE := name;` */
  typealias(): void {
    const type = this.type();
    this.expect(":=");
    const name = this.ident();
    this.expect(";");
    this.aliases.set(name, type);
  }

  topLevel(): Token {
    const t = this.next();
    if (t.t !== "id") fail(t.line, `expected a block, found "${t.v}"`);
    return t;
  }
}

/**
 * Parse metadata text.
 * @throws TraceBufferError `BAD_TRACE` on text outside the supported subset, with its line.
 */
export function parseTsdl(text: string): TsdlMetadata {
  if (!text.startsWith("/* CTF 1.8")) fail(1, 'not CTF 1.8 text metadata (no "/* CTF 1.8" signature)');
  const p = new Parser(tokenize(text));
  const m: TsdlMetadata = {
    trace: { values: new Map(), types: new Map() },
    env: { values: new Map(), types: new Map() },
    clocks: [],
    streams: [],
    events: [],
  };
  let sawTrace = false;
  while (!p.done) {
    const tok = p.topLevel();
    const kw = tok.v;
    if (kw === "typealias") p.typealias();
    else if (kw === "trace") {
      m.trace = p.block();
      sawTrace = true;
    } else if (kw === "env") m.env = p.block();
    else if (kw === "clock") m.clocks.push(p.block());
    else if (kw === "stream") m.streams.push(p.block());
    else if (kw === "event") m.events.push(p.block());
    else fail(tok.line, `unsupported top-level "${kw}"`);
  }
  if (!sawTrace) fail(1, "no trace block");
  return m;
}
