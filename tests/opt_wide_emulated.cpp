// The AVX-512 blocking (16 f32 / 8 f64 lanes: NR = 32 / 16, 16-lane gathers) run on AVX2:
// opt.inc compiled once more over traits that pair two AVX2 registers into one 512-bit
// "vector". CPUs without AVX-512 skip the real AVX-512 kernels, so this is how they still test
// every index computation those kernels share with the AVX2 ones; only the thin intrinsic
// wrappers of simd.h's Avx512 structs stay untested there. Compiled with -mavx2 -mfma.
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

}  // namespace roofbench::simd

#define ROOFBENCH_ISA avx2x2
#define ROOFBENCH_F32 simd::Pair<simd::Avx2F32>
#define ROOFBENCH_F64 simd::Pair<simd::Avx2F64>
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
       gemm_opt_workspace_f32__avx2x2},
      {conv2d, Impl::opt, f64, "conv2d_f64_implicit_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_f64__avx2x2,
       conv2d_opt_workspace_f64__avx2x2},
      {conv2d, Impl::opt, f32, "conv2d_f32_implicit_gemm__avx2x2_as_avx512f", Isa::avx2_fma, conv2d_opt_f32__avx2x2,
       conv2d_opt_workspace_f32__avx2x2},
  };
  return kKernels;
}

}  // namespace roofbench
