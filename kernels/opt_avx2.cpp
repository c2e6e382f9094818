// opt kernels compiled for avx2 (flags set per file in CMakeLists.txt). The registry calls
// them only when cpu() reports the ISA.
#define ROOFBENCH_ISA avx2
#include "kernels/opt.inc"

namespace roofbench {

using F32 = simd::Avx2F32;
using F64 = simd::Avx2F64;

void mv_opt_f64__avx2(const Shape& s, const Operands& io, int t) { avx2::mv<F64>(s, io, t); }
void mv_opt_f32__avx2(const Shape& s, const Operands& io, int t) { avx2::mv<F32>(s, io, t); }
void gemm_opt_f64__avx2(const Shape& s, const Operands& io, int t) { avx2::gemm<F64>(s, io, t); }
void gemm_opt_f32__avx2(const Shape& s, const Operands& io, int t) { avx2::gemm<F32>(s, io, t); }
void conv2d_opt_f64__avx2(const Shape& s, const Operands& io, int t) { avx2::conv2d<F64>(s, io, t); }
void conv2d_opt_f32__avx2(const Shape& s, const Operands& io, int t) { avx2::conv2d<F32>(s, io, t); }
std::size_t gemm_opt_workspace_f64__avx2(const Shape& s, int t) { return avx2::gemm_workspace<F64>(s, t); }
std::size_t gemm_opt_workspace_f32__avx2(const Shape& s, int t) { return avx2::gemm_workspace<F32>(s, t); }
std::size_t conv2d_opt_workspace_f64__avx2(const Shape& s, int t) { return avx2::conv_workspace<F64>(s, t); }
std::size_t conv2d_opt_workspace_f32__avx2(const Shape& s, int t) { return avx2::conv_workspace<F32>(s, t); }

}  // namespace roofbench
