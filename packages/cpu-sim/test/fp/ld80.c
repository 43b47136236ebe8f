/* x87 80-bit arithmetic vectors: for seeded operands, every precision control (24/53/64) and
 * rounding mode, print operands, results (as sign/exponent word + significand in hex) and the
 * status word's exception bits and C1 (mask 0x027f). Used twice: the simulator's output of
 * this program must equal the native one, and test/fp-softfloat.test.ts checks the soft-float
 * core against the lines directly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t m; uint16_t se; } __attribute__((packed)) f80;

static uint64_t s = 0x13198a2e03707344ull;
static uint64_t next(void) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

static long double mk(uint16_t se, uint64_t m) {
  long double x = 0;
  f80 v = {m, se};
  memcpy(&x, &v, 10);
  return x;
}
static void show(long double x) {
  f80 v;
  memcpy(&v, &x, 10);
  printf(" %04x%016llx", v.se, (unsigned long long)v.m);
}

static long double pick(int near) {
  uint64_t m = next() | 0x8000000000000000ull;
  int e;
  switch (next() % 10) {
    case 0: e = (int)(next() % 0x7ffe) + 1; break;                 /* anywhere */
    case 1: return mk((uint16_t)(next() & 0x8000), next() >> (next() % 64)); /* denormal/zero */
    case 2: e = 1 + (int)(next() % 80); break;                      /* tiny */
    case 3: e = 0x7ffe - (int)(next() % 80); break;                 /* huge */
    case 4: { static const uint16_t se[] = {0x7fff, 0xffff, 0x0000, 0x8000};
              static const uint64_t mm[] = {0x8000000000000000ull, 0xc000000000000000ull, 0, 0x8000000000000001ull};
              return mk(se[next() % 4], mm[next() % 4]); }
    case 5: m &= ~((1ull << (next() % 64)) - 1); /* short significands: exact results */
            /* fall through */
    default: e = near + (int)(next() % 70) - 35; break;
  }
  return mk((uint16_t)((next() & 0x8000) | (e & 0x7fff)), m);
}

static uint16_t cw0;
static void setcw(int pc, int rc) {
  uint16_t cw = (uint16_t)(0x007f | (pc << 8) | (rc << 10));
  __asm__ volatile("fldcw %0" ::"m"(cw));
}
static unsigned sw(void) {
  uint16_t w;
  __asm__ volatile("fnstsw %0" : "=m"(w));
  __asm__ volatile("fnclex");
  return w & 0x027f;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  static const int pcs[] = {0, 2, 3};
  __asm__ volatile("fnstcw %0" : "=m"(cw0));
  for (int i = 0; i < n; i++) {
    int near = 0x3fff + (int)(next() % 200) - 100;
    long double a = pick(near), b = pick(near);
    for (int p = 0; p < 3; p++) {
      for (int rc = 0; rc < 4; rc++) {
        long double r;
        unsigned w;
        uint16_t w16;
        setcw(pcs[p], rc);
        __asm__ volatile("fnclex");
#define BIN(name, insn)                                                            \
  __asm__ volatile(insn "\n\tfnstsw %1" : "=t"(r), "=m"(w16) : "0"(a), "u"(b));  \
  sw();                                                                            \
  w = w16 & 0x027f; /* C1 as the instruction left it, before any compiler glue */   \
  printf("%s %d %d", name, pcs[p], rc); show(a); show(b); show(r); printf(" %04x\n", w);
        BIN("add", "fadd %%st(1), %%st")
        BIN("sub", "fsub %%st(1), %%st")
        BIN("mul", "fmul %%st(1), %%st")
        BIN("div", "fdiv %%st(1), %%st")
        __asm__ volatile("fsqrt\n\tfnstsw %1" : "=t"(r), "=m"(w16) : "0"(a));
        sw();
        w = w16 & 0x027f;
        printf("sqrt %d %d", pcs[p], rc); show(a); show(a); show(r); printf(" %04x\n", w);
        __asm__ volatile("frndint\n\tfnstsw %1" : "=t"(r), "=m"(w16) : "0"(a));
        sw();
        w = w16 & 0x027f;
        printf("rndint %d %d", pcs[p], rc); show(a); show(a); show(r); printf(" %04x\n", w);
        double d; float f; long long ll; int ii; short ss;
        __asm__ volatile("fstl %0\n\tfnstsw %1" : "=m"(d), "=m"(w16) : "t"(a));
        sw();
        w = w16 & 0x027f;
        printf("fstl %d %d", pcs[p], rc); show(a); printf(" %016llx %04x", *(unsigned long long *)&d, w);
        __asm__ volatile("fsts %0\n\tfnstsw %1" : "=m"(f), "=m"(w16) : "t"(a));
        sw();
        w = w16 & 0x027f;
        printf(" %08x %04x", *(unsigned *)&f, w);
        __asm__ volatile("fld %%st(0)\n\tfistpll %0" : "=m"(ll) : "t"(a));
        w = sw();
        printf(" %016llx %04x", ll, w);
        __asm__ volatile("fistl %0" : "=m"(ii) : "t"(a));
        w = sw();
        printf(" %08x %04x", ii, w);
        __asm__ volatile("fists %0" : "=m"(ss) : "t"(a));
        w = sw();
        printf(" %04hx %04x\n", ss, w);
        if (p == 2) {
          uint16_t x87sw;
          int iters;
          /* Loop while C2 (partial remainder) like libm's fmodl: the partial steps are
           * implementation-specific (SDM: N between 32 and 63), the final remainder is exact. */
          __asm__ volatile("xorl %%ecx, %%ecx\n1: incl %%ecx\n\tfprem\n\tfnstsw %%ax\n\ttestw $0x400, %%ax\n\tjnz 1b\n\t"
                           "movw %%ax, %1\n\tmovl %%ecx, %2"
                           : "=t"(r), "=m"(x87sw), "=m"(iters) : "0"(a), "u"(b) : "rax", "rcx", "cc");
          if (iters > 1) x87sw = 0xffff; /* the quotient bits of a multi-step reduction depend on N */
          sw();
          printf("prem %d %d", pcs[p], rc); show(a); show(b); show(r); printf(" %04x\n", x87sw & 0x4700);
          __asm__ volatile("xorl %%ecx, %%ecx\n1: incl %%ecx\n\tfprem1\n\tfnstsw %%ax\n\ttestw $0x400, %%ax\n\tjnz 1b\n\t"
                           "movw %%ax, %1\n\tmovl %%ecx, %2"
                           : "=t"(r), "=m"(x87sw), "=m"(iters) : "0"(a), "u"(b) : "rax", "rcx", "cc");
          if (iters > 1) x87sw = 0xffff; /* the quotient bits of a multi-step reduction depend on N */
          sw();
          printf("prem1 %d %d", pcs[p], rc); show(a); show(b); show(r); printf(" %04x\n", x87sw & 0x4700);
          __asm__ volatile("fucomi %%st(1), %%st\n\tpushfq\n\tpopq %%rax\n\tmovw %%ax, %1" : "=t"(r), "=m"(x87sw) : "0"(a), "u"(b) : "rax", "cc");
          w = sw();
          printf("ucomi %d %d", pcs[p], rc); show(a); show(b); printf(" %04x %04x\n", x87sw & 0x45, w);
          __asm__ volatile("fcom %%st(1)\n\tfnstsw %1" : "=t"(r), "=m"(x87sw) : "0"(a), "u"(b));
          sw();
          printf("com %d %d", pcs[p], rc); show(a); show(b); printf(" %04x\n", x87sw & 0x457f);
          __asm__ volatile("fxam\n\tfnstsw %1" : "=t"(r), "=m"(x87sw) : "0"(a));
          printf("xam"); show(a); printf(" %04x\n", x87sw & 0x4700);
          long double sc = mk(0x3fff + (int)(next() % 5), 0x8000000000000000ull | next()) * ((next() & 1) ? 1 : -1);
          __asm__ volatile("fscale" : "=t"(r) : "0"(a), "u"(sc));
          w = sw();
          printf("scale %d %d", pcs[p], rc); show(a); show(sc); show(r); printf(" %04x\n", w);
        }
      }
    }
  }
  __asm__ volatile("fldcw %0" ::"m"(cw0));
  return 0;
}
