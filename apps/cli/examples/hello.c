/* The bundled example for `npm start` (until `xmc demo` exists): a static program without a C
 * library. Rebuild: gcc -static -nostdlib -O2 -fno-asynchronous-unwind-tables -o hello hello.c */
static long sys_write(int fd, const void *buf, unsigned long n) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(1), "D"(fd), "S"(buf), "d"(n) : "rcx", "r11", "memory");
  return r;
}

static unsigned long count(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

void _start(void) {
  static const char msg[] = "hello from xmc\n";
  sys_write(1, msg, count(msg));
  __asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
  for (;;) {
  }
}
