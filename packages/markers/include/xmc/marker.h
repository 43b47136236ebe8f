/*
 * xmc/marker.h: static markers for x86-64 programs, for @xmc/markers. No runtime library.
 *
 *   XMC_MARKER(provider, name, "format", args...)        the default variant (nop5)
 *   XMC_MARKER_NOP5 / XMC_MARKER_JMP2 / XMC_MARKER_CALL  an explicit variant
 *
 * provider and name are identifiers; the format is printf-like (%d %u %ld %lu %lx %p %s %c),
 * one conversion per argument; at most 6 arguments, each an integer or a pointer.
 *
 * Variants (the comparison the markers package measures):
 *   nop5  the fast path holds one 5-byte NOP (0f 1f 44 00 00). The arguments are not computed:
 *         their locations (register, memory operand or constant, with size and sign, in the
 *         `size@operand` notation of SystemTap's USDT notes) are recorded in a note. Enabling
 *         patches the NOP into a `jmp` to a stub that makes the host call.
 *   jmp2  the fast path holds a 2-byte `jmp .+5` over 3 bytes of NOP (eb 03 0f 1f 00), the
 *         layout proposed for djprobe-friendly markers. Enabled like nop5.
 *   call  "static call" style: the fast path loads a per-site flag word and tests it; when it
 *         is non-zero (the host wrote its host-call id there) an out-of-line block passes the
 *         arguments in rdi, rsi, rdx, rcx, r8, r9 and calls the host (VMCALL, EAX = the flag).
 *
 * -DXMC_MARKER_DEFAULT=2 makes XMC_MARKER use jmp2, =3 call (default 1, nop5).
 * -DXMC_MARKERS_OFF compiles every marker out (for measuring what "compiled in and disabled"
 * costs).
 *
 * The note (section .note.xmc, owner "xmc", type 1), one per site, all fields little-endian:
 *   u64 pc            the site: the NOP's or jmp's first byte; for call, the VMCALL
 *   u64 flag          call: the flag word's address; 0 otherwise
 *   u64 format        the address of the NUL-terminated format string (in .rodata.xmc)
 *   provider\0 name\0 kind\0 args\0
 * kind is "nop5", "jmp2" or "call"; args is space-separated `size@operand` (size negative for
 * signed values), AT&T syntax, as GCC prints the operand.
 *
 * The format string is referenced by address (an asm template cannot carry a '%' safely); the
 * program must therefore be linked without PIE (-no-pie or -static), as the fixtures are.
 */
#ifndef XMC_MARKER_H
#define XMC_MARKER_H

#ifndef XMC_MARKER_DEFAULT
#define XMC_MARKER_DEFAULT 1
#endif

#define XMC__STR2(x) #x
#define XMC__STR(x) XMC__STR2(x)
#define XMC__CAT2(a, b) a##b
#define XMC__CAT(a, b) XMC__CAT2(a, b)

/* Argument count, 0 to 6. */
#define XMC__NARG(...) XMC__NARG_(0, ##__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define XMC__NARG_(_0, _1, _2, _3, _4, _5, _6, N, ...) N

/* size@ for an argument: negative size for signed values (USDT's convention). */
#define XMC__SIGNED(x) (!((__typeof__((x) + 0))-1 > (__typeof__((x) + 0))0))
#define XMC__SIZE(x) (XMC__SIGNED(x) ? -(int)sizeof(x) : (int)sizeof(x))

/* Asm operands for the nop5/jmp2 variants: a size constant and the value where it is. */
#define XMC__OPS0()
#define XMC__OPS1(a) , [s1] "n"(XMC__SIZE(a)), [a1] "nor"((a) + 0)
#define XMC__OPS2(a, b) XMC__OPS1(a), [s2] "n"(XMC__SIZE(b)), [a2] "nor"((b) + 0)
#define XMC__OPS3(a, b, c) XMC__OPS2(a, b), [s3] "n"(XMC__SIZE(c)), [a3] "nor"((c) + 0)
#define XMC__OPS4(a, b, c, d) XMC__OPS3(a, b, c), [s4] "n"(XMC__SIZE(d)), [a4] "nor"((d) + 0)
#define XMC__OPS5(a, b, c, d, e) XMC__OPS4(a, b, c, d), [s5] "n"(XMC__SIZE(e)), [a5] "nor"((e) + 0)
#define XMC__OPS6(a, b, c, d, e, f) XMC__OPS5(a, b, c, d, e), [s6] "n"(XMC__SIZE(f)), [a6] "nor"((f) + 0)

#define XMC__ARGS0 ""
#define XMC__ARGS1 "%c[s1]@%[a1]"
#define XMC__ARGS2 XMC__ARGS1 " %c[s2]@%[a2]"
#define XMC__ARGS3 XMC__ARGS2 " %c[s3]@%[a3]"
#define XMC__ARGS4 XMC__ARGS3 " %c[s4]@%[a4]"
#define XMC__ARGS5 XMC__ARGS4 " %c[s5]@%[a5]"
#define XMC__ARGS6 XMC__ARGS5 " %c[s6]@%[a6]"

/* The note for one site; pc is the numeric label 990 just before it. */
#define XMC__NOTE(provider, name, kind, flag, fmtsym, args)                                   \
  ".pushsection .note.xmc,\"\",@note\n"                                                       \
  ".balign 4\n"                                                                               \
  ".4byte 992f-991f, 994f-993f, 1\n"                                                          \
  "991: .asciz \"xmc\"\n"                                                                     \
  "992: .balign 4\n"                                                                          \
  "993: .8byte 990b\n"                                                                        \
  ".8byte " flag "\n"                                                                         \
  ".8byte " fmtsym "\n"                                                                       \
  ".asciz \"" #provider "\"\n"                                                                \
  ".asciz \"" #name "\"\n"                                                                    \
  ".asciz \"" kind "\"\n"                                                                     \
  ".asciz \"" args "\"\n"                                                                     \
  "994: .balign 4\n"                                                                          \
  ".popsection\n"

/* The format string, under a symbol name the note can name. */
#define XMC__FMT(sym, fmt)                                                                    \
  static const char XMC__CAT(sym, _v)[] __asm__(XMC__STR(sym))                                \
      __attribute__((used, section(".rodata.xmc"))) = fmt

#define XMC__SITE(bytes, kindname, provider, name, fmt, sym, ...)                             \
  do {                                                                                        \
    XMC__FMT(sym, fmt);                                                                       \
    __asm__ __volatile__("990: .byte " bytes "\n" XMC__NOTE(                                   \
                             provider, name, kindname, "0", XMC__STR(sym),                    \
                             XMC__CAT(XMC__ARGS, XMC__NARG(__VA_ARGS__)))                     \
                         : : "i"(0) XMC__CAT(XMC__OPS, XMC__NARG(__VA_ARGS__))(__VA_ARGS__)); \
  } while (0)

#define XMC__SYM(provider, name, id) XMC__CAT(XMC__CAT(__xmc_fmt_##provider##_##name##_, id), _)

#define XMC_MARKER_NOP5(provider, name, fmt, ...)                                             \
  XMC__SITE("0x0f, 0x1f, 0x44, 0x00, 0x00", "nop5", provider, name, fmt,                      \
            XMC__SYM(provider, name, __COUNTER__), ##__VA_ARGS__)
#define XMC_MARKER_JMP2(provider, name, fmt, ...)                                             \
  XMC__SITE("0xeb, 0x03, 0x0f, 0x1f, 0x00", "jmp2", provider, name, fmt,                      \
            XMC__SYM(provider, name, __COUNTER__), ##__VA_ARGS__)

/* The call variant: arguments bound to the SysV argument registers in the cold block. */
#define XMC__REG1 "rdi"
#define XMC__REG2 "rsi"
#define XMC__REG3 "rdx"
#define XMC__REG4 "rcx"
#define XMC__REG5 "r8"
#define XMC__REG6 "r9"
#define XMC__CV(i, x) register __typeof__((x) + 0) XMC__CAT(xmc__r, i) __asm__(XMC__REG##i) = (x)
#define XMC__CVS0()
#define XMC__CVS1(a) XMC__CV(1, a);
#define XMC__CVS2(a, b) XMC__CVS1(a) XMC__CV(2, b);
#define XMC__CVS3(a, b, c) XMC__CVS2(a, b) XMC__CV(3, c);
#define XMC__CVS4(a, b, c, d) XMC__CVS3(a, b, c) XMC__CV(4, d);
#define XMC__CVS5(a, b, c, d, e) XMC__CVS4(a, b, c, d) XMC__CV(5, e);
#define XMC__CVS6(a, b, c, d, e, f) XMC__CVS5(a, b, c, d, e) XMC__CV(6, f);
#define XMC__COPS0()
#define XMC__COPS1(a) , [s1] "n"(XMC__SIZE(a)), [a1] "r"(xmc__r1)
#define XMC__COPS2(a, b) XMC__COPS1(a), [s2] "n"(XMC__SIZE(b)), [a2] "r"(xmc__r2)
#define XMC__COPS3(a, b, c) XMC__COPS2(a, b), [s3] "n"(XMC__SIZE(c)), [a3] "r"(xmc__r3)
#define XMC__COPS4(a, b, c, d) XMC__COPS3(a, b, c), [s4] "n"(XMC__SIZE(d)), [a4] "r"(xmc__r4)
#define XMC__COPS5(a, b, c, d, e) XMC__COPS4(a, b, c, d), [s5] "n"(XMC__SIZE(e)), [a5] "r"(xmc__r5)
#define XMC__COPS6(a, b, c, d, e, f) XMC__COPS5(a, b, c, d, e), [s6] "n"(XMC__SIZE(f)), [a6] "r"(xmc__r6)

#define XMC__CALLSITE(provider, name, fmt, sym, flagsym, ...)                                 \
  do {                                                                                        \
    XMC__FMT(sym, fmt);                                                                       \
    static volatile unsigned int XMC__CAT(flagsym, _v) __asm__(XMC__STR(flagsym))             \
        __attribute__((used, section(".data.xmc"))) = 0;                                      \
    unsigned int xmc__f = XMC__CAT(flagsym, _v);                                              \
    if (__builtin_expect(xmc__f != 0, 0)) {                                                   \
      XMC__CAT(XMC__CVS, XMC__NARG(__VA_ARGS__))(__VA_ARGS__)                                 \
      __asm__ __volatile__("990: vmcall\n" XMC__NOTE(provider, name, "call", XMC__STR(flagsym), \
                                                     XMC__STR(sym),                           \
                                                     XMC__CAT(XMC__ARGS, XMC__NARG(__VA_ARGS__))) \
                           : "+a"(xmc__f)                                                     \
                           : "i"(0) XMC__CAT(XMC__COPS, XMC__NARG(__VA_ARGS__))(__VA_ARGS__)  \
                           : "memory");                                                       \
    }                                                                                         \
  } while (0)

#define XMC_MARKER_CALL(provider, name, fmt, ...)                                             \
  XMC__CALLSITE(provider, name, fmt, XMC__SYM(provider, name, __COUNTER__),                   \
                XMC__CAT(__xmc_flag_##provider##_##name##_, __COUNTER__), ##__VA_ARGS__)

#if defined(XMC_MARKERS_OFF)
#undef XMC_MARKER_NOP5
#undef XMC_MARKER_JMP2
#undef XMC_MARKER_CALL
#define XMC_MARKER_NOP5(provider, name, fmt, ...) ((void)0)
#define XMC_MARKER_JMP2(provider, name, fmt, ...) ((void)0)
#define XMC_MARKER_CALL(provider, name, fmt, ...) ((void)0)
#define XMC_MARKER(provider, name, fmt, ...) ((void)0)
#elif XMC_MARKER_DEFAULT == 2
#define XMC_MARKER XMC_MARKER_JMP2
#elif XMC_MARKER_DEFAULT == 3
#define XMC_MARKER XMC_MARKER_CALL
#else
#define XMC_MARKER XMC_MARKER_NOP5
#endif

#endif /* XMC_MARKER_H */
