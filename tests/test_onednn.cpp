// The oneDNN backend's search for an implementation (kernels/onednn.h) and its refusals.
//
// The regression test for oneDNN 2.6's dangling descriptor: its primitive-descriptor iterator
// reads the operation descriptor again on every next_impl(). The test builds a search in a
// function of its own, so every temporary of that call is dead, then overwrites that stretch
// of the stack and walks every implementation. A search whose iterator pointed at a dead
// descriptor would then read garbage (a crash, an error or other dimensions); one that owns its
// descriptor walks the whole list. int8 convolution walks several implementations on every CPU
// class (on AVX2: jit_uni_int8:avx2, jit_uni_int8:sse41, ref_int8:any), so this fails on an
// AVX2 machine too, where the bug itself never showed.
#include <gtest/gtest.h>

#if ROOFBENCH_HAVE_ONEDNN

#include <cstring>
#include <string>

#include "kernels/core/shape_file.h"
#include "kernels/check.h"
#include "kernels/core/cost.h"
#include "kernels/kernels.h"
#include "kernels/onednn.h"
#include "kernels/registry.h"

namespace roofbench {
namespace {

// Fills a stretch of the stack below the caller with a pattern, where the frames of the calls
// just returned from lay. noinline and the volatile read keep the compiler from removing it.
[[gnu::noinline]] void scribble_stack() {
  volatile unsigned char junk[64 * 1024];
  for (std::size_t i = 0; i < sizeof junk; ++i) junk[i] = static_cast<unsigned char>(0xA5 ^ i);
  (void)junk[sizeof junk / 2];
}

[[gnu::noinline]] std::unique_ptr<onednn::ConvSearch> make_conv_search(const char* line, DType d, bool any_layout,
                                                                       const dnnl::engine& e) {
  return onednn::conv_search(parse_shape(line), d, any_layout, e);
}

[[gnu::noinline]] std::unique_ptr<onednn::MatmulSearch> make_matmul_search(const char* line, DType d,
                                                                           const dnnl::engine& e) {
  return onednn::matmul_search(parse_shape(line), d, e);
}

TEST(OnednnSearch, WalksEveryImplementationAfterTheBuildersFrameIsGone) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const char* line = "conv2d n=1 c=8 h=10 w=10 k=16 r=3 s=3 pad=1 g=2";
  for (bool any_layout : {false, true}) {
    SCOPED_TRACE(any_layout ? "layouts oneDNN prefers" : "NCHW");
    auto search = make_conv_search(line, DType::i8, any_layout, engine);
    scribble_stack();
    const std::vector<onednn::Offer> offers = onednn::all_offers(*search);
    ASSERT_FALSE(offers.empty());
    // The reference loops come last on every CPU: a walk that stopped early never reached them.
    EXPECT_TRUE(offers.back().name.starts_with("ref")) << offers.back().name;
    if (any_layout) EXPECT_GE(offers.size(), 2u) << "the walk stopped at " << offers.front().name;
    for (const onednn::Offer& o : offers) {
      const dnnl::memory::dims dims = o.src.dims();
      EXPECT_EQ(dims, (dnnl::memory::dims{1, 8, 10, 10})) << o.name << " was built for another problem";
    }
  }
  auto matmul = make_matmul_search("gemm m=17 n=97 k=257", DType::f32, engine);
  scribble_stack();
  const std::vector<onednn::Offer> offers = onednn::all_offers(*matmul);
  ASSERT_GE(offers.size(), 2u);
  EXPECT_TRUE(offers.back().name.starts_with("ref")) << offers.back().name;
  for (const onednn::Offer& o : offers) EXPECT_EQ(o.src.dims(), (dnnl::memory::dims{17, 257})) << o.name;
}

// first_fast_exact stops on a fast exact implementation when there is one and reports every
// offer it passed; f32 matmul has one (gemm:jit) on every x86 CPU.
TEST(OnednnSearch, FirstFastExactStopsOnTheFirstGoodOffer) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  auto search = make_matmul_search("gemm m=17 n=97 k=257", DType::f32, engine);
  std::vector<onednn::Offer> seen;
  ASSERT_TRUE(onednn::first_fast_exact(*search, &seen));
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen.back().fast_exact);
  EXPECT_FALSE(std::string(search->pd.impl_info_str()).starts_with("ref"));
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_FALSE(seen[i].fast_exact) << seen[i].name;
}

// Without VNNI, oneDNN's int8 convolutions are inexact (halved weights) and its reference
// loops the only exact ones: prepare refuses with KernelUnavailable, naming what was offered, so
// that a run skips the row instead of failing it. With VNNI (or AMX), prepare either builds a
// plan that agrees with naive or refuses the same way, never with another error.
TEST(OnednnSearch, NoFastExactImplementationIsUnavailableNotAnError) {
  const char* lines[] = {"conv2d n=1 c=8 h=10 w=10 k=16 r=3 s=3 pad=1",
                         "conv2d n=1 c=8 h=10 w=10 k=8 r=3 s=3 pad=1 g=8",
                         "conv2d n=1 c=3 h=13 w=13 k=8 r=3 s=3 stride=2 pad=1"};
  const Kernel* conv_i8 = nullptr;
  for (const Kernel& k : registry())
    if (k.op == Op::conv2d && k.impl == Impl::onednn && k.dtype == DType::i8) conv_i8 = &k;
  ASSERT_NE(conv_i8, nullptr);
  set_library_threads(1);
  for (const char* line : lines) {
    SCOPED_TRACE(line);
    const Shape s = parse_shape(line);
    ProblemBuffers b = make_buffers(s, DType::i8, *conv_i8, 1);
    try {
      b.prepare(*conv_i8, s, 1);
      EXPECT_TRUE(cpu().has(Isa::avx512_vnni)) << "oneDNN 2.6 has no exact int8 convolution kernel without VNNI";
      const AlignedBuffer expected = naive_output(s, DType::i8, 1);
      conv_i8->run(s, b.operands(), 1);
      EXPECT_TRUE(agree(DType::i8, b.output.bytes(), expected.bytes(), reduction_len(s)).ok);
    } catch (const KernelUnavailable& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(conv_i8->variant), std::string::npos) << what;
      EXPECT_NE(what.find("ref_int8"), std::string::npos) << "the reason names oneDNN's offers: " << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace roofbench

#endif
