// The AVX-512 blocking (16 f32 / 8 f64 lanes: NR = 32 / 16, 16-lane gathers) run on AVX2:
// kernels/opt/opt.inc compiled once more over traits that pair two AVX2 registers into one 512-bit
// "vector". CPUs without AVX-512 skip the real AVX-512 kernels, so this is how they still test
// every index computation those kernels share with the AVX2 ones; only the thin intrinsic
// wrappers of simd.h's Avx512 structs stay untested there. The same goes for the low-precision
// GEMM and conv2d: bf16/f16 by conversion and i8/i4 int16 pairs (avx512f), and the dot-product
// variants (avx512_vnni vpdpbusd, avx512_bf16 vdpbf16ps), whose instructions are emulated here
// (EmulatedDpbusd, EmulatedDpbf16), and the AMX tile kernels (EmulatedBf16Tiles,
// EmulatedI8Tiles). Compiled with -mavx2 -mfma -mf16c.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels/simd.h"
#include <algorithm>

#include "tests/amx_emulated.h"

namespace roofbench::simd {

template <class H>
struct Pair {
  using T = typename H::T;
  struct V {
    typename H::V lo, hi;
  };
  static constexpr int L = 2 * H::L;
  static V zero() { return {H::zero(), H::zero()}; }
  static V load(const T* p) { return {H::load(p), H::load(p + H::L)}; }
  static V load_first(const T* p, int n) {
    return {H::load_first(p, std::min(n, H::L)), H::load_first(p + H::L, std::max(0, n - H::L))};
  }
  static void store(T* p, V v) {
    H::store(p, v.lo);
    H::store(p + H::L, v.hi);
  }
  static V set1(T x) { return {H::set1(x), H::set1(x)}; }
  static V fma(V a, V b, V c) { return {H::fma(a.lo, b.lo, c.lo), H::fma(a.hi, b.hi, c.hi)}; }
  static V add(V a, V b) { return {H::add(a.lo, b.lo), H::add(a.hi, b.hi)}; }
  static T sum(V v) { return H::sum(H::add(v.lo, v.hi)); }
  static V gather2d(const T* base, const int* ih, const int* iw, int r, int s, int h, int w) {
    return {H::gather2d(base, ih, iw, r, s, h, w), H::gather2d(base, ih + H::L, iw + H::L, r, s, h, w)};
  }
};

// vpdpbusd: per 32-bit lane, the four unsigned bytes of b times the four signed bytes of a,
// added to the int32 accumulator (wrapping), with the same kGroup and kOffsetB as
// Avx512VnniU8S8Quads. Each byte is widened to int16 (even bytes masked or sign-extended by
// shifts, odd bytes shifted down) and vpmaddwd sums two products per lane exactly, where
// vpmaddubsw would saturate.
struct EmulatedDpbusd : Pair<Avx2I16Pairs> {
  static constexpr int kGroup = 4;
  static constexpr std::int32_t kOffsetB = 128;
  static __m256i dot(__m256i s8, __m256i u8, __m256i c) {
    const __m256i low = _mm256_set1_epi16(0x00ff);
    const __m256i u_even = _mm256_and_si256(u8, low), u_odd = _mm256_srli_epi16(u8, 8);
    const __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s8, 8), 8), s_odd = _mm256_srai_epi16(s8, 8);
    return _mm256_add_epi32(c, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
  }
  static V fma(V a, V b, V c) { return {dot(a.lo, b.lo, c.lo), dot(a.hi, b.hi, c.hi)}; }
};

// vdpbf16ps: each 32-bit lane of a and b holds the bf16 of k (low half) and of k+1 (high
// half); both products go into the lane's f32 accumulator, k+1 first as the SDM specifies. A
// bf16 is the top half of an f32, so widening is a shift (low) or a mask (high). Products of
// two bf16 are exact in f32, so an FMA rounds like the instruction's multiply-then-add; its
// denormals-as-zero is not emulated (the test fills have none).
struct EmulatedDpbf16 {
  using I = Pair<Avx2I16Pairs>;
  using F = Pair<Avx2F32>;
  using T = std::int32_t;
  using V = I::V;
  using C = float;
  using VC = F::V;
  static constexpr int L = 16;
  static __m256 dot(__m256i a, __m256i b, __m256 c) {
    const __m256i high = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
    c = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(a, high)), _mm256_castsi256_ps(_mm256_and_si256(b, high)),
                        c);
    return _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(a, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(b, 16)),
                           c);
  }
  static VC zero() { return F::zero(); }
  static V load(const T* p) { return I::load(p); }
  static VC load(const C* p) { return F::load(p); }
  static void store(C* p, VC v) { F::store(p, v); }
  static V set1(T x) { return I::set1(x); }
  static VC fma(V a, V b, VC c) { return {dot(a.lo, b.lo, c.lo), dot(a.hi, b.hi, c.hi)}; }
  static VC add(VC a, VC b) { return F::add(a, b); }
};

}  // namespace roofbench::simd

#define ROOFBENCH_ISA avx2x2
#define ROOFBENCH_F32 simd::Pair<simd::Avx2F32>
#define ROOFBENCH_F64 simd::Pair<simd::Avx2F64>
#define ROOFBENCH_INT simd::Pair<simd::Avx2I16Pairs>
#define ROOFBENCH_LOWP 1
#include "kernels/opt/opt.inc"
#undef ROOFBENCH_ISA
#undef ROOFBENCH_F64
#undef ROOFBENCH_INT
#undef ROOFBENCH_LOWP

// Again under another name, as kernels/opt/avx512_vnni.cpp and avx512_bf16.cpp do.
#define ROOFBENCH_ISA avx2x2_dot
#define ROOFBENCH_INT_DOT simd::EmulatedDpbusd
#define ROOFBENCH_BF16_DOT simd::EmulatedDpbf16
#include "kernels/opt/opt.inc"
#undef ROOFBENCH_ISA
#undef ROOFBENCH_INT_DOT
#undef ROOFBENCH_BF16_DOT

// And the AMX kernels (opt_amx.cpp) over emulated tiles: the tile blocking, the A packing in
// tile rows, the K padding and the edge tiles run here as they do on an AMX CPU; only
// simd.h's AmxTiles wrappers (one instruction each) stay untested without AMX.
namespace roofbench::simd {

// Eight 16 x 64-byte tile registers and the shapes ldtilecfg gave them, per thread, as the
// hardware keeps them per core: the only mutable state here, and it lives in the thread.
struct EmulatedTileFile {
  testing::Tile tile[amx::kTiles];
  testing::TileShape shape[amx::kTiles];
  bool configured = false;
};
inline EmulatedTileFile& tile_file() {
  thread_local EmulatedTileFile file;
  return file;
}

struct EmulatedTiles {
  using T = std::int32_t;
  static constexpr int L = 16, kKStep = 16, kTileRows = 16;
  static void configure() {
    EmulatedTileFile& f = tile_file();
    const amx::TileConfig config = amx::tile_config();
    for (int t = 0; t < amx::kTiles; ++t) f.shape[t] = testing::shape_of(config, t);
    f.configured = true;
  }
  static void release() { tile_file() = EmulatedTileFile{}; }
  // A tile instruction without a configuration raises #UD on the hardware.
  static EmulatedTileFile& file() {
    EmulatedTileFile& f = tile_file();
    if (!f.configured) {
      std::fputs("emulated AMX: a tile instruction before ldtilecfg\n", stderr);
      std::abort();
    }
    return f;
  }
  template <int t>
  static void load(const void* p, std::int64_t stride) {
    EmulatedTileFile& f = file();
    for (int r = 0; r < f.shape[t].rows; ++r)
      std::memcpy(f.tile[t].bytes[r], static_cast<const std::uint8_t*>(p) + r * stride,
                  static_cast<std::size_t>(f.shape[t].colsb));
  }
  template <int t>
  static void store(void* p, std::int64_t stride) {
    EmulatedTileFile& f = file();
    for (int r = 0; r < f.shape[t].rows; ++r)
      std::memcpy(static_cast<std::uint8_t*>(p) + r * stride, f.tile[t].bytes[r],
                  static_cast<std::size_t>(f.shape[t].colsb));
  }
  template <int t>
  static void zero() {
    file().tile[t] = testing::Tile{};
  }
};
// c += a b through the plain C++ instruction of tests/amx_emulated.h, C of type Cc.
template <class Cc, auto multiply>
struct EmulatedDotTiles : EmulatedTiles {
  using C = Cc;
  template <int c, int a, int b>
  static void dot() {
    EmulatedTileFile& f = file();
    multiply(f.tile[c], f.tile[a], f.tile[b], f.shape[c], f.shape[a], f.shape[b]);
  }
};
using EmulatedBf16Tiles = EmulatedDotTiles<float, testing::tdpbf16ps>;
struct EmulatedI8Tiles : EmulatedDotTiles<std::int32_t, testing::tdpbssd> {
  static constexpr int kGroup = 4;
};

}  // namespace roofbench::simd

#define ROOFBENCH_ISA avx2x2_amx
#define ROOFBENCH_AMX 1
#define ROOFBENCH_AMX_BF16 simd::EmulatedBf16Tiles
#define ROOFBENCH_AMX_INT8 simd::EmulatedI8Tiles
#include "kernels/opt/opt.inc"

#include "tests/opt_wide_emulated.h"

namespace roofbench {

std::span<const Kernel> emulated_wide_kernels() {
  using enum Op;
  using enum DType;
  static const Kernel kKernels[] = {
      {mv, Impl::opt, f64, "mv_f64_4x2__avx2x2_as_avx512f", Isa::avx2_fma, mv_opt_f64__avx2x2},
      {mv, Impl::opt, f32, "mv_f32_4x2__avx2x2_as_avx512f", Isa::avx2_fma, mv_opt_f32__avx2x2},
      {gemm, Impl::opt, f64, "gemm_f64_6x16__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_f64__avx2x2,
       gemm_opt_workspace_f64__avx2x2, opt_prepare<gemm_opt_pack_bytes_f64__avx2x2, gemm_opt_pack_f64__avx2x2>},
      {gemm, Impl::opt, f32, "gemm_f32_6x32__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_f32__avx2x2,
       gemm_opt_workspace_f32__avx2x2, opt_prepare<gemm_opt_pack_bytes_f32__avx2x2, gemm_opt_pack_f32__avx2x2>,
       gemm_opt_work_f32__avx2x2},
      {conv2d, Impl::opt, f64, "conv2d_f64_implicit_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_f64__avx2x2,
       conv2d_opt_workspace_f64__avx2x2},
      {conv2d, Impl::opt, f32, "conv2d_f32_implicit_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_f32__avx2x2,
       conv2d_opt_workspace_f32__avx2x2},
      // low precision: the rows of kernels/opt/avx512.cpp, avx512_vnni.cpp and avx512_bf16.cpp
      {gemm, Impl::opt, bf16, "gemm_bf16_6x32_pairs__avx2x2_as_avx512_bf16", Isa::avx2_fma, gemm_opt_bf16__avx2x2_dot,
       gemm_opt_workspace_bf16__avx2x2_dot,
       opt_prepare<gemm_opt_pack_bytes_bf16__avx2x2_dot, gemm_opt_pack_bf16__avx2x2_dot>},
      {gemm, Impl::opt, bf16, "gemm_bf16_6x32__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_bf16__avx2x2,
       gemm_opt_workspace_half__avx2x2, opt_prepare<gemm_opt_pack_bytes_half__avx2x2, gemm_opt_pack_bf16__avx2x2>},
      {gemm, Impl::opt, f16, "gemm_f16_6x32__avx2x2_as_avx512f", Isa::f16c, gemm_opt_f16__avx2x2,
       gemm_opt_workspace_half__avx2x2, opt_prepare<gemm_opt_pack_bytes_half__avx2x2, gemm_opt_pack_f16__avx2x2>},
      {gemm, Impl::opt, i8, "gemm_i8_6x32_quads__avx2x2_as_avx512_vnni", Isa::avx2_fma, gemm_opt_i8__avx2x2_dot,
       gemm_opt_workspace_int__avx2x2_dot,
       opt_prepare<gemm_opt_pack_bytes_int__avx2x2_dot, gemm_opt_pack_i8__avx2x2_dot>, gemm_opt_work_int__avx2x2_dot},
      {gemm, Impl::opt, i8, "gemm_i8_6x32_pairs__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_i8__avx2x2,
       gemm_opt_workspace_int__avx2x2, opt_prepare<gemm_opt_pack_bytes_int__avx2x2, gemm_opt_pack_i8__avx2x2>},
      {gemm, Impl::opt, i4, "gemm_i4_6x32_quads__avx2x2_as_avx512_vnni", Isa::avx2_fma, gemm_opt_i4__avx2x2_dot,
       gemm_opt_workspace_int__avx2x2_dot,
       opt_prepare<gemm_opt_pack_bytes_int__avx2x2_dot, gemm_opt_pack_i4__avx2x2_dot>},
      {gemm, Impl::opt, i4, "gemm_i4_6x32_pairs__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_i4__avx2x2,
       gemm_opt_workspace_int__avx2x2, opt_prepare<gemm_opt_pack_bytes_int__avx2x2, gemm_opt_pack_i4__avx2x2>},
      {conv2d, Impl::opt, bf16, "conv2d_bf16_im2col_gemm__avx2x2_as_avx512_bf16", Isa::avx2_fma,
       conv2d_opt_bf16__avx2x2_dot, conv2d_opt_workspace_bf16__avx2x2_dot},
      {conv2d, Impl::opt, bf16, "conv2d_bf16_im2col_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_bf16__avx2x2,
       conv2d_opt_workspace_half__avx2x2},
      {conv2d, Impl::opt, f16, "conv2d_f16_im2col_gemm__avx2x2_as_avx512f", Isa::f16c, conv2d_opt_f16__avx2x2,
       conv2d_opt_workspace_half__avx2x2},
      {conv2d, Impl::opt, i8, "conv2d_i8_im2col_gemm__avx2x2_as_avx512_vnni", Isa::avx2_fma, conv2d_opt_i8__avx2x2_dot,
       conv2d_opt_workspace_int__avx2x2_dot},
      {conv2d, Impl::opt, i8, "conv2d_i8_im2col_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_i8__avx2x2,
       conv2d_opt_workspace_int__avx2x2},
      {conv2d, Impl::opt, i4, "conv2d_i4_im2col_gemm__avx2x2_as_avx512_vnni", Isa::avx2_fma, conv2d_opt_i4__avx2x2_dot,
       conv2d_opt_workspace_int__avx2x2_dot},
      {conv2d, Impl::opt, i4, "conv2d_i4_im2col_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_i4__avx2x2,
       conv2d_opt_workspace_int__avx2x2},
      // the tiles: the rows of opt_amx.cpp
      {gemm, Impl::opt, bf16, "gemm_bf16_32x32_tiles__emulated_amx_bf16", Isa::avx2_fma, gemm_opt_bf16__avx2x2_amx,
       gemm_opt_workspace_bf16__avx2x2_amx,
       opt_prepare<gemm_opt_pack_bytes_bf16__avx2x2_amx, gemm_opt_pack_bf16__avx2x2_amx>,
       gemm_opt_work_bf16__avx2x2_amx},
      {gemm, Impl::opt, i8, "gemm_i8_32x32_tiles__emulated_amx_int8", Isa::avx2_fma, gemm_opt_i8__avx2x2_amx,
       gemm_opt_workspace_int__avx2x2_amx,
       opt_prepare<gemm_opt_pack_bytes_int__avx2x2_amx, gemm_opt_pack_i8__avx2x2_amx>, gemm_opt_work_int__avx2x2_amx},
      {gemm, Impl::opt, i4, "gemm_i4_32x32_tiles__emulated_amx_int8", Isa::avx2_fma, gemm_opt_i4__avx2x2_amx,
       gemm_opt_workspace_int__avx2x2_amx,
       opt_prepare<gemm_opt_pack_bytes_int__avx2x2_amx, gemm_opt_pack_i4__avx2x2_amx>},
      {conv2d, Impl::opt, bf16, "conv2d_bf16_im2col_tiles__emulated_amx_bf16", Isa::avx2_fma,
       conv2d_opt_bf16__avx2x2_amx, conv2d_opt_workspace_bf16__avx2x2_amx},
      {conv2d, Impl::opt, i8, "conv2d_i8_im2col_tiles__emulated_amx_int8", Isa::avx2_fma, conv2d_opt_i8__avx2x2_amx,
       conv2d_opt_workspace_int__avx2x2_amx},
      {conv2d, Impl::opt, i4, "conv2d_i4_im2col_tiles__emulated_amx_int8", Isa::avx2_fma, conv2d_opt_i4__avx2x2_amx,
       conv2d_opt_workspace_int__avx2x2_amx},
  };
  return kKernels;
}

}  // namespace roofbench
