// Thin SIMD traits, one struct per (ISA, element type), so the same kernel templates in
// kernels/opt/ compile to AVX2 or AVX-512 code depending on the file that includes them.
// Only the per-ISA translation units include this header, each with its own -m flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/amx_tiles.h"

namespace roofbench::simd {

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2Int {
  // All-ones lanes where 0 <= y < h and 0 <= x < w.
  static __m256i inside(__m256i y, __m256i x, int h, int w) {
    const __m256i neg1 = _mm256_set1_epi32(-1);
    const __m256i in_y = _mm256_and_si256(_mm256_cmpgt_epi32(y, neg1), _mm256_cmpgt_epi32(_mm256_set1_epi32(h), y));
    const __m256i in_x = _mm256_and_si256(_mm256_cmpgt_epi32(x, neg1), _mm256_cmpgt_epi32(_mm256_set1_epi32(w), x));
    return _mm256_and_si256(in_y, in_x);
  }
};

struct Avx2F32 {
  using T = float;
  using V = __m256;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  // p[0..n) and zeros above, 0 <= n <= L; masked lanes are not read, so p + n may end a buffer.
  static V load_first(const T* p, int n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane));
  }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void stream(T* p, V v) { _mm256_stream_ps(p, v); }  // non-temporal; p 32-byte aligned
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static T sum(V v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
  }
  // Loads base[(ih[l] + r) * w + iw[l] + s] for each lane, 0 where that is outside the h x w
  // image: one im2col row segment of a conv2d (ih and iw hold L int32 coordinates).
  static V gather2d(const T* base, const int* ih, const int* iw, int r, int s, int h, int w) {
    const __m256i y = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ih)), _mm256_set1_epi32(r));
    const __m256i x = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(iw)), _mm256_set1_epi32(s));
    const __m256i m = Avx2Int::inside(y, x, h, w);
    const __m256i idx = _mm256_add_epi32(_mm256_mullo_epi32(y, _mm256_set1_epi32(w)), x);
    return _mm256_mask_i32gather_ps(zero(), base, idx, _mm256_castsi256_ps(m), 4);
  }
};
// Two int16 values, k and k+1, per 32-bit element, and "fma" is vpmaddwd + vpaddd:
// acc += a.lo * b.lo + a.hi * b.hi per int32 lane, exact. AVX2's own int8 GEMM uses the quads
// below (faster on Zen 3); these pairs are what AVX-512 runs (Avx512I16Pairs), and the tests
// emulate that with two of these side by side.
struct Avx2I16Pairs {
  using T = std::int32_t;
  using V = __m256i;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const T* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(T* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static V set1(T x) { return _mm256_set1_epi32(x); }
  static V fma(V a, V b, V c) { return _mm256_add_epi32(c, _mm256_madd_epi16(a, b)); }
  static V add(V a, V b) { return _mm256_add_epi32(a, b); }
};

// int8 (and int4) GEMM the way Zen 3 runs fastest: four consecutive k per 32-bit element and
// vpmaddubsw, which does 32 byte products per instruction where vpmaddwd does 16 (on Zen 3
// both issue once a cycle, so the int16 pairs above only match the f32 FMA rate). vpmaddubsw
// wants one unsigned operand: |a| times b carrying a's sign (vpsignb), summed pairwise into
// int16, then vpmaddwd against ones into int32. Exact when no operand is -128 (|a| = 128
// then fits, but b = -128 cannot change sign): the symmetric int8 range -127..127.
struct Avx2I8Quads {
  using T = std::int32_t;
  using V = __m256i;
  static constexpr int L = 8;
  static constexpr int kGroup = 4;  // k per packed element
  static V zero() { return _mm256_setzero_si256(); }
  static V load(const T* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(T* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static V set1(T x) { return _mm256_set1_epi32(x); }
  static V fma(V a, V b, V c) {
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(b, a));
    return _mm256_add_epi32(c, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
  static V add(V a, V b) { return _mm256_add_epi32(a, b); }
};

struct Avx2F64 {
  using T = double;
  using V = __m256d;
  static constexpr int L = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V load_first(const T* p, int n) {
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    return _mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), lane));
  }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void stream(T* p, V v) { _mm256_stream_pd(p, v); }
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static T sum(V v) {
    __m128d x = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(x, _mm_unpackhi_pd(x, x)));
  }
  static V gather2d(const T* base, const int* ih, const int* iw, int r, int s, int h, int w) {
    const __m128i y = _mm_add_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ih)), _mm_set1_epi32(r));
    const __m128i x = _mm_add_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(iw)), _mm_set1_epi32(s));
    const __m128i m =
        _mm256_castsi256_si128(Avx2Int::inside(_mm256_castsi128_si256(y), _mm256_castsi128_si256(x), h, w));
    const __m128i idx = _mm_add_epi32(_mm_mullo_epi32(y, _mm_set1_epi32(w)), x);
    return _mm256_mask_i32gather_pd(zero(), base, idx, _mm256_castsi256_pd(_mm256_cvtepi32_epi64(m)), 8);
  }
};
#endif

#if defined(__AVX512F__)
struct Avx512F32 {
  using T = float;
  using V = __m512;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V load_first(const T* p, int n) { return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void stream(T* p, V v) { _mm512_stream_ps(p, v); }  // non-temporal; p 64-byte aligned
  static V set1(T x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static T sum(V v) { return _mm512_reduce_add_ps(v); }
  static V gather2d(const T* base, const int* ih, const int* iw, int r, int s, int h, int w) {
    const __m512i y = _mm512_add_epi32(_mm512_loadu_si512(ih), _mm512_set1_epi32(r));
    const __m512i x = _mm512_add_epi32(_mm512_loadu_si512(iw), _mm512_set1_epi32(s));
    const __mmask16 m =
        _mm512_cmplt_epu32_mask(y, _mm512_set1_epi32(h)) & _mm512_cmplt_epu32_mask(x, _mm512_set1_epi32(w));
    const __m512i idx = _mm512_add_epi32(_mm512_mullo_epi32(y, _mm512_set1_epi32(w)), x);
    return _mm512_mask_i32gather_ps(zero(), m, idx, base, 4);
  }
};
struct Avx512F64 {
  using T = double;
  using V = __m512d;
  static constexpr int L = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V load_first(const T* p, int n) { return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void stream(T* p, V v) { _mm512_stream_pd(p, v); }
  static V set1(T x) { return _mm512_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static T sum(V v) { return _mm512_reduce_add_pd(v); }
  static V gather2d(const T* base, const int* ih, const int* iw, int r, int s, int h, int w) {
    const __m256i y = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ih)), _mm256_set1_epi32(r));
    const __m256i x = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(iw)), _mm256_set1_epi32(s));
    const __mmask8 m =
        _mm256_cmplt_epu32_mask(y, _mm256_set1_epi32(h)) & _mm256_cmplt_epu32_mask(x, _mm256_set1_epi32(w));
    const __m256i idx = _mm256_add_epi32(_mm256_mullo_epi32(y, _mm256_set1_epi32(w)), x);
    return _mm512_mask_i32gather_pd(zero(), m, idx, base, 8);
  }
};
#endif

#if defined(__AVX512BW__)
// Avx2I16Pairs at 16 lanes (vpmaddwd on zmm is AVX512BW).
struct Avx512I16Pairs {
  using T = std::int32_t;
  using V = __m512i;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_si512(); }
  static V load(const T* p) { return _mm512_loadu_si512(p); }
  static void store(T* p, V v) { _mm512_storeu_si512(p, v); }
  static V set1(T x) { return _mm512_set1_epi32(x); }
  static V fma(V a, V b, V c) { return _mm512_add_epi32(c, _mm512_madd_epi16(a, b)); }
  static V add(V a, V b) { return _mm512_add_epi32(a, b); }
};
#endif

#if defined(__AVX512VNNI__)
// int8 quads (k..k+3 in the four bytes of a 32-bit element, the lowest k in the lowest byte),
// multiplied and added into int32 by one vpdpbusd: 64 products per instruction, twice what
// vpdpwssd's int16 pairs do at the same rate. vpdpbusd multiplies an unsigned byte by a signed
// one, so B is packed as u8 = s8 + 128 (kOffsetB; opt/lowp_pack.inc flips each byte's top bit while
// packing) and each lane gets sum a*(b + 128) = sum a*b + 128 * sum a: C starts at
// -128 * (row sum of A) instead of 0 (opt/lowp_gemm.inc, row_init). Exact over the whole int8 range: a
// product is at most 255 * 128, four fit int32, and the accumulation wraps as vpaddd does.
struct Avx512VnniU8S8Quads : Avx512I16Pairs {
  static constexpr int kGroup = 4;  // k per packed element
  static constexpr std::int32_t kOffsetB = 128;
  static V fma(V a, V b, V c) { return _mm512_dpbusd_epi32(c, b, a); }  // b: the u8 factor
};
#endif

#if defined(__AVX512BF16__)
// bf16 pairs (k, k+1) in 32-bit elements, the raw bits as int32: vdpbf16ps adds both products
// into one f32 lane. Packed operands (T, V) and C (float, __m512) differ, so load and store are
// overloaded on the pointer type and zero/add work on the C side (CSide in opt/ukernel.inc).
struct Avx512Bf16Pairs {
  using T = std::int32_t;
  using V = __m512i;
  using C = float;
  using VC = __m512;
  static constexpr int L = 16;
  static VC zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_si512(p); }
  static VC load(const C* p) { return _mm512_loadu_ps(p); }
  static void store(C* p, VC v) { _mm512_storeu_ps(p, v); }
  static V set1(T x) { return _mm512_set1_epi32(x); }
  static VC fma(V a, V b, VC c) {
    return _mm512_dpbf16_ps(c, __builtin_bit_cast(__m512bh, a), __builtin_bit_cast(__m512bh, b));
  }
  static VC add(VC a, VC b) { return _mm512_add_ps(a, b); }
};
#endif

// GCC spells the -mamx-* macros __AMX_TILE__ and so on, clang __AMXTILE__.
#if (defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AMX_INT8__)) || \
    (defined(__AMXTILE__) && defined(__AMXBF16__) && defined(__AMXINT8__))
// The tile instructions for kernels/opt/ukernel_amx.inc's micro-kernel (opt/amx.cpp). GCC 12's tile
// intrinsics are macros that paste the tile number into the instruction text, so it must be
// a literal: each wrapper picks its instruction with if constexpr. They are asm statements
// that name no memory, so a compiler barrier before each load and after each store keeps the
// packing's and the edge tiles' plain stores and loads on the right side of them.
inline void tile_memory_barrier() { __asm__ volatile("" ::: "memory"); }

// One branch a tile, as the eight tiles are; left unformatted so they read as a list.
// clang-format off
#define ROOFBENCH_TILE_SWITCH(t, X) \
  if constexpr (t == 0) X(0);       \
  else if constexpr (t == 1) X(1);  \
  else if constexpr (t == 2) X(2);  \
  else if constexpr (t == 3) X(3);  \
  else if constexpr (t == 4) X(4);  \
  else if constexpr (t == 5) X(5);  \
  else if constexpr (t == 6) X(6);  \
  else X(7)
// clang-format on

struct AmxTiles {
  using T = std::int32_t;  // a packed element: a bf16 pair or an int8 quad
  static constexpr int L = 16, kKStep = 16, kTileRows = 16;
  static void configure() {
    const amx::TileConfig config = amx::tile_config();
    __asm__ volatile("" : : "r"(&config) : "memory");
    _tile_loadconfig(&config);
  }
  static void release() { _tile_release(); }
  template <int t>
  static void load(const void* p, std::int64_t stride) {
    tile_memory_barrier();
#define ROOFBENCH_LOAD(n) _tile_loadd(n, p, stride)
    ROOFBENCH_TILE_SWITCH(t, ROOFBENCH_LOAD);
#undef ROOFBENCH_LOAD
  }
  template <int t>
  static void store(void* p, std::int64_t stride) {
#define ROOFBENCH_STORE(n) _tile_stored(n, p, stride)
    ROOFBENCH_TILE_SWITCH(t, ROOFBENCH_STORE);
#undef ROOFBENCH_STORE
    tile_memory_barrier();
  }
  template <int t>
  static void zero() {
    ROOFBENCH_TILE_SWITCH(t, _tile_zero);
  }
};

// The micro-kernel's four multiplies (opt/ukernel_amx.inc): c += a b for (c, a, b) in (0, 4, 6), (2, 5, 6),
// (1, 4, 7), (3, 5, 7).
#define ROOFBENCH_TILE_DOT(op)                                                                                    \
  template <int c, int a, int b>                                                                                  \
  static void dot() {                                                                                             \
    static_assert((c == 0 && a == 4 && b == 6) || (c == 2 && a == 5 && b == 6) || (c == 1 && a == 4 && b == 7) || \
                  (c == 3 && a == 5 && b == 7));                                                                  \
    if constexpr (c == 0)                                                                                         \
      op(0, 4, 6);                                                                                                \
    else if constexpr (c == 2)                                                                                    \
      op(2, 5, 6);                                                                                                \
    else if constexpr (c == 1)                                                                                    \
      op(1, 4, 7);                                                                                                \
    else                                                                                                          \
      op(3, 5, 7);                                                                                                \
  }

// bf16 pairs into f32: tdpbf16ps, 16 x 16 x 32 MACs per instruction.
struct AmxBf16Tiles : AmxTiles {
  using C = float;
  ROOFBENCH_TILE_DOT(_tile_dpbf16ps)
};
// int8 quads into int32: tdpbssd (signed times signed, so no offset to correct), 16 x 16 x 64
// MACs per instruction.
struct AmxI8Tiles : AmxTiles {
  using C = std::int32_t;
  static constexpr int kGroup = 4;
  ROOFBENCH_TILE_DOT(_tile_dpbssd)
};
#undef ROOFBENCH_TILE_DOT
#undef ROOFBENCH_TILE_SWITCH
#endif

}  // namespace roofbench::simd
