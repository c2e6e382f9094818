#include "kernels/registry.h"

#include <fmt/format.h>
#include <omp.h>

#include "kernels/core/buffer.h"
#include "kernels/kernels.h"

extern "C" void openblas_set_num_threads(int);

namespace roofbench {
namespace {

using enum Op;
using enum Impl;
using enum DType;

// The table. Within one (op, impl, dtype) the widest ISA comes first: select() takes the first
// variant the CPU can run.
// clang-format off
const Kernel kRegistry[] = {
  // op      impl   dtype variant                          isa            run                        workspace
  {mv,     naive, f64, "mv_f64__naive",                  Isa::none,     mv_naive_f64},
  {mv,     naive, f32, "mv_f32__naive",                  Isa::none,     mv_naive_f32},
  {gemm,   naive, f64, "gemm_f64__naive",                Isa::none,     gemm_naive_f64},
  {gemm,   naive, f32, "gemm_f32__naive",                Isa::none,     gemm_naive_f32},
  {conv2d, naive, f64, "conv2d_f64__naive",              Isa::none,     conv2d_naive_f64},
  {conv2d, naive, f32, "conv2d_f32__naive",              Isa::none,     conv2d_naive_f32},
  {mv,     naive, bf16, "mv_bf16__naive",                Isa::none,     mv_naive_bf16},
  {mv,     naive, f16,  "mv_f16__naive",                 Isa::none,     mv_naive_f16},
  {mv,     naive, i8,   "mv_i8__naive",                  Isa::none,     mv_naive_i8},
  {mv,     naive, i4,   "mv_i4__naive",                  Isa::none,     mv_naive_i4},
  {gemm,   naive, bf16, "gemm_bf16__naive",              Isa::none,     gemm_naive_bf16},
  {gemm,   naive, f16,  "gemm_f16__naive",               Isa::none,     gemm_naive_f16},
  {gemm,   naive, i8,   "gemm_i8__naive",                Isa::none,     gemm_naive_i8},
  {gemm,   naive, i4,   "gemm_i4__naive",                Isa::none,     gemm_naive_i4},
  {conv2d, naive, bf16, "conv2d_bf16__naive",            Isa::none,     conv2d_naive_bf16},
  {conv2d, naive, f16,  "conv2d_f16__naive",             Isa::none,     conv2d_naive_f16},
  {conv2d, naive, i8,   "conv2d_i8__naive",              Isa::none,     conv2d_naive_i8},
  {conv2d, naive, i4,   "conv2d_i4__naive",              Isa::none,     conv2d_naive_i4},

  {mv,     opt,   f64, "mv_f64_4x2__avx512f",            Isa::avx512f,  mv_opt_f64__avx512},
  {mv,     opt,   f64, "mv_f64_4x2__avx2_fma",           Isa::avx2_fma, mv_opt_f64__avx2},
  {mv,     opt,   f32, "mv_f32_4x2__avx512f",            Isa::avx512f,  mv_opt_f32__avx512},
  {mv,     opt,   f32, "mv_f32_4x2__avx2_fma",           Isa::avx2_fma, mv_opt_f32__avx2},
  {mv, opt, bf16, "mv_bf16_4x8__avx2_fma", Isa::avx2_fma, mv_opt_bf16__avx2, mv_opt_workspace_half__avx2},
  {mv, opt, f16, "mv_f16_4x8__f16c", Isa::f16c, mv_opt_f16__avx2, mv_opt_workspace_half__avx2},
  {mv,     opt,   i8,   "mv_i8_4x32__avx2_fma",          Isa::avx2_fma, mv_opt_i8__avx2},
  {mv, opt, i4, "mv_i4_4x64__avx2_fma", Isa::avx2_fma, mv_opt_i4__avx2, mv_opt_workspace_i4__avx2},
  {gemm, opt, f64, "gemm_f64_6x16__avx512f", Isa::avx512f, gemm_opt_f64__avx512, gemm_opt_workspace_f64__avx512,
   opt_prepare<gemm_opt_pack_bytes_f64__avx512, gemm_opt_pack_f64__avx512>, gemm_opt_work_f64__avx512},
  {gemm, opt, f64, "gemm_f64_6x8__avx2_fma", Isa::avx2_fma, gemm_opt_f64__avx2, gemm_opt_workspace_f64__avx2,
   opt_prepare<gemm_opt_pack_bytes_f64__avx2, gemm_opt_pack_f64__avx2>, gemm_opt_work_f64__avx2},
  {gemm, opt, f32, "gemm_f32_6x32__avx512f", Isa::avx512f, gemm_opt_f32__avx512, gemm_opt_workspace_f32__avx512,
   opt_prepare<gemm_opt_pack_bytes_f32__avx512, gemm_opt_pack_f32__avx512>, gemm_opt_work_f32__avx512},
  {gemm, opt, f32, "gemm_f32_6x16__avx2_fma", Isa::avx2_fma, gemm_opt_f32__avx2, gemm_opt_workspace_f32__avx2,
   opt_prepare<gemm_opt_pack_bytes_f32__avx2, gemm_opt_pack_f32__avx2>, gemm_opt_work_f32__avx2},
  {gemm, opt, bf16, "gemm_bf16_32x32_tiles__amx_bf16", Isa::amx_bf16, gemm_opt_bf16__amx,
   gemm_opt_workspace_bf16__amx, opt_prepare<gemm_opt_pack_bytes_bf16__amx, gemm_opt_pack_bf16__amx>,
   gemm_opt_work_bf16__amx},
  {gemm, opt, bf16, "gemm_bf16_6x32_pairs__avx512_bf16", Isa::avx512_bf16, gemm_opt_bf16__avx512_bf16,
   gemm_opt_workspace_bf16__avx512_bf16,
   opt_prepare<gemm_opt_pack_bytes_bf16__avx512_bf16, gemm_opt_pack_bf16__avx512_bf16>,
   gemm_opt_work_bf16__avx512_bf16},
  {gemm, opt, bf16, "gemm_bf16_6x32__avx512f", Isa::avx512f, gemm_opt_bf16__avx512, gemm_opt_workspace_half__avx512,
   opt_prepare<gemm_opt_pack_bytes_half__avx512, gemm_opt_pack_bf16__avx512>, gemm_opt_work_half__avx512},
  {gemm, opt, bf16, "gemm_bf16_6x16__avx2_fma", Isa::avx2_fma, gemm_opt_bf16__avx2, gemm_opt_workspace_half__avx2,
   opt_prepare<gemm_opt_pack_bytes_half__avx2, gemm_opt_pack_bf16__avx2>, gemm_opt_work_half__avx2},
  {gemm, opt, f16, "gemm_f16_6x32__avx512f", Isa::avx512f, gemm_opt_f16__avx512, gemm_opt_workspace_half__avx512,
   opt_prepare<gemm_opt_pack_bytes_half__avx512, gemm_opt_pack_f16__avx512>, gemm_opt_work_half__avx512},
  {gemm, opt, f16, "gemm_f16_6x16__f16c", Isa::f16c, gemm_opt_f16__avx2, gemm_opt_workspace_half__avx2,
   opt_prepare<gemm_opt_pack_bytes_half__avx2, gemm_opt_pack_f16__avx2>, gemm_opt_work_half__avx2},
  {gemm, opt, i8, "gemm_i8_32x32_tiles__amx_int8", Isa::amx_int8, gemm_opt_i8__amx, gemm_opt_workspace_int__amx,
   opt_prepare<gemm_opt_pack_bytes_int__amx, gemm_opt_pack_i8__amx>, gemm_opt_work_int__amx},
  {gemm, opt, i8, "gemm_i8_6x32_quads__avx512_vnni", Isa::avx512_vnni, gemm_opt_i8__avx512_vnni,
   gemm_opt_workspace_int__avx512_vnni,
   opt_prepare<gemm_opt_pack_bytes_int__avx512_vnni, gemm_opt_pack_i8__avx512_vnni>, gemm_opt_work_int__avx512_vnni},
  {gemm, opt, i8, "gemm_i8_6x32_pairs__avx512f", Isa::avx512f, gemm_opt_i8__avx512, gemm_opt_workspace_int__avx512,
   opt_prepare<gemm_opt_pack_bytes_int__avx512, gemm_opt_pack_i8__avx512>, gemm_opt_work_int__avx512},
  {gemm, opt, i8, "gemm_i8_6x16_quads__avx2_fma", Isa::avx2_fma, gemm_opt_i8__avx2, gemm_opt_workspace_int__avx2,
   opt_prepare<gemm_opt_pack_bytes_int__avx2, gemm_opt_pack_i8__avx2>, gemm_opt_work_int__avx2},
  {gemm, opt, i4, "gemm_i4_32x32_tiles__amx_int8", Isa::amx_int8, gemm_opt_i4__amx, gemm_opt_workspace_int__amx,
   opt_prepare<gemm_opt_pack_bytes_int__amx, gemm_opt_pack_i4__amx>, gemm_opt_work_int__amx},
  {gemm, opt, i4, "gemm_i4_6x32_quads__avx512_vnni", Isa::avx512_vnni, gemm_opt_i4__avx512_vnni,
   gemm_opt_workspace_int__avx512_vnni,
   opt_prepare<gemm_opt_pack_bytes_int__avx512_vnni, gemm_opt_pack_i4__avx512_vnni>, gemm_opt_work_int__avx512_vnni},
  {gemm, opt, i4, "gemm_i4_6x32_pairs__avx512f", Isa::avx512f, gemm_opt_i4__avx512, gemm_opt_workspace_int__avx512,
   opt_prepare<gemm_opt_pack_bytes_int__avx512, gemm_opt_pack_i4__avx512>, gemm_opt_work_int__avx512},
  {gemm, opt, i4, "gemm_i4_6x16_quads__avx2_fma", Isa::avx2_fma, gemm_opt_i4__avx2, gemm_opt_workspace_int__avx2,
   opt_prepare<gemm_opt_pack_bytes_int__avx2, gemm_opt_pack_i4__avx2>, gemm_opt_work_int__avx2},
  {conv2d, opt, f64, "conv2d_f64_implicit_gemm__avx512f", Isa::avx512f, conv2d_opt_f64__avx512,
   conv2d_opt_workspace_f64__avx512, nullptr, conv2d_opt_work_f64__avx512},
  {conv2d, opt, f64, "conv2d_f64_implicit_gemm__avx2_fma", Isa::avx2_fma, conv2d_opt_f64__avx2,
   conv2d_opt_workspace_f64__avx2, nullptr, conv2d_opt_work_f64__avx2},
  {conv2d, opt, f32, "conv2d_f32_implicit_gemm__avx512f", Isa::avx512f, conv2d_opt_f32__avx512,
   conv2d_opt_workspace_f32__avx512, nullptr, conv2d_opt_work_f32__avx512},
  {conv2d, opt, f32, "conv2d_f32_implicit_gemm__avx2_fma", Isa::avx2_fma, conv2d_opt_f32__avx2,
   conv2d_opt_workspace_f32__avx2, nullptr, conv2d_opt_work_f32__avx2},
  {conv2d, opt, bf16, "conv2d_bf16_im2col_tiles__amx_bf16", Isa::amx_bf16, conv2d_opt_bf16__amx,
   conv2d_opt_workspace_bf16__amx, nullptr, conv2d_opt_work_bf16__amx},
  {conv2d, opt, bf16, "conv2d_bf16_im2col_gemm__avx512_bf16", Isa::avx512_bf16, conv2d_opt_bf16__avx512_bf16,
   conv2d_opt_workspace_bf16__avx512_bf16, nullptr, conv2d_opt_work_bf16__avx512_bf16},
  {conv2d, opt, bf16, "conv2d_bf16_im2col_gemm__avx512f", Isa::avx512f, conv2d_opt_bf16__avx512,
   conv2d_opt_workspace_half__avx512, nullptr, conv2d_opt_work_half__avx512},
  {conv2d, opt, bf16, "conv2d_bf16_im2col_gemm__avx2_fma", Isa::avx2_fma, conv2d_opt_bf16__avx2,
   conv2d_opt_workspace_half__avx2, nullptr, conv2d_opt_work_half__avx2},
  {conv2d, opt, f16, "conv2d_f16_im2col_gemm__avx512f", Isa::avx512f, conv2d_opt_f16__avx512,
   conv2d_opt_workspace_half__avx512, nullptr, conv2d_opt_work_half__avx512},
  {conv2d, opt, f16, "conv2d_f16_im2col_gemm__f16c", Isa::f16c, conv2d_opt_f16__avx2, conv2d_opt_workspace_half__avx2,
   nullptr, conv2d_opt_work_half__avx2},
  {conv2d, opt, i8, "conv2d_i8_im2col_tiles__amx_int8", Isa::amx_int8, conv2d_opt_i8__amx,
   conv2d_opt_workspace_int__amx, nullptr, conv2d_opt_work_int__amx},
  {conv2d, opt, i8, "conv2d_i8_im2col_gemm__avx512_vnni", Isa::avx512_vnni, conv2d_opt_i8__avx512_vnni,
   conv2d_opt_workspace_int__avx512_vnni, nullptr, conv2d_opt_work_int__avx512_vnni},
  {conv2d, opt, i8, "conv2d_i8_im2col_gemm__avx512f", Isa::avx512f, conv2d_opt_i8__avx512,
   conv2d_opt_workspace_int__avx512, nullptr, conv2d_opt_work_int__avx512},
  {conv2d, opt, i8, "conv2d_i8_im2col_gemm__avx2_fma", Isa::avx2_fma, conv2d_opt_i8__avx2,
   conv2d_opt_workspace_int__avx2, nullptr, conv2d_opt_work_int__avx2},
  {conv2d, opt, i4, "conv2d_i4_im2col_tiles__amx_int8", Isa::amx_int8, conv2d_opt_i4__amx,
   conv2d_opt_workspace_int__amx, nullptr, conv2d_opt_work_int__amx},
  {conv2d, opt, i4, "conv2d_i4_im2col_gemm__avx512_vnni", Isa::avx512_vnni, conv2d_opt_i4__avx512_vnni,
   conv2d_opt_workspace_int__avx512_vnni, nullptr, conv2d_opt_work_int__avx512_vnni},
  {conv2d, opt, i4, "conv2d_i4_im2col_gemm__avx512f", Isa::avx512f, conv2d_opt_i4__avx512,
   conv2d_opt_workspace_int__avx512, nullptr, conv2d_opt_work_int__avx512},
  {conv2d, opt, i4, "conv2d_i4_im2col_gemm__avx2_fma", Isa::avx2_fma, conv2d_opt_i4__avx2,
   conv2d_opt_workspace_int__avx2, nullptr, conv2d_opt_work_int__avx2},

  {mv,     blas,  f64, "mv_f64__openblas",               Isa::none,     mv_blas_f64},
  {mv,     blas,  f32, "mv_f32__openblas",               Isa::none,     mv_blas_f32},
  {gemm,   blas,  f64, "gemm_f64__openblas",             Isa::none,     gemm_blas_f64},
  {gemm,   blas,  f32, "gemm_f32__openblas",             Isa::none,     gemm_blas_f32},
  {conv2d, blas, f64, "conv2d_f64_im2col__openblas", Isa::none, conv2d_blas_f64, conv2d_blas_workspace_f64},
  {conv2d, blas, f32, "conv2d_f32_im2col__openblas", Isa::none, conv2d_blas_f32, conv2d_blas_workspace_f32},

#if ROOFBENCH_HAVE_ONEDNN
  // oneDNN 2.6 builds f32 and s8 matmuls on any x86-64 (JIT on AVX2 here), but bf16 only with
  // avx512_core (AVX-512 F+BW+VL+DQ: our avx512f); on AVX2 it refuses to create them. Its int8
  // convolutions are exact only with VNNI: without it they halve the weights (7-bit, against
  // vpmaddubsw saturation) and only the reference loops remain exact (onednn.cpp). All need
  // prepare (primitive creation, weight reorder).
  {mv, onednn, f32, "mv_f32_matmul__onednn", Isa::none, mv_onednn_f32, nullptr, onednn_prepare_f32},
  {mv, onednn, bf16, "mv_bf16_matmul_onednn__avx512f", Isa::avx512f, mv_onednn_bf16, nullptr, onednn_prepare_bf16},
  {mv, onednn, i8, "mv_i8_matmul__onednn", Isa::none, mv_onednn_i8, nullptr, onednn_prepare_i8},
  {gemm, onednn, f32, "gemm_f32_matmul__onednn", Isa::none, gemm_onednn_f32, nullptr, onednn_prepare_f32},
  {gemm, onednn, bf16, "gemm_bf16_matmul_onednn__avx512f", Isa::avx512f, gemm_onednn_bf16, nullptr,
   onednn_prepare_bf16},
  {gemm, onednn, i8, "gemm_i8_matmul__onednn", Isa::none, gemm_onednn_i8, nullptr, onednn_prepare_i8},
  {conv2d, onednn, f32, "conv2d_f32_convolution__onednn", Isa::none, conv2d_onednn_f32, nullptr, onednn_prepare_f32},
  {conv2d, onednn, bf16, "conv2d_bf16_convolution_onednn__avx512f", Isa::avx512f, conv2d_onednn_bf16, nullptr,
   onednn_prepare_bf16},
  {conv2d, onednn, i8, "conv2d_i8_convolution_onednn__avx512_vnni", Isa::avx512_vnni, conv2d_onednn_i8, nullptr,
   onednn_prepare_i8},
#endif
};
// clang-format on

}  // namespace

std::string_view name(Impl impl) {
  switch (impl) {
    case Impl::naive: return "naive";
    case Impl::opt: return "opt";
    case Impl::blas: return "blas";
    case Impl::onednn: return "onednn";
  }
  return "?";
}

std::optional<Impl> parse_impl(std::string_view s) {
  for (Impl i : kAllImpls)
    if (name(i) == s) return i;
  return std::nullopt;
}

std::optional<Op> parse_op(std::string_view s) {
  for (Op o : {Op::mv, Op::gemm, Op::conv2d})
    if (name(o) == s) return o;
  return std::nullopt;
}

std::string Kernel::skip_reason() const {
  return runnable() ? std::string{} : fmt::format("{} needs {}, which this CPU lacks", variant, name(isa));
}

std::span<const Kernel> registry() { return kRegistry; }

std::shared_ptr<void> prepack_weights(const Shape& s, const Operands& io, PackBytesFn bytes, PackFn pack) {
  struct Owned {
    PackedWeights view;
    AlignedBuffer storage;
  };
  auto owned = std::make_shared<Owned>();
  owned->storage = AlignedBuffer(bytes(s));
  pack(s, io, owned->storage.bytes().data());
  owned->view.data = owned->storage.bytes().data();
  return std::shared_ptr<void>(owned, &owned->view);  // aliasing: get() is the PackedWeights
}

const Kernel* select(Op op, Impl impl, DType dtype) {
  for (const Kernel& k : kRegistry)
    if (k.op == op && k.impl == impl && k.dtype == dtype && k.runnable()) return &k;
  return nullptr;
}

std::string why_not(Op op, Impl impl, DType dtype) {
  std::vector<std::string> reasons;
  for (const Kernel& k : kRegistry)
    if (k.op == op && k.impl == impl && k.dtype == dtype) reasons.push_back(k.skip_reason());
  return reasons.empty() ? fmt::format("no {} {} kernel for {}", name(impl), name(op), name(dtype))
                         : fmt::format("{}", fmt::join(reasons, "; "));
}

void set_library_threads(int threads) {
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

}  // namespace roofbench
