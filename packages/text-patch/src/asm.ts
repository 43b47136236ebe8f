/**
 * A tiny emitter for the scenario programs: raw bytes, labels, and rel8/rel32 fixups. The
 * encodings are the x86-decode encoder's plus a handful of fixed opcodes (named where used);
 * tests decode the result back to check it.
 */
export class Emitter {
  readonly bytes: number[] = [];
  readonly labels: Map<string, number> = new Map();
  private readonly fixups: { at: number; size: 1 | 4; label: string; end: number }[] = [];
  constructor(readonly base: number) {}
  get here(): number {
    return this.base + this.bytes.length;
  }
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.here);
    return this;
  }
  emit(...b: number[] | [Uint8Array]): this {
    const list = b[0] instanceof Uint8Array ? Array.from(b[0]) : (b as number[]);
    this.bytes.push(...list);
    return this;
  }
  /** Opcode bytes followed by a rel32 to `label`. */
  rel32(op: number[], label: string): this {
    this.emit(...op);
    const at = this.bytes.length;
    this.emit(0, 0, 0, 0);
    this.fixups.push({ at, size: 4, label, end: this.bytes.length });
    return this;
  }
  /** Opcode byte followed by a rel8 to `label`. */
  rel8(op: number, label: string): this {
    this.emit(op);
    const at = this.bytes.length;
    this.emit(0);
    this.fixups.push({ at, size: 1, label, end: this.bytes.length });
    return this;
  }
  /** Pad with one multi-byte NOP (or several) until `here % mod === rem`. */
  alignTo(mod: number, rem: number, nop: (n: number) => Uint8Array): this {
    let n = (((rem - this.here) % mod) + mod) % mod;
    while (n > 0) {
      const k = Math.min(n, 11);
      this.emit(nop(k));
      n -= k;
    }
    return this;
  }
  addr(label: string): number {
    const a = this.labels.get(label);
    if (a === undefined) throw new Error(`unknown label ${label}`);
    return a;
  }
  finish(): Uint8Array {
    const out = Uint8Array.from(this.bytes);
    for (const f of this.fixups) {
      const d = this.addr(f.label) - (this.base + f.end);
      if (f.size === 1) {
        if (d < -128 || d > 127) throw new Error(`rel8 to ${f.label} out of range (${d})`);
        out[f.at] = d & 0xff;
      } else new DataView(out.buffer).setInt32(f.at, d, true);
    }
    return out;
  }
}
