/**
 * The out-of-line code's layout: the detour buffer's instructions (decoded and printed as
 * objdump would), the offset of its relocated part, the saved-register frame, and the kprobe
 * slot's two copies.
 */
import { decode, formatAtt, Instruction } from "@xmc/x86-decode";
import { expect, test } from "vitest";
import {
  DETOUR_PUSHED,
  DETOUR_RELOCATED,
  DETOUR_RSP_OFFSET,
  detourBytes,
  SLOT_BOOSTED,
  SLOT_SIZE,
  slotBytes,
} from "../src/index.ts";

function listing(b: Uint8Array, at: number): { off: number; text: string }[] {
  const out: { off: number; text: string }[] = [];
  const i = new Instruction();
  for (let o = 0; o < b.length; ) {
    const n = decode(b, o, at + o, 64, i);
    expect(n, `decodes at +${o}`).toBeGreaterThan(0);
    out.push({ off: o, text: formatAtt(i) });
    o += n;
  }
  return out;
}

test("detour buffer: red zone, 15 registers and RFLAGS saved, host call, restored, relocated region at +69, jump back", () => {
  const at = 0x7f0000000000 - 0x10000;
  const site = at - 0x1000;
  const region = Uint8Array.of(0x48, 0x8d, 0x44, 0x7f, 0x01); // lea 0x1(%rdi,%rdi,2),%rax
  const b = detourBytes(at, site, 5, 0x50520007, region);
  const l = listing(b, at);
  const texts = l.map((x) => x.text);
  expect(texts[0]).toBe("lea    -0x80(%rsp),%rsp");
  expect(texts[1]).toBe("pushf");
  expect(texts.slice(2, 17)).toEqual(
    DETOUR_PUSHED.map(
      (r) => `push   %${["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"][r] ?? `r${r}`}`,
    ),
  );
  expect(texts[17]).toBe("mov    $0x50520007,%eax");
  expect(texts[18]).toBe("vmcall");
  expect(texts.slice(19, 34)).toEqual(
    [...DETOUR_PUSHED]
      .reverse()
      .map((r) => `pop    %${["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"][r] ?? `r${r}`}`),
  );
  expect(texts[34]).toBe("popf");
  expect(texts[35]).toBe("lea    0x80(%rsp),%rsp");
  expect(l[36]!.off).toBe(DETOUR_RELOCATED);
  expect(texts[36]).toBe("lea    0x1(%rdi,%rdi,2),%rax");
  expect(texts[37]).toBe(`jmp    0x${(site + 5).toString(16)}`);
  // At the host call: 15 registers and RFLAGS pushed after skipping the red zone.
  expect(DETOUR_RSP_OFFSET).toBe(15 * 8 + 8 + 128);
});

test("kprobe slot: copy then INT3 at +0, copy then jmp back at +32, INT3 filler", () => {
  const at = 0x500000;
  const site = 0x401000;
  const copy = Uint8Array.of(0x48, 0x89, 0xe5); // mov %rsp,%rbp
  const b = slotBytes(at, site, copy, copy);
  expect(b.length).toBe(SLOT_SIZE);
  expect([...b.subarray(0, 4)]).toEqual([0x48, 0x89, 0xe5, 0xcc]);
  const l = listing(b.subarray(SLOT_BOOSTED, SLOT_BOOSTED + 8), at + SLOT_BOOSTED);
  expect(l.map((x) => x.text)).toEqual(["mov    %rsp,%rbp", `jmp    0x${(site + 3).toString(16)}`]);
  expect(b[SLOT_BOOSTED - 1]).toBe(0xcc);
  expect(b[SLOT_SIZE - 1]).toBe(0xcc);
});
