// Every kernel implementation, declared once; registry.cpp puts them in the table.
// Signatures follow KernelFn / WorkspaceFn (registry.h).
#pragma once

#include "kernels/registry.h"

namespace roofbench {

// naive.cpp
void mv_naive_f64(const Shape&, const Operands&, int threads);
void mv_naive_f32(const Shape&, const Operands&, int threads);
void gemm_naive_f64(const Shape&, const Operands&, int threads);
void gemm_naive_f32(const Shape&, const Operands&, int threads);
void conv2d_naive_f64(const Shape&, const Operands&, int threads);
void conv2d_naive_f32(const Shape&, const Operands&, int threads);
// naive in the low-precision dtypes (the references of every bf16, f16, i8 and i4 kernel)
void mv_naive_bf16(const Shape&, const Operands&, int threads);
void mv_naive_f16(const Shape&, const Operands&, int threads);
void mv_naive_i8(const Shape&, const Operands&, int threads);
void mv_naive_i4(const Shape&, const Operands&, int threads);
void gemm_naive_bf16(const Shape&, const Operands&, int threads);
void gemm_naive_f16(const Shape&, const Operands&, int threads);
void gemm_naive_i8(const Shape&, const Operands&, int threads);
void gemm_naive_i4(const Shape&, const Operands&, int threads);
void conv2d_naive_bf16(const Shape&, const Operands&, int threads);
void conv2d_naive_f16(const Shape&, const Operands&, int threads);
void conv2d_naive_i8(const Shape&, const Operands&, int threads);
void conv2d_naive_i4(const Shape&, const Operands&, int threads);

// blas.cpp: OpenBLAS (cblas); conv2d is im2col into the workspace + gemm.
void mv_blas_f64(const Shape&, const Operands&, int threads);
void mv_blas_f32(const Shape&, const Operands&, int threads);
void gemm_blas_f64(const Shape&, const Operands&, int threads);
void gemm_blas_f32(const Shape&, const Operands&, int threads);
void conv2d_blas_f64(const Shape&, const Operands&, int threads);
void conv2d_blas_f32(const Shape&, const Operands&, int threads);
std::size_t conv2d_blas_workspace_f64(const Shape&, int threads);
std::size_t conv2d_blas_workspace_f32(const Shape&, int threads);

// opt_avx2.cpp / opt_avx512.cpp: hand-written, one file per ISA (compiled with its flags).
#define ROOFBENCH_DECLARE_OPT(isa)                                                \
  void mv_opt_f64__##isa(const Shape&, const Operands&, int threads);            \
  void mv_opt_f32__##isa(const Shape&, const Operands&, int threads);            \
  void gemm_opt_f64__##isa(const Shape&, const Operands&, int threads);          \
  void gemm_opt_f32__##isa(const Shape&, const Operands&, int threads);          \
  void conv2d_opt_f64__##isa(const Shape&, const Operands&, int threads);        \
  void conv2d_opt_f32__##isa(const Shape&, const Operands&, int threads);        \
  std::size_t gemm_opt_workspace_f64__##isa(const Shape&, int threads);          \
  std::size_t gemm_opt_workspace_f32__##isa(const Shape&, int threads);          \
  std::size_t conv2d_opt_workspace_f64__##isa(const Shape&, int threads);        \
  std::size_t conv2d_opt_workspace_f32__##isa(const Shape&, int threads);
// opt_lowp_avx2.cpp: MV in the low-precision dtypes
void mv_opt_bf16__avx2(const Shape&, const Operands&, int threads);
void mv_opt_f16__avx2(const Shape&, const Operands&, int threads);
void mv_opt_i8__avx2(const Shape&, const Operands&, int threads);
void mv_opt_i4__avx2(const Shape&, const Operands&, int threads);
std::size_t mv_opt_workspace_half__avx2(const Shape&, int threads);
std::size_t mv_opt_workspace_i4__avx2(const Shape&, int threads);

// opt.inc's low-precision GEMM and conv2d (ROOFBENCH_LOWP), AVX2 only
void gemm_opt_bf16__avx2(const Shape&, const Operands&, int threads);
void gemm_opt_f16__avx2(const Shape&, const Operands&, int threads);
void gemm_opt_i8__avx2(const Shape&, const Operands&, int threads);
void gemm_opt_i4__avx2(const Shape&, const Operands&, int threads);
void conv2d_opt_bf16__avx2(const Shape&, const Operands&, int threads);
void conv2d_opt_f16__avx2(const Shape&, const Operands&, int threads);
void conv2d_opt_i8__avx2(const Shape&, const Operands&, int threads);
void conv2d_opt_i4__avx2(const Shape&, const Operands&, int threads);
std::size_t gemm_opt_workspace_half__avx2(const Shape&, int threads);
std::size_t gemm_opt_workspace_int__avx2(const Shape&, int threads);
std::size_t conv2d_opt_workspace_half__avx2(const Shape&, int threads);
std::size_t conv2d_opt_workspace_int__avx2(const Shape&, int threads);

ROOFBENCH_DECLARE_OPT(avx2)
ROOFBENCH_DECLARE_OPT(avx512)
#undef ROOFBENCH_DECLARE_OPT

}  // namespace roofbench
