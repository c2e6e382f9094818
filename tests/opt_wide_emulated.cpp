// The AVX-512 blocking (16 f32 / 8 f64 lanes: NR = 32 / 16, 16-lane gathers) run on AVX2:
// opt.inc compiled once more over traits that pair two AVX2 registers into one 512-bit
// "vector". CPUs without AVX-512 skip the real AVX-512 kernels, so this is how they still test
// every index computation those kernels share with the AVX2 ones; only the thin intrinsic
// wrappers of simd.h's Avx512 structs stay untested there. The same goes for the low-precision
// GEMM and conv2d: bf16/f16 by conversion and i8/i4 int16 pairs (avx512f), and the dot-product
// variants (avx512_vnni vpdpwssd, avx512_bf16 vdpbf16ps), whose instructions are emulated here
// (EmulatedDpwssd, EmulatedDpbf16). Compiled with -mavx2 -mfma -mf16c.
#include "kernels/simd.h"

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

// vpdpwssd adds both int16 products of a lane to the int32 accumulator, wrapping: bit for bit
// vpmaddwd then vpaddd (the one overflow of vpmaddwd, (-2^15)^2 * 2, wraps the same way).
using EmulatedDpwssd = Pair<Avx2I16Pairs>;

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
    c = _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_and_si256(a, high)), _mm256_castsi256_ps(_mm256_and_si256(b, high)), c);
    return _mm256_fmadd_ps(_mm256_castsi256_ps(_mm256_slli_epi32(a, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(b, 16)), c);
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
#include "kernels/opt.inc"
#undef ROOFBENCH_ISA
#undef ROOFBENCH_F64
#undef ROOFBENCH_INT
#undef ROOFBENCH_LOWP

// Again under another name, as opt_avx512_vnni.cpp and opt_avx512_bf16.cpp do.
#define ROOFBENCH_ISA avx2x2_dot
#define ROOFBENCH_INT_DOT simd::EmulatedDpwssd
#define ROOFBENCH_BF16_DOT simd::EmulatedDpbf16
#include "kernels/opt.inc"

#include "tests/opt_wide_emulated.h"

namespace roofbench {

std::span<const Kernel> emulated_wide_kernels() {
  using enum Op;
  using enum DType;
  static const Kernel kKernels[] = {
      {mv, Impl::opt, f64, "mv_f64_4x2__avx2x2_as_avx512f", Isa::avx2_fma, mv_opt_f64__avx2x2},
      {mv, Impl::opt, f32, "mv_f32_4x2__avx2x2_as_avx512f", Isa::avx2_fma, mv_opt_f32__avx2x2},
      {gemm, Impl::opt, f64, "gemm_f64_6x16__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_f64__avx2x2,
       gemm_opt_workspace_f64__avx2x2},
      {gemm, Impl::opt, f32, "gemm_f32_6x32__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_f32__avx2x2,
       gemm_opt_workspace_f32__avx2x2, nullptr, gemm_opt_work_f32__avx2x2},
      {conv2d, Impl::opt, f64, "conv2d_f64_implicit_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_f64__avx2x2,
       conv2d_opt_workspace_f64__avx2x2},
      {conv2d, Impl::opt, f32, "conv2d_f32_implicit_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_f32__avx2x2,
       conv2d_opt_workspace_f32__avx2x2},
      // low precision: the rows of opt_avx512.cpp, opt_avx512_vnni.cpp and opt_avx512_bf16.cpp
      {gemm, Impl::opt, bf16, "gemm_bf16_6x32_pairs__avx2x2_as_avx512_bf16", Isa::avx2_fma, gemm_opt_bf16__avx2x2_dot,
       gemm_opt_workspace_bf16__avx2x2_dot},
      {gemm, Impl::opt, bf16, "gemm_bf16_6x32__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_bf16__avx2x2,
       gemm_opt_workspace_half__avx2x2},
      {gemm, Impl::opt, f16, "gemm_f16_6x32__avx2x2_as_avx512f", Isa::f16c, gemm_opt_f16__avx2x2,
       gemm_opt_workspace_half__avx2x2},
      {gemm, Impl::opt, i8, "gemm_i8_6x32_pairs__avx2x2_as_avx512_vnni", Isa::avx2_fma, gemm_opt_i8__avx2x2_dot,
       gemm_opt_workspace_int__avx2x2_dot, nullptr, gemm_opt_work_int__avx2x2_dot},
      {gemm, Impl::opt, i8, "gemm_i8_6x32_pairs__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_i8__avx2x2,
       gemm_opt_workspace_int__avx2x2},
      {gemm, Impl::opt, i4, "gemm_i4_6x32_pairs__avx2x2_as_avx512_vnni", Isa::avx2_fma, gemm_opt_i4__avx2x2_dot,
       gemm_opt_workspace_int__avx2x2_dot},
      {gemm, Impl::opt, i4, "gemm_i4_6x32_pairs__avx2x2_as_avx512f", Isa::avx2_fma, gemm_opt_i4__avx2x2,
       gemm_opt_workspace_int__avx2x2},
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
  };
  return kKernels;
}

}  // namespace roofbench
