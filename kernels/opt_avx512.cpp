// opt kernels compiled for avx512 (flags set per file in CMakeLists.txt). The registry calls
// them only when cpu() reports the ISA.
#define ROOFBENCH_ISA avx512
#include "kernels/opt.inc"

namespace roofbench {

using F32 = simd::Avx512F32;
using F64 = simd::Avx512F64;

void mv_opt_f64__avx512(const Shape& s, const Operands& io, int t) { avx512::mv<F64>(s, io, t); }
void mv_opt_f32__avx512(const Shape& s, const Operands& io, int t) { avx512::mv<F32>(s, io, t); }
void gemm_opt_f64__avx512(const Shape& s, const Operands& io, int t) { avx512::gemm<F64>(s, io, t); }
void gemm_opt_f32__avx512(const Shape& s, const Operands& io, int t) { avx512::gemm<F32>(s, io, t); }
void conv2d_opt_f64__avx512(const Shape& s, const Operands& io, int t) { avx512::conv2d<F64>(s, io, t); }
void conv2d_opt_f32__avx512(const Shape& s, const Operands& io, int t) { avx512::conv2d<F32>(s, io, t); }
std::size_t gemm_opt_workspace_f64__avx512(const Shape& s, int t) { return avx512::gemm_workspace<F64>(s, t); }
std::size_t gemm_opt_workspace_f32__avx512(const Shape& s, int t) { return avx512::gemm_workspace<F32>(s, t); }
std::size_t conv2d_opt_workspace_f64__avx512(const Shape& s, int t) { return avx512::conv_workspace<F64>(s, t); }
std::size_t conv2d_opt_workspace_f32__avx512(const Shape& s, int t) { return avx512::conv_workspace<F32>(s, t); }

}  // namespace roofbench
