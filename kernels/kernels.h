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

#if ROOFBENCH_HAVE_ONEDNN
// onednn.cpp: oneDNN matmul (mv, gemm) and convolution primitives, built by the prepare hooks.
void mv_onednn_f32(const Shape&, const Operands&, int threads);
void mv_onednn_bf16(const Shape&, const Operands&, int threads);
void mv_onednn_i8(const Shape&, const Operands&, int threads);
void gemm_onednn_f32(const Shape&, const Operands&, int threads);
void gemm_onednn_bf16(const Shape&, const Operands&, int threads);
void gemm_onednn_i8(const Shape&, const Operands&, int threads);
void conv2d_onednn_f32(const Shape&, const Operands&, int threads);
void conv2d_onednn_bf16(const Shape&, const Operands&, int threads);
void conv2d_onednn_i8(const Shape&, const Operands&, int threads);
std::shared_ptr<void> onednn_prepare_f32(const Shape&, const Operands&, int threads);
std::shared_ptr<void> onednn_prepare_bf16(const Shape&, const Operands&, int threads);
std::shared_ptr<void> onednn_prepare_i8(const Shape&, const Operands&, int threads);
#endif

// opt/avx2.cpp / opt/avx512.cpp: hand-written, one file per ISA (compiled with its flags).
#define ROOFBENCH_DECLARE_OPT(isa)                                              \
  void mv_opt_f64__##isa(const Shape&, const Operands&, int threads);           \
  void mv_opt_f32__##isa(const Shape&, const Operands&, int threads);           \
  void gemm_opt_f64__##isa(const Shape&, const Operands&, int threads);         \
  void gemm_opt_f32__##isa(const Shape&, const Operands&, int threads);         \
  void conv2d_opt_f64__##isa(const Shape&, const Operands&, int threads);       \
  void conv2d_opt_f32__##isa(const Shape&, const Operands&, int threads);       \
  std::size_t gemm_opt_workspace_f64__##isa(const Shape&, int threads);         \
  std::size_t gemm_opt_workspace_f32__##isa(const Shape&, int threads);         \
  std::size_t conv2d_opt_workspace_f64__##isa(const Shape&, int threads);       \
  std::size_t conv2d_opt_workspace_f32__##isa(const Shape&, int threads);       \
  Work gemm_opt_work_f64__##isa(const Shape&, int threads);                     \
  Work gemm_opt_work_f32__##isa(const Shape&, int threads);                     \
  Work conv2d_opt_work_f64__##isa(const Shape&, int threads);                   \
  Work conv2d_opt_work_f32__##isa(const Shape&, int threads);                   \
  void gemm_opt_pack_f64__##isa(const Shape&, const Operands&, std::byte* dst); \
  void gemm_opt_pack_f32__##isa(const Shape&, const Operands&, std::byte* dst); \
  std::size_t gemm_opt_pack_bytes_f64__##isa(const Shape&);                     \
  std::size_t gemm_opt_pack_bytes_f32__##isa(const Shape&);
// opt/mv_lowp_avx2.cpp: MV in the low-precision dtypes
void mv_opt_bf16__avx2(const Shape&, const Operands&, int threads);
void mv_opt_f16__avx2(const Shape&, const Operands&, int threads);
void mv_opt_i8__avx2(const Shape&, const Operands&, int threads);
void mv_opt_i4__avx2(const Shape&, const Operands&, int threads);
std::size_t mv_opt_workspace_half__avx2(const Shape&, int threads);
std::size_t mv_opt_workspace_i4__avx2(const Shape&, int threads);

// opt's low-precision GEMM and conv2d (opt/lowp_*.inc): bf16, f16 by conversion to f32 and i8,
// i4 as int16 pairs (ROOFBENCH_LOWP: opt/avx2.cpp, opt/avx512.cpp); i8, i4 by vpdpbusd
// (ROOFBENCH_INT_DOT: opt/avx512_vnni.cpp); bf16 by vdpbf16ps (ROOFBENCH_BF16_DOT:
// opt/avx512_bf16.cpp); bf16, i8 and i4 on the AMX tiles (ROOFBENCH_AMX: opt/amx.cpp).
#define ROOFBENCH_DECLARE_OPT_HALF(isa)                                          \
  void gemm_opt_bf16__##isa(const Shape&, const Operands&, int threads);         \
  void gemm_opt_f16__##isa(const Shape&, const Operands&, int threads);          \
  void conv2d_opt_bf16__##isa(const Shape&, const Operands&, int threads);       \
  void conv2d_opt_f16__##isa(const Shape&, const Operands&, int threads);        \
  std::size_t gemm_opt_workspace_half__##isa(const Shape&, int threads);         \
  std::size_t conv2d_opt_workspace_half__##isa(const Shape&, int threads);       \
  Work gemm_opt_work_half__##isa(const Shape&, int threads);                     \
  Work conv2d_opt_work_half__##isa(const Shape&, int threads);                   \
  void gemm_opt_pack_bf16__##isa(const Shape&, const Operands&, std::byte* dst); \
  void gemm_opt_pack_f16__##isa(const Shape&, const Operands&, std::byte* dst);  \
  std::size_t gemm_opt_pack_bytes_half__##isa(const Shape&);
#define ROOFBENCH_DECLARE_OPT_INT(isa)                                         \
  void gemm_opt_i8__##isa(const Shape&, const Operands&, int threads);         \
  void gemm_opt_i4__##isa(const Shape&, const Operands&, int threads);         \
  void conv2d_opt_i8__##isa(const Shape&, const Operands&, int threads);       \
  void conv2d_opt_i4__##isa(const Shape&, const Operands&, int threads);       \
  std::size_t gemm_opt_workspace_int__##isa(const Shape&, int threads);        \
  std::size_t conv2d_opt_workspace_int__##isa(const Shape&, int threads);      \
  Work gemm_opt_work_int__##isa(const Shape&, int threads);                    \
  Work conv2d_opt_work_int__##isa(const Shape&, int threads);                  \
  void gemm_opt_pack_i8__##isa(const Shape&, const Operands&, std::byte* dst); \
  void gemm_opt_pack_i4__##isa(const Shape&, const Operands&, std::byte* dst); \
  std::size_t gemm_opt_pack_bytes_int__##isa(const Shape&);
#define ROOFBENCH_DECLARE_OPT_BF16_DOT(isa)                                      \
  void gemm_opt_bf16__##isa(const Shape&, const Operands&, int threads);         \
  void conv2d_opt_bf16__##isa(const Shape&, const Operands&, int threads);       \
  std::size_t gemm_opt_workspace_bf16__##isa(const Shape&, int threads);         \
  std::size_t conv2d_opt_workspace_bf16__##isa(const Shape&, int threads);       \
  Work gemm_opt_work_bf16__##isa(const Shape&, int threads);                     \
  Work conv2d_opt_work_bf16__##isa(const Shape&, int threads);                   \
  void gemm_opt_pack_bf16__##isa(const Shape&, const Operands&, std::byte* dst); \
  std::size_t gemm_opt_pack_bytes_bf16__##isa(const Shape&);
ROOFBENCH_DECLARE_OPT_HALF(avx2)
ROOFBENCH_DECLARE_OPT_INT(avx2)
ROOFBENCH_DECLARE_OPT_HALF(avx512)
ROOFBENCH_DECLARE_OPT_INT(avx512)
ROOFBENCH_DECLARE_OPT_INT(avx512_vnni)
ROOFBENCH_DECLARE_OPT_BF16_DOT(avx512_bf16)
ROOFBENCH_DECLARE_OPT_BF16_DOT(amx)
ROOFBENCH_DECLARE_OPT_INT(amx)
#undef ROOFBENCH_DECLARE_OPT_HALF
#undef ROOFBENCH_DECLARE_OPT_INT
#undef ROOFBENCH_DECLARE_OPT_BF16_DOT

ROOFBENCH_DECLARE_OPT(avx2)
ROOFBENCH_DECLARE_OPT(avx512)
#undef ROOFBENCH_DECLARE_OPT

}  // namespace roofbench
