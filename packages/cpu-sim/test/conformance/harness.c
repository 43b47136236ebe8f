/*
 * xmc conformance harness: runs instruction snippets on this machine's CPU.
 *
 * Built at test time (gcc -O1). Reads a stream of cases on stdin and writes one result per
 * case on stdout; the layout is documented in format.ts (the single description of the
 * format, shared with the generator and the simulator side).
 *
 * Fixed addresses (identical in the simulator, so register values compare directly):
 *   DATA 0x10000000  4 KiB data buffer (RW), reset to the stream's base pattern + the case's
 *                    overlay before every case
 *   CODE 0x20000000  the snippet, followed by an absolute jump to xmc_exit (RWX)
 *   SAVE 0x30000000  register save area and a small private stack (RW)
 *
 * xmc_enter loads XMM0-15, MXCSR, RFLAGS and all sixteen GPRs (RSP too) from SAVE and jumps
 * to the snippet; xmc_exit stores them back without touching anything else first. Faults
 * (SIGFPE, SIGSEGV, SIGILL, SIGBUS, SIGTRAP) are caught on an alternate stack and reported as a
 * status; the registers of a faulting case are not reported.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DATA_ADDR 0x10000000UL
#define CODE_ADDR 0x20000000UL
#define SAVE_ADDR 0x30000000UL
#define DATA_SIZE 4096

/* SAVE layout (keep in sync with the assembly below). */
struct save {
  uint64_t gpr[16];   /* 0x000 */
  uint64_t rflags;    /* 0x080 */
  uint64_t host_rsp;  /* 0x088 */
  uint64_t target;    /* 0x090 */
  uint32_t mxcsr;     /* 0x098 */
  uint32_t host_mxcsr;/* 0x09c */
  uint8_t pad[0x60];  /* 0x0a0 */
  uint8_t xmm[16][16];/* 0x100 */
};

void xmc_enter(void);
void xmc_exit(void);

__asm__(
    ".text\n"
    ".globl xmc_enter\n"
    "xmc_enter:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  mov %rsp, 0x30000088\n"
    "  stmxcsr 0x3000009c\n"
    "  movdqu 0x30000100, %xmm0\n movdqu 0x30000110, %xmm1\n movdqu 0x30000120, %xmm2\n"
    "  movdqu 0x30000130, %xmm3\n movdqu 0x30000140, %xmm4\n movdqu 0x30000150, %xmm5\n"
    "  movdqu 0x30000160, %xmm6\n movdqu 0x30000170, %xmm7\n movdqu 0x30000180, %xmm8\n"
    "  movdqu 0x30000190, %xmm9\n movdqu 0x300001a0, %xmm10\n movdqu 0x300001b0, %xmm11\n"
    "  movdqu 0x300001c0, %xmm12\n movdqu 0x300001d0, %xmm13\n movdqu 0x300001e0, %xmm14\n"
    "  movdqu 0x300001f0, %xmm15\n"
    "  ldmxcsr 0x30000098\n"
    "  mov $0x30000ff0, %rsp\n"
    "  pushq 0x30000080\n"
    "  popfq\n"
    "  mov 0x30000000, %rax\n mov 0x30000008, %rcx\n mov 0x30000010, %rdx\n"
    "  mov 0x30000018, %rbx\n mov 0x30000028, %rbp\n mov 0x30000030, %rsi\n"
    "  mov 0x30000038, %rdi\n mov 0x30000040, %r8\n mov 0x30000048, %r9\n"
    "  mov 0x30000050, %r10\n mov 0x30000058, %r11\n mov 0x30000060, %r12\n"
    "  mov 0x30000068, %r13\n mov 0x30000070, %r14\n mov 0x30000078, %r15\n"
    "  mov 0x30000020, %rsp\n"
    "  jmp *0x30000090\n"
    ".globl xmc_exit\n"
    "xmc_exit:\n"
    "  mov %rsp, 0x30000020\n"
    "  mov $0x30000ff0, %rsp\n"
    "  pushfq\n"
    "  popq 0x30000080\n"
    "  mov %rax, 0x30000000\n mov %rcx, 0x30000008\n mov %rdx, 0x30000010\n"
    "  mov %rbx, 0x30000018\n mov %rbp, 0x30000028\n mov %rsi, 0x30000030\n"
    "  mov %rdi, 0x30000038\n mov %r8, 0x30000040\n mov %r9, 0x30000048\n"
    "  mov %r10, 0x30000050\n mov %r11, 0x30000058\n mov %r12, 0x30000060\n"
    "  mov %r13, 0x30000068\n mov %r14, 0x30000070\n mov %r15, 0x30000078\n"
    "  movdqu %xmm0, 0x30000100\n movdqu %xmm1, 0x30000110\n movdqu %xmm2, 0x30000120\n"
    "  movdqu %xmm3, 0x30000130\n movdqu %xmm4, 0x30000140\n movdqu %xmm5, 0x30000150\n"
    "  movdqu %xmm6, 0x30000160\n movdqu %xmm7, 0x30000170\n movdqu %xmm8, 0x30000180\n"
    "  movdqu %xmm9, 0x30000190\n movdqu %xmm10, 0x300001a0\n movdqu %xmm11, 0x300001b0\n"
    "  movdqu %xmm12, 0x300001c0\n movdqu %xmm13, 0x300001d0\n movdqu %xmm14, 0x300001e0\n"
    "  movdqu %xmm15, 0x300001f0\n"
    "  stmxcsr 0x30000098\n"
    "  ldmxcsr 0x3000009c\n"
    "  pushq $0x202\n"
    "  popfq\n"
    "  mov 0x30000088, %rsp\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n");

/* Input record (little-endian), see format.ts. */
struct in_head {
  uint8_t code[16];
  uint32_t code_len;
  uint32_t flags; /* bit 0: XMM0-15 + MXCSR follow the overlay */
  uint64_t gpr[16];
  uint64_t rflags;
  uint16_t ovl_off;
  uint16_t ovl_len; /* <= 64 */
  uint32_t mxcsr;
};

struct out_head {
  uint32_t status; /* 0 ok, 1 #DE, 2 #UD, 3 #GP, 4 #PF, 5 #AC/SIGBUS, 6 #BP/#DB, 7 other */
  uint32_t ndiff;  /* changed data bytes that follow (u16 offset, u8 value, u8 0) */
  uint64_t gpr[16];
  uint64_t rflags;
  uint32_t mxcsr;
  uint32_t pad;
};

static sigjmp_buf jb;
static volatile int fault_status;

static void on_signal(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  int st = 7;
  if (sig == SIGFPE) st = 1;
  else if (sig == SIGILL) st = 2;
  else if (sig == SIGSEGV) st = si->si_code == SI_KERNEL ? 3 : 4;
  else if (sig == SIGBUS) st = 5;
  else if (sig == SIGTRAP) st = 6;
  fault_status = st;
  siglongjmp(jb, 1);
}

static void *map_fixed(unsigned long addr, size_t len, int prot) {
  void *p = mmap((void *)addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)addr) {
    fprintf(stderr, "harness: cannot map 0x%lx\n", addr);
    exit(2);
  }
  return p;
}

static int read_all(void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t k = fread((char *)buf + got, 1, n - got, stdin);
    if (k == 0) return got == 0 ? 0 : -1;
    got += k;
  }
  return 1;
}

int main(void) {
  uint8_t *data = map_fixed(DATA_ADDR, DATA_SIZE, PROT_READ | PROT_WRITE);
  uint8_t *code = map_fixed(CODE_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
  struct save *sv = map_fixed(SAVE_ADDR, 4096, PROT_READ | PROT_WRITE);
  static uint8_t base[DATA_SIZE];
  static uint8_t out_diff[DATA_SIZE * 4];
  static uint8_t init[DATA_SIZE];

  stack_t ss;
  ss.ss_sp = malloc(1 << 16);
  ss.ss_size = 1 << 16;
  ss.ss_flags = 0;
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGFPE, SIGSEGV, SIGILL, SIGBUS, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  /* Stream header: magic "XMCC", version, then the 4 KiB base pattern. */
  uint32_t hdr[2];
  if (read_all(hdr, sizeof hdr) != 1 || hdr[0] != 0x43434d58 || hdr[1] != 1) {
    fprintf(stderr, "harness: bad stream header\n");
    return 2;
  }
  if (read_all(base, DATA_SIZE) != 1) return 2;

  static char obuf[1 << 20];
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  struct in_head h;
  uint8_t ovl[64];
  uint8_t xmm[256];
  for (;;) {
    int r = read_all(&h, sizeof h);
    if (r == 0) break;
    if (r < 0 || h.code_len > 15 || h.ovl_len > 64 || h.ovl_off + h.ovl_len > DATA_SIZE) {
      fprintf(stderr, "harness: bad case record\n");
      return 2;
    }
    if (h.ovl_len && read_all(ovl, h.ovl_len) != 1) return 2;
    if ((h.flags & 1) && read_all(xmm, 256) != 1) return 2;

    memcpy(init, base, DATA_SIZE);
    memcpy(init + h.ovl_off, ovl, h.ovl_len);
    memcpy(data, init, DATA_SIZE);
    memcpy(code, h.code, h.code_len);
    /* jmp *0(%rip); .quad xmc_exit */
    uint8_t *p = code + h.code_len;
    p[0] = 0xff;
    p[1] = 0x25;
    memset(p + 2, 0, 4);
    uint64_t ex = (uint64_t)(uintptr_t)&xmc_exit;
    memcpy(p + 6, &ex, 8);

    memcpy(sv->gpr, h.gpr, sizeof h.gpr);
    /* Only user-changeable status flags and DF; never TF or AC. */
    sv->rflags = (h.rflags & 0xcd5) | 0x202;
    sv->mxcsr = (h.flags & 1) ? h.mxcsr : 0x1f80;
    if (h.flags & 1) memcpy(sv->xmm, xmm, 256);
    else memset(sv->xmm, 0, 256);
    sv->target = CODE_ADDR;

    struct out_head o;
    memset(&o, 0, sizeof o);
    fault_status = 0;
    if (sigsetjmp(jb, 0) == 0) {
      xmc_enter();
    } else {
      __builtin_ia32_ldmxcsr(0x1f80);
    }
    o.status = fault_status;
    uint32_t nd = 0;
    if (o.status == 0) {
      memcpy(o.gpr, sv->gpr, sizeof o.gpr);
      o.rflags = sv->rflags;
      o.mxcsr = sv->mxcsr;
      for (uint32_t i = 0; i < DATA_SIZE; i++) {
        if (data[i] != init[i]) {
          out_diff[nd * 4] = i & 0xff;
          out_diff[nd * 4 + 1] = i >> 8;
          out_diff[nd * 4 + 2] = data[i];
          out_diff[nd * 4 + 3] = 0;
          nd++;
        }
      }
    }
    o.ndiff = nd;
    fwrite(&o, sizeof o, 1, stdout);
    if (h.flags & 1) fwrite(o.status == 0 ? sv->xmm : (void *)xmm, 256, 1, stdout);
    if (nd) fwrite(out_diff, 4, nd, stdout);
  }
  fflush(stdout);
  return 0;
}
