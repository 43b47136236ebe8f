/* SSE2 packed-integer, shuffle, move and MXCSR-free forms through intrinsics: seeded inputs,
 * results printed in hex; the simulator's output must equal the native run's. */
#include <emmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s = 0xa4093822299f31d0ull;
static uint64_t next(void) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}
static __m128i rnd(void) {
  uint64_t a = next(), b = next();
  switch (next() % 4) {
    case 0: a &= 0x8080808080808080ull; b |= 0x7f7f7f7f00000000ull; break; /* saturation edges */
    case 1: a = 0; break;
    default: break;
  }
  return _mm_set_epi64x((long long)b, (long long)a);
}
static void p(const char *n, __m128i v) {
  uint64_t x[2];
  _mm_storeu_si128((__m128i *)x, v);
  printf("%s %016llx%016llx\n", n, (unsigned long long)x[1], (unsigned long long)x[0]);
}
#define B(op) p(#op, op(a, b));
#define SH(op, n) p(#op #n, op(a, n));

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  volatile int cnt;
  for (int i = 0; i < n; i++) {
    __m128i a = rnd(), b = rnd();
    __m128i c = _mm_set_epi64x(0, (long long)(next() % 70));
    B(_mm_add_epi8) B(_mm_add_epi16) B(_mm_add_epi32) B(_mm_add_epi64)
    B(_mm_sub_epi8) B(_mm_sub_epi16) B(_mm_sub_epi32) B(_mm_sub_epi64)
    B(_mm_adds_epi8) B(_mm_adds_epi16) B(_mm_adds_epu8) B(_mm_adds_epu16)
    B(_mm_subs_epi8) B(_mm_subs_epi16) B(_mm_subs_epu8) B(_mm_subs_epu16)
    B(_mm_mullo_epi16) B(_mm_mulhi_epi16) B(_mm_mulhi_epu16) B(_mm_mul_epu32) B(_mm_madd_epi16) B(_mm_sad_epu8)
    B(_mm_avg_epu8) B(_mm_avg_epu16) B(_mm_min_epu8) B(_mm_max_epu8) B(_mm_min_epi16) B(_mm_max_epi16)
    B(_mm_and_si128) B(_mm_andnot_si128) B(_mm_or_si128) B(_mm_xor_si128)
    B(_mm_cmpeq_epi8) B(_mm_cmpeq_epi16) B(_mm_cmpeq_epi32) B(_mm_cmpgt_epi8) B(_mm_cmpgt_epi16) B(_mm_cmpgt_epi32)
    B(_mm_packs_epi16) B(_mm_packs_epi32) B(_mm_packus_epi16)
    B(_mm_unpacklo_epi8) B(_mm_unpacklo_epi16) B(_mm_unpacklo_epi32) B(_mm_unpacklo_epi64)
    B(_mm_unpackhi_epi8) B(_mm_unpackhi_epi16) B(_mm_unpackhi_epi32) B(_mm_unpackhi_epi64)
    p("sll16", _mm_sll_epi16(a, c)); p("srl16", _mm_srl_epi16(a, c)); p("sra16", _mm_sra_epi16(a, c));
    p("sll32", _mm_sll_epi32(a, c)); p("srl32", _mm_srl_epi32(a, c)); p("sra32", _mm_sra_epi32(a, c));
    p("sll64", _mm_sll_epi64(a, c)); p("srl64", _mm_srl_epi64(a, c));
    SH(_mm_slli_epi16, 3) SH(_mm_srli_epi16, 15) SH(_mm_srai_epi16, 9) SH(_mm_slli_epi32, 31) SH(_mm_srli_epi32, 7)
    SH(_mm_srai_epi32, 20) SH(_mm_slli_epi64, 33) SH(_mm_srli_epi64, 1) SH(_mm_slli_si128, 5) SH(_mm_srli_si128, 11)
    p("shufd", _mm_shuffle_epi32(a, 0x1b)); p("shufhi", _mm_shufflehi_epi16(a, 0x93)); p("shuflo", _mm_shufflelo_epi16(a, 0x4e));
    printf("movmsk %x %x %x\n", _mm_movemask_epi8(a), _mm_movemask_ps(_mm_castsi128_ps(b)), _mm_movemask_pd(_mm_castsi128_pd(a)));
    printf("extr %x\n", _mm_extract_epi16(a, 5));
    p("insr", _mm_insert_epi16(a, (int)next(), 2));
    p("shufps", _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b), 0xb1)));
    p("shufpd", _mm_castpd_si128(_mm_shuffle_pd(_mm_castsi128_pd(a), _mm_castsi128_pd(b), 1)));
    p("unpcklps", _mm_castps_si128(_mm_unpacklo_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b))));
    p("unpckhpd", _mm_castpd_si128(_mm_unpackhi_pd(_mm_castsi128_pd(a), _mm_castsi128_pd(b))));
    p("movhl", _mm_castps_si128(_mm_movehl_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b))));
    p("movlh", _mm_castps_si128(_mm_movelh_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b))));
    p("movq", _mm_move_epi64(a));
    p("cvtsi", _mm_cvtsi64_si128((long long)next()));
    printf("cvtsi2 %llx %x\n", (long long)_mm_cvtsi128_si64(b), _mm_cvtsi128_si32(a));
    cnt = i;
    char buf[80];
    memset(buf, 'a' + (cnt % 26), sizeof buf);
    buf[next() % 79] = 0;
    printf("str %zu %p\n", strlen(buf), (void *)(strchr(buf, 'z') ? strchr(buf, 'z') - buf : 0));
  }
  return 0;
}
