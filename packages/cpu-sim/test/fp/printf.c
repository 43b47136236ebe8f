/* printf/strtod of doubles and long doubles: the simulator's output must equal the native run's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}
static double bits2d(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static uint64_t d2bits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

static void pd(double x) {
  printf("%f|%g|%e|%a|%.17g|%.0f|%.3e|%+.10g|%#g|%12.4f\n", x, x, x, x, x, x, x, x, x, x);
}
static void pld(long double x) {
  printf("%Lf|%Lg|%Le|%La|%.21Lg|%.0Lf|%.25Le\n", x, x, x, x, x, x, x);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, 1e22, 1e23, 123456789.0,
                                5e-324, 2.2250738585072014e-308, 2.2250738585072009e-308, 1.7976931348623157e308,
                                0.3, 2.0 / 3.0, 1e-300, 9007199254740993.0, 0.125, 1e15, 1e16, 1e17, 4.35, 0.045};
  for (unsigned i = 0; i < sizeof edge / sizeof edge[0]; i++) pd(edge[i]);
  pd(INFINITY);
  pd(-INFINITY);
  pd(NAN);
  pd(-NAN);
  for (int i = 0; i < n; i++) {
    uint64_t b = next();
    double x = bits2d(b);
    if (isnan(x)) continue;
    pd(x);
    double y = (double)(int64_t)(next() % 2000001 - 1000000) / 1000.0; /* halfway-ish decimals */
    pd(y);
  }
  static const long double ledge[] = {0.0L, -0.0L, 1.0L, 0.1L, 1.0L / 3.0L, 3.36210314311209350626e-4932L,
                                      1.18973149535723176502e+4932L, 1e-4940L, 2.5L, 12345678901234567890.0L};
  for (unsigned i = 0; i < sizeof ledge / sizeof ledge[0]; i++) pld(ledge[i]);
  pld((long double)INFINITY);
  pld((long double)NAN);
  for (int i = 0; i < n; i++) {
    long double x = (long double)bits2d(next() & 0xbfffffffffffffffull) * (long double)(next() % 1000 + 1) / 7.0L;
    pld(x);
  }
  /* strtod / strtold round trips and tricky inputs */
  static const char *in[] = {"0.1", "1e23", "2.2250738585072011e-308", "4.9e-324", "2.4703282292062328e-324",
                             "1.7976931348623158e308", "1e309", "-0", "0x1.8p3", "nan", "-inf", "123.456e-7",
                             "9007199254740993", "0.500000000000000166533453693773481063544750213623046875",
                             "3.14159265358979323846264338327950288", "1e-400", "6.9294956446009195e15"};
  for (unsigned i = 0; i < sizeof in / sizeof in[0]; i++) {
    double d = strtod(in[i], 0);
    long double ld = strtold(in[i], 0);
    float f = strtof(in[i], 0);
    printf("%s -> %016llx %a %La %a\n", in[i], (unsigned long long)d2bits(d), d, ld, (double)f);
  }
  char buf[64];
  for (int i = 0; i < n; i++) {
    double x = bits2d(next());
    if (isnan(x)) continue;
    snprintf(buf, sizeof buf, "%.17g", x);
    double back = strtod(buf, 0);
    snprintf(buf, sizeof buf, "%.*e", (int)(next() % 20), x);
    printf("%016llx %s %016llx %La\n", (unsigned long long)d2bits(back), buf,
           (unsigned long long)d2bits(strtod(buf, 0)), strtold(buf, 0));
  }
  return 0;
}
