// onednn: the oneDNN peer (Debian's libdnnl 2.6, OpenMP runtime). mv and gemm are its matmul
// primitive, conv2d its convolution primitive (groups and depthwise as grouped weights), in
// f32, bf16 (bf16 operands, f32 accumulation and output) and i8 (s8 operands, s32 accumulation
// and output, exact).
//
// All the one-off work is in prepare (registry.h, PrepareFn): the primitive is created for the
// exact shape, dtype and thread count, the weights are reordered once from the registry's
// layout into the one the primitive chose (format_tag::any), and the scratchpad is allocated
// (user scratchpad mode, so no allocation happens per call). run only points the activation
// memories at the caller's buffers and executes.
//
// Activations stay in the registry's layouts (row-major matrices, NCHW in, NKPQ out) whenever
// oneDNN has an optimised implementation for them (f32 convolution: its im2col + GEMM path).
// Where it has only its reference loops for the plain layout (int8 convolution: its JIT kernels
// want NHWC), the primitive gets the layout it prefers and run reorders the input in and the
// output back, inside the timed call: a caller holding NCHW tensors pays those reorders too.
// Reference implementations and inexact ones are never used: prepare throws KernelUnavailable
// instead (registry.h), and the row is skipped with oneDNN's offers as the reason.
//
// Threads: oneDNN's OpenMP build runs omp_get_max_threads() threads, i.e. what
// set_library_threads() set; measured on the 2-core reference machine, a 1024^3 f32 matmul used
// 1.0 CPU-second per wall-second at 1 thread and 1.9 at 2. Some implementations size their
// work split and scratchpad at creation, so prepare insists that the count is already set.
#include <fmt/format.h>
#include <omp.h>

#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kernels/core/cost.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"

namespace roofbench {
namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

struct Types {
  dt act, wei, out;
};

Types types(DType d) {
  switch (d) {
    case DType::f32: return {dt::f32, dt::f32, dt::f32};
    case DType::bf16: return {dt::bf16, dt::bf16, dt::f32};
    case DType::i8: return {dt::s8, dt::s8, dt::s32};
    default: break;
  }
  throw std::invalid_argument(fmt::format("onednn: no kernel for {}", name(d)));
}

// Everything a call needs, built once. The engine and stream live here rather than in a static:
// a plan is then self-contained and nothing outlives the registry's callers.
struct Plan {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  // Waiting on a stream is non-const in oneDNN's API, but it changes nothing a plan describes.
  mutable dnnl::stream stream{engine};
  dnnl::primitive primitive;
  // The caller's activations, in the registry's layout; run repoints them at each call's buffers.
  memory user_src, user_dst;
  // Present only when the primitive wants other activation layouts (see the file comment).
  std::optional<dnnl::reorder> src_in, dst_out;
  memory prim_src, prim_dst;
  std::unordered_map<int, memory> src_in_args, dst_out_args;
  memory weights;                        // reordered copy of the caller's weights, owned by the plan
  memory scratchpad;                     // owned by the plan (user scratchpad mode)
  std::unordered_map<int, memory> args;  // the primitive's arguments, all handles above
};

// The registry's name of this kernel, for error messages.
std::string_view variant_name(Op op, DType d) {
  for (const Kernel& k : registry())
    if (k.op == op && k.impl == Impl::onednn && k.dtype == d) return k.variant;
  return "onednn";
}

// Operand sizes as the cost model counts them: a mismatch would let oneDNN read past a buffer.
void check_operands(const Shape& s, DType d, const Operands& io) {
  const auto too_small = [](std::size_t have, std::int64_t need) { return have < static_cast<std::size_t>(need); };
  if (too_small(io.input.size(), input_bytes(s, d)) || too_small(io.weights.size(), weight_bytes(s, d)) ||
      too_small(io.output.size(), output_bytes(s, d)))
    throw std::invalid_argument(
        fmt::format("{}: operand buffers are smaller than {} needs", variant_name(s.op(), d), to_string(s)));
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Reorders the caller's weights (user_md over io.weights) into the primitive's layout, once.
void reorder_weights(Plan& p, const memory::desc& user_md, const memory::desc& prim_md, const Operands& io) {
  // oneDNN only reads a reorder's source; its API takes a non-const handle.
  memory user(user_md, p.engine, const_cast<std::byte*>(io.weights.data()));
  p.weights = memory(prim_md, p.engine);
  dnnl::reorder(user, p.weights).execute(p.stream, user, p.weights);
  p.stream.wait();
}

bool is_reference(const dnnl::primitive_desc_base& pd) {
  return std::string_view(pd.impl_info_str()).starts_with("ref");
}

// On CPUs without VNNI, oneDNN's int8 JIT convolutions with s8 activations halve the weights in
// the reorder (scale_adjust 0.5, against vpmaddubsw saturation) and double the result: odd
// weights lose their last bit, so the result is no longer the exact int32 sum. The flag alone
// is not the test: with VNNI (the avx512_core_vnni JIT on AMD Zen 4/5) it is set with a scale
// of 1, which keeps every bit.
bool is_exact(const dnnl::primitive_desc_base& pd) {
  const auto& extra = pd.weights_desc().data.extra;
  return !(extra.flags & dnnl_memory_extra_flag_scale_adjust) || extra.scale_adjust == 1.0f;
}

onednn::Offer offer_of(const dnnl::primitive_desc_base& pd) {
  return {pd.impl_info_str(), is_exact(pd) && !is_reference(pd), pd.src_desc()};
}

[[noreturn]] void no_fast_exact(const Shape& s, DType d, const std::vector<onednn::Offer>& seen) {
  std::string offers;
  for (const onednn::Offer& o : seen) offers += (offers.empty() ? "" : ", ") + o.name;
  throw KernelUnavailable(
      fmt::format("{}: oneDNN has only its reference loops (or inexact ones) for {} on this CPU "
                  "(it offered {})",
                  variant_name(s.op(), d), to_string(s), offers.empty() ? "nothing" : offers));
}

// The matmul's operands: src is the activation matrix, weights a K x N matrix (for mv, W read
// as K x M column-major), dst the output; mv is Y[b][m] = X[b][k] W^T with W stored [m][k],
// gemm C[m][n] = A[m][k] B[k][n].
struct MatmulDescs {
  memory::desc src, user_wei, any_wei, dst;
};

MatmulDescs matmul_descs(const Shape& s, DType d) {
  const Types t = types(d);
  std::int64_t rows = 0, cols = 0, depth = 0;
  tag wei_tag = tag::ab;
  if (const auto* mv = std::get_if<MvShape>(&s.dims)) {
    rows = mv->b, cols = mv->m, depth = mv->k, wei_tag = tag::ba;
  } else {
    const auto& g = std::get<GemmShape>(s.dims);
    rows = g.m, cols = g.n, depth = g.k;
  }
  return {memory::desc({rows, depth}, t.act, tag::ab), memory::desc({depth, cols}, t.wei, wei_tag),
          memory::desc({depth, cols}, t.wei, tag::any), memory::desc({rows, cols}, t.out, tag::ab)};
}

struct ConvDescs {
  memory::desc user_src, user_wei, any_wei, user_dst;
  memory::dims src_dims, dst_dims, strides, pads;
};

ConvDescs conv_descs(const Shape& s, DType d) {
  const Types t = types(d);
  const auto& c = std::get<ConvShape>(s.dims);
  ConvDescs out;
  out.src_dims = {c.n, c.c, c.h, c.w};
  out.dst_dims = {c.n, c.k, c.p(), c.q()};
  // KCRS with groups is [g][k/g][c/g][r][s]: oneDNN's goihw.
  const memory::dims wei_dims =
      c.g == 1 ? memory::dims{c.k, c.c, c.r, c.s} : memory::dims{c.g, c.k / c.g, c.c / c.g, c.r, c.s};
  out.user_wei = memory::desc(wei_dims, t.wei, c.g == 1 ? tag::oihw : tag::goihw);
  out.any_wei = memory::desc(wei_dims, t.wei, tag::any);
  out.user_src = memory::desc(out.src_dims, t.act, tag::nchw);
  out.user_dst = memory::desc(out.dst_dims, t.out, tag::nchw);
  // p = (h + 2 pad - r) / stride + 1 rounds down, as oneDNN's own output-size check does, so
  // the same padding on both sides describes the registry's shape.
  out.strides = {c.stride, c.stride};
  out.pads = {c.pad, c.pad};
  return out;
}

void build_matmul(Plan& p, const Shape& s, DType d, const Operands& io) {
  const MatmulDescs m = matmul_descs(s, d);
  const auto search = onednn::matmul_search(s, d, p.engine);
  std::vector<onednn::Offer> seen;
  if (!onednn::first_fast_exact(*search, &seen)) no_fast_exact(s, d, seen);
  const dnnl::matmul::primitive_desc& pd = search->pd;
  p.primitive = dnnl::matmul(pd);
  p.user_src = memory(m.src, p.engine, nullptr);
  p.user_dst = memory(m.dst, p.engine, nullptr);
  reorder_weights(p, m.user_wei, pd.weights_desc(), io);
  p.scratchpad = memory(pd.scratchpad_desc(), p.engine);
  p.args = {{DNNL_ARG_SRC, p.user_src},
            {DNNL_ARG_WEIGHTS, p.weights},
            {DNNL_ARG_DST, p.user_dst},
            {DNNL_ARG_SCRATCHPAD, p.scratchpad}};
}

void build_conv(Plan& p, const Shape& s, DType d, const Operands& io) {
  const ConvDescs c = conv_descs(s, d);
  // On the registry's layout if oneDNN has a fast exact implementation for it, else on the
  // layouts it prefers, with the activation reorders in run.
  std::vector<onednn::Offer> seen;
  auto search = onednn::conv_search(s, d, false, p.engine);
  if (!onednn::first_fast_exact(*search, &seen)) {
    search = onednn::conv_search(s, d, true, p.engine);
    if (!onednn::first_fast_exact(*search, &seen)) no_fast_exact(s, d, seen);
  }
  const dnnl::convolution_forward::primitive_desc& pd = search->pd;
  p.primitive = dnnl::convolution_forward(pd);
  p.user_src = memory(c.user_src, p.engine, nullptr);
  p.user_dst = memory(c.user_dst, p.engine, nullptr);
  memory src = p.user_src, dst = p.user_dst;
  if (pd.src_desc() != c.user_src) {
    p.prim_src = src = memory(pd.src_desc(), p.engine);
    p.src_in = dnnl::reorder(p.user_src, p.prim_src);
    p.src_in_args = {{DNNL_ARG_FROM, p.user_src}, {DNNL_ARG_TO, p.prim_src}};
  }
  if (pd.dst_desc() != c.user_dst) {
    p.prim_dst = dst = memory(pd.dst_desc(), p.engine);
    p.dst_out = dnnl::reorder(p.prim_dst, p.user_dst);
    p.dst_out_args = {{DNNL_ARG_FROM, p.prim_dst}, {DNNL_ARG_TO, p.user_dst}};
  }
  reorder_weights(p, c.user_wei, pd.weights_desc(), io);
  p.scratchpad = memory(pd.scratchpad_desc(), p.engine);
  p.args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, p.scratchpad}};
}

template <DType D>
std::shared_ptr<void> prepare(const Shape& s, const Operands& io, int threads) {
  if (omp_get_max_threads() != threads)
    throw std::logic_error(
        fmt::format("{}: prepare for {} threads while OpenMP is set to {} (call set_library_threads first)",
                    variant_name(s.op(), D), threads, omp_get_max_threads()));
  check_operands(s, D, io);
  auto plan = std::make_shared<Plan>();
  try {
    if (s.op() == Op::conv2d)
      build_conv(*plan, s, D, io);
    else
      build_matmul(*plan, s, D, io);
  } catch (const dnnl::error& e) {
    // "unimplemented": oneDNN has no implementation of this shape here, a skip like a missing ISA.
    const std::string why =
        fmt::format("{}: oneDNN cannot build {} on this CPU: {}", variant_name(s.op(), D), to_string(s), e.what());
    if (e.status == dnnl_unimplemented) throw KernelUnavailable(why);
    throw std::runtime_error(why);
  }
  return plan;
}

template <DType D>
void run(const Shape& s, const Operands& io, int threads) {
  // A caller that skipped prepare still gets a correct result, paying the creation here.
  std::shared_ptr<void> own;
  if (!io.plan) own = prepare<D>(s, io, threads);
  const Plan& p = *static_cast<const Plan*>(io.plan ? io.plan : own.get());
  // oneDNN only reads src; its API takes a non-const handle.
  p.user_src.set_data_handle(const_cast<std::byte*>(io.input.data()));
  p.user_dst.set_data_handle(io.output.data());
  if (p.src_in) p.src_in->execute(p.stream, p.src_in_args);
  p.primitive.execute(p.stream, p.args);
  if (p.dst_out) p.dst_out->execute(p.stream, p.dst_out_args);
  p.stream.wait();
}

}  // namespace

namespace onednn {

std::unique_ptr<MatmulSearch> matmul_search(const Shape& s, DType d, const dnnl::engine& engine) {
  const MatmulDescs m = matmul_descs(s, d);
  return std::make_unique<MatmulSearch>(dnnl::matmul::desc(m.src, m.any_wei, m.dst), user_scratchpad(), engine);
}

std::unique_ptr<ConvSearch> conv_search(const Shape& s, DType d, bool any_layout, const dnnl::engine& engine) {
  const ConvDescs c = conv_descs(s, d);
  const Types t = types(d);
  const memory::desc src = any_layout ? memory::desc(c.src_dims, t.act, tag::any) : c.user_src;
  const memory::desc dst = any_layout ? memory::desc(c.dst_dims, t.out, tag::any) : c.user_dst;
  return std::make_unique<ConvSearch>(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
                                      c.any_wei, dst, c.strides, c.pads, c.pads),
      user_scratchpad(), engine);
}

template <class Prim>
bool first_fast_exact(Search<Prim>& search, std::vector<Offer>* seen) {
  do {
    const Offer o = offer_of(search.pd);
    if (seen) seen->push_back(o);
    if (o.fast_exact) return true;
  } while (search.pd.next_impl());
  return false;
}

template <class Prim>
std::vector<Offer> all_offers(Search<Prim>& search) {
  std::vector<Offer> out;
  do out.push_back(offer_of(search.pd));
  while (search.pd.next_impl());
  return out;
}

template bool first_fast_exact(MatmulSearch&, std::vector<Offer>*);
template bool first_fast_exact(ConvSearch&, std::vector<Offer>*);
template std::vector<Offer> all_offers(MatmulSearch&);
template std::vector<Offer> all_offers(ConvSearch&);

}  // namespace onednn

void mv_onednn_f32(const Shape& s, const Operands& io, int t) { run<DType::f32>(s, io, t); }
void mv_onednn_bf16(const Shape& s, const Operands& io, int t) { run<DType::bf16>(s, io, t); }
void mv_onednn_i8(const Shape& s, const Operands& io, int t) { run<DType::i8>(s, io, t); }
void gemm_onednn_f32(const Shape& s, const Operands& io, int t) { run<DType::f32>(s, io, t); }
void gemm_onednn_bf16(const Shape& s, const Operands& io, int t) { run<DType::bf16>(s, io, t); }
void gemm_onednn_i8(const Shape& s, const Operands& io, int t) { run<DType::i8>(s, io, t); }
void conv2d_onednn_f32(const Shape& s, const Operands& io, int t) { run<DType::f32>(s, io, t); }
void conv2d_onednn_bf16(const Shape& s, const Operands& io, int t) { run<DType::bf16>(s, io, t); }
void conv2d_onednn_i8(const Shape& s, const Operands& io, int t) { run<DType::i8>(s, io, t); }
std::shared_ptr<void> onednn_prepare_f32(const Shape& s, const Operands& io, int t) {
  return prepare<DType::f32>(s, io, t);
}
std::shared_ptr<void> onednn_prepare_bf16(const Shape& s, const Operands& io, int t) {
  return prepare<DType::bf16>(s, io, t);
}
std::shared_ptr<void> onednn_prepare_i8(const Shape& s, const Operands& io, int t) {
  return prepare<DType::i8>(s, io, t);
}

}  // namespace roofbench
