/* CPU-bound benchmark program for the interpreter: integer work only (no libc calls in the
 * loop, no floating point), so that it runs on the baseline integer instruction set. Prints
 * a checksum so native, qemu-user and xmc runs can be compared. */
#include <unistd.h>

static unsigned long long state = 88172645463325252ULL;

static unsigned long long next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static void put_hex(unsigned long long v) {
  char buf[20];
  int n = 0;
  for (int i = 15; i >= 0; i--) buf[n++] = "0123456789abcdef"[(v >> (i * 4)) & 15];
  buf[n++] = '\n';
  write(1, buf, n);
}

int main(int argc, char **argv) {
  int rounds = 40;
  if (argc > 1) {
    rounds = 0;
    for (const char *p = argv[1]; *p; p++) rounds = rounds * 10 + (*p - '0');
  }
  enum { N = 1 << 14 };
  static unsigned int a[N];
  unsigned long long sum = 0;
  for (int round = 0; round < rounds; round++) {
    for (int i = 0; i < N; i++) a[i] = (unsigned int)next();
    /* insertion-sort a small window, then a sieve-like pass and a checksum */
    for (int i = 1; i < 256; i++) {
      unsigned int x = a[i];
      int j = i - 1;
      while (j >= 0 && a[j] > x) {
        a[j + 1] = a[j];
        j--;
      }
      a[j + 1] = x;
    }
    for (int i = 0; i < N; i++) {
      unsigned int v = a[i];
      sum += (v % 7 == 0) ? v : (v >> 3);
      sum ^= sum << 1;
    }
  }
  put_hex(sum);
  return 0;
}
