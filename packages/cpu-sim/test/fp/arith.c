/* SSE float/double arithmetic, conversions, compares and exception flags under every rounding
 * mode: prints results as hex bits so the simulator's output must equal the native run's. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0x243f6a8885a308d3ull;
static uint64_t next(void) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}
static double bd(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static uint64_t db(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }
static float bf(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static uint32_t fb(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

/* Interesting operands: random bits, small integers, values near 1, denormals, specials. */
static double pick(void) {
  switch (next() % 8) {
    case 0: return bd(next());
    case 1: return (double)(int)(next() % 200 - 100);
    case 2: return 1.0 + (double)(next() % 1000) * 0x1p-52;
    case 3: return bd(next() & 0x800fffffffffffffull); /* denormal or zero */
    case 4: return bd((next() & 0x801fffffffffffffull) | 0x0010000000000000ull); /* tiny normal */
    case 5: return bd((next() & 0x800fffffffffffffull) | 0x7fe0000000000000ull); /* huge */
    case 6: { static const double sp[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, 3.0, 0.1}; return sp[next() % 8]; }
    default: return (double)(next() % 100000) / (double)(next() % 1000 + 1);
  }
}
static float pickf(void) {
  switch (next() % 4) {
    case 0: return bf((uint32_t)next());
    case 1: return (float)pick();
    case 2: return bf((uint32_t)next() & 0x807fffffu);
    default: return (float)(next() % 100000) / (float)(next() % 1000 + 1);
  }
}

static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
static volatile double va, vb;
static volatile float fa, fb2;

static void flags(void) {
  int f = fetestexcept(FE_ALL_EXCEPT);
  printf(" %c%c%c%c%c\n", f & FE_INVALID ? 'I' : '-', f & FE_DIVBYZERO ? 'Z' : '-', f & FE_OVERFLOW ? 'O' : '-',
         f & FE_UNDERFLOW ? 'U' : '-', f & FE_INEXACT ? 'P' : '-');
  feclearexcept(FE_ALL_EXCEPT);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 300;
  for (int m = 0; m < 4; m++) {
    fesetround(modes[m]);
    printf("mode %d\n", m);
    for (int i = 0; i < n; i++) {
      va = pick();
      vb = pick();
      double a = va, b = vb;
      feclearexcept(FE_ALL_EXCEPT);
      printf("d %016llx %016llx +%016llx", (unsigned long long)db(a), (unsigned long long)db(b), (unsigned long long)db(a + b));
      flags();
      printf(" -%016llx", (unsigned long long)db(a - b)); flags();
      printf(" *%016llx", (unsigned long long)db(a * b)); flags();
      printf(" /%016llx", (unsigned long long)db(a / b)); flags();
      printf(" s%016llx", (unsigned long long)db(sqrt(a))); flags();
      printf(" f%08x", fb((float)a)); flags();
      printf(" c%d%d%d%d", a < b, a <= b, a == b, isunordered(a, b)); flags();
      printf(" m%016llx %016llx", (unsigned long long)db(fmin(a, b)), (unsigned long long)db(a > b ? a : b)); flags();
      long long l = llrint(a); printf(" r%llx", l); flags();
      long li = lrint(a); printf(" R%lx", li); flags();
      int t = (int)a; printf(" t%x", t); flags();
      long long tl = (long long)a; printf(" T%llx", tl); flags();
      double ri = rint(a); printf(" i%016llx", (unsigned long long)db(ri)); flags();
      double fl = floor(a); printf(" F%016llx", (unsigned long long)db(fl)); flags();
      unsigned long long u = (unsigned long long)(a < 0 ? -a : a); printf(" u%llx", u); flags();
      int64_t k = (int64_t)next(); printf(" k%016llx", (unsigned long long)db((double)k)); flags();
      printf(" K%08x", fb((float)k)); flags();
      uint64_t uk = next(); printf(" U%016llx", (unsigned long long)db((double)uk)); flags();
      int32_t k32 = (int32_t)next(); printf(" j%08x", fb((float)k32)); flags();
      fa = pickf();
      fb2 = pickf();
      float x = fa, y = fb2;
      printf("f %08x %08x +%08x", fb(x), fb(y), fb(x + y)); flags();
      printf(" -%08x", fb(x - y)); flags();
      printf(" *%08x", fb(x * y)); flags();
      printf(" /%08x", fb(x / y)); flags();
      printf(" s%08x", fb(sqrtf(x))); flags();
      printf(" d%016llx", (unsigned long long)db((double)x)); flags();
      printf(" t%x", (int)x); flags();
      printf(" r%lx", lrintf(x)); flags();
    }
  }
  fesetround(FE_TONEAREST);
  /* Packed operations through the vectorizer. */
  static double A[64], B[64], C[64];
  static float FA[64], FB[64], FC[64];
  static int IA[64];
  for (int i = 0; i < 64; i++) {
    A[i] = pick(); B[i] = pick(); FA[i] = pickf(); FB[i] = pickf(); IA[i] = (int)next();
  }
  for (int i = 0; i < 64; i++) C[i] = A[i] * B[i] + A[i];
  for (int i = 0; i < 64; i++) FC[i] = FA[i] / FB[i] - FA[i];
  for (int i = 0; i < 64; i++) printf("%016llx %08x %08x %016llx\n", (unsigned long long)db(C[i]), fb(FC[i]),
                                      fb((float)IA[i]), (unsigned long long)db((double)FA[i] + (double)IA[i]));
  for (int i = 0; i < 64; i++) IA[i] = (int)FC[i] ^ (int)(A[i] < B[i]);
  long long sum = 0;
  for (int i = 0; i < 64; i++) sum += IA[i];
  printf("sum %llx\n", sum);
  flags();
  return 0;
}
