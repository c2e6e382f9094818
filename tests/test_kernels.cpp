// Every kernel in the registry against the naive reference on edge shapes: tile and block
// boundaries of the opt GEMM (MR=6, NR=16 f32 / 8 f64 on AVX2, KC=512 on a 32 KiB L1, MC and
// NC from the caches; the emulated AVX-512 blocking has NR=32/16 and KC=256), odd and prime
// sizes, batches, and every conv2d path (implicit GEMM, im2col
// identity, depthwise, grouped). One parameterized test per (kernel, shape); each runs at 1
// and 2 threads. Kernels this CPU cannot run are skipped with the registry's reason.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/core/shape_file.h"
#include "kernels/check.h"
#include "kernels/core/cost.h"
#include "kernels/core/cpu.h"
#include "kernels/registry.h"
#include "kernels/core/shape.h"
#include "tests/opt_wide_emulated.h"

namespace roofbench {
namespace {

constexpr int kThreads[] = {1, 2};

// ---- shapes -----------------------------------------------------------------------------

struct ShapeCase {
  const char* line;
  std::int64_t batch = 1;
};

// mv: every m in {1,3,4,5,7,37,64,257} and k in {1,7,8,9,15,16,17,33,1000,4099} at least once
// (RB=4 row blocks plus the row tail; 8-lane f32 / 4-lane f64 vectors, KU=2 unroll and the
// scalar K tail), and batches 1,2,3,4,7 (VB=3 vector groups with 2 and 1 left over).
const ShapeCase kMvShapes[] = {
    {"mv m=1 k=1"},        {"mv m=3 k=7"},        {"mv m=4 k=8"},        {"mv m=5 k=9"},        {"mv m=7 k=15"},
    {"mv m=37 k=16"},      {"mv m=64 k=17"},      {"mv m=257 k=33"},     {"mv m=1 k=1000"},     {"mv m=5 k=4099"},
    {"mv m=4 k=17"},       {"mv m=7 k=33"},       {"mv m=3 k=1000"},     {"mv m=64 k=9"},       {"mv m=257 k=4099"},
    {"mv m=37 k=1000", 2}, {"mv m=37 k=1000", 3}, {"mv m=37 k=1000", 4}, {"mv m=37 k=1000", 7}, {"mv m=5 k=17", 7},
    {"mv m=257 k=33", 3},  {"mv m=1 k=1", 4},     {"mv m=4 k=8", 2},     {"mv m=7 k=5003", 2},  // large k
};

// gemm: m,n over {1,5,6,7,15,16,17,31,33,97} (MR=6 and NR=8/16 edges), k over
// {1,2,17,255,256,257,511,512,513,1500} (around KC=256 and KC=512), plus NC, MC, primes and
// the AMX tile edges.
const ShapeCase kGemmShapes[] = {
    {"gemm m=1 n=1 k=1"},
    {"gemm m=5 n=5 k=2"},
    {"gemm m=6 n=16 k=17"},
    {"gemm m=7 n=17 k=255"},
    {"gemm m=15 n=31 k=256"},
    {"gemm m=16 n=33 k=257"},
    {"gemm m=17 n=97 k=1500"},
    {"gemm m=31 n=6 k=1"},
    {"gemm m=33 n=7 k=2"},
    {"gemm m=97 n=15 k=17"},
    {"gemm m=6 n=8 k=256"},
    {"gemm m=1 n=97 k=257"},
    {"gemm m=97 n=1 k=255"},
    {"gemm m=7 n=33 k=1500"},
    {"gemm m=5 n=16 k=1"},
    {"gemm m=15 n=5 k=257"},
    {"gemm m=33 n=97 k=2"},
    {"gemm m=16 n=17 k=17"},
    {"gemm m=31 n=31 k=255"},
    {"gemm m=97 n=97 k=256"},
    {"gemm m=12 n=32 k=512"},  // exact multiples of the tiles and of KC: no edge code at all
    {"gemm m=13 n=33 k=511"},
    {"gemm m=19 n=47 k=513"},
    {"gemm m=6 n=16 k=1024"},
    {"gemm m=7 n=8300 k=3"},    // n > NC (4096 f32 / 2048 f64 with KC=512 and a 32 MiB L3)
    {"gemm m=7 n=8300 k=300"},  // crosses NC and KC together (accumulating across K blocks)
    {"gemm m=7 n=8300 k=800"},  // N > NC, so one K block per packing group: several groups per N block
    {"gemm m=300 n=33 k=257"},  // m > MC (60 rows with KC=512 and a 512 KiB L2)
    {"gemm m=600 n=40 k=300"},  // several MC blocks per thread
    {"gemm m=37 n=29 k=53"},
    {"gemm m=53 n=37 k=29"},
    {"gemm m=29 n=53 k=37"},   // primes
    {"gemm m=5 n=17 k=9", 3},  // batch 3 -> m=15
    {"gemm m=7 n=17 k=5000"},  // large k
    // AMX tiles (32 x 32 micro-tiles of 16 x 16 tiles; K steps of 32 bf16 / 64 int8): exact
    // tiles, one tile more or less in M and N, a K one step long and one element past it
    {"gemm m=32 n=32 k=64"},
    {"gemm m=48 n=16 k=32"},
    {"gemm m=16 n=48 k=65"},
    {"gemm m=65 n=80 k=128"},
};

// conv2d: every path of the opt implicit GEMM (its B packer with padding and stride), the
// depthwise direct loop, grouped GEMMs, and blas's im2col (identity for 1x1/1/0).
const ShapeCase kConvShapes[] = {
    {"conv2d n=1 c=8 h=12 w=12 k=16 r=3 s=3 pad=1"},                 // 3x3 pad 1 stride 1
    {"conv2d n=1 c=8 h=13 w=11 k=16 r=3 s=3 stride=2 pad=1"},        // stride 2 pad 1, odd sizes
    {"conv2d n=1 c=4 h=10 w=9 k=8 r=5 s=3 pad=2"},                   // r != s
    {"conv2d n=1 c=16 h=7 w=9 k=24 r=1 s=1"},                        // 1x1: im2col is the input
    {"conv2d n=1 c=16 h=9 w=9 k=24 r=1 s=1 stride=2"},               // 1x1 stride 2
    {"conv2d n=1 c=4 h=9 w=9 k=8 r=1 s=1 stride=2 pad=3"},           // 1x1 with padding (DeepBench conv_49)
    {"conv2d n=1 c=3 h=32 w=30 k=16 r=7 s=7 stride=2 pad=3"},        // ResNet stem, small image
    {"conv2d n=1 c=5 h=6 w=19 k=7 r=3 s=3 pad=1"},                   // h != w
    {"conv2d n=1 c=3 h=1 w=1 k=5 r=1 s=1"},                          // 1x1 image
    {"conv2d n=1 c=4 h=2 w=2 k=6 r=3 s=3 pad=1"},                    // filter larger than the image
    {"conv2d n=1 c=2 h=3 w=3 k=3 r=3 s=3 pad=2 stride=3"},           // stride = filter, wide padding
    {"conv2d n=1 c=8 h=10 w=10 k=16 r=3 s=3 pad=1 g=2"},             // grouped
    {"conv2d n=1 c=8 h=10 w=10 k=16 r=3 s=3 pad=1 g=4"},             // grouped
    {"conv2d n=1 c=32 h=14 w=14 k=32 r=3 s=3 pad=1 g=32"},           // depthwise stride 1
    {"conv2d n=1 c=32 h=15 w=14 k=32 r=3 s=3 stride=2 pad=1 g=32"},  // depthwise stride 2
    {"conv2d n=1 c=8 h=7 w=7 k=8 r=3 s=3 stride=3 pad=2 g=8"},       // depthwise, stride 3, pad 2
    {"conv2d n=1 c=16 h=10 w=10 k=32 r=3 s=3 pad=1 g=16"},           // depthwise, channel multiplier 2
    {"conv2d n=2 c=8 h=9 w=9 k=16 r=3 s=3 pad=1"},                   // batch in the file
    {"conv2d n=1 c=4 h=8 w=8 k=12 r=3 s=3 stride=2 pad=1", 3},       // batched() to n=3
    {"conv2d n=1 c=4 h=8 w=8 k=300 r=3 s=3 pad=1"},                  // M = k > MC
    {"conv2d n=1 c=3 h=96 w=96 k=8 r=3 s=3 pad=1"},                  // N = p*q = 9216 > NC
    {"conv2d n=1 c=556 h=5 w=5 k=8 r=3 s=3 pad=1"},                  // large reduction: 556*9 = 5004
};

struct Case {
  const Kernel* kernel;
  Shape shape;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.kernel->variant << " on " << to_string(c.shape);
  if (const auto* mv = std::get_if<MvShape>(&c.shape.dims); mv && mv->b != 1) *os << " batch " << mv->b;
}

// The registry plus the AVX-512 blocking emulated on AVX2 (opt_wide_emulated.cpp).
std::vector<Case> cases_for(Op op, std::span<const ShapeCase> shapes) {
  std::vector<Case> out;
  for (std::span<const Kernel> table : {registry(), emulated_wide_kernels()})
    for (const Kernel& k : table) {
      if (k.op != op) continue;
      for (const ShapeCase& sc : shapes) out.push_back({&k, batched(parse_shape(sc.line), sc.batch)});
    }
  return out;
}

// "<variant>__<shape with '=' dropped and spaces as '_'>", plus the mv batch, which the
// descriptor does not print.
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string shape = to_string(info.param.shape);
  if (const auto* mv = std::get_if<MvShape>(&info.param.shape.dims); mv && mv->b != 1)
    shape += " b=" + std::to_string(mv->b);
  std::string out = std::string(info.param.kernel->variant) + "__";
  for (char c : shape) {
    if (c == ' ')
      out += '_';
    else if (std::isalnum(static_cast<unsigned char>(c)))
      out += c;
  }
  return out;
}

// ---- agreement with naive -----------------------------------------------------------------

class AgreesWithNaive : public ::testing::TestWithParam<Case> {};

TEST_P(AgreesWithNaive, AtOneAndTwoThreads) {
  const Kernel& k = *GetParam().kernel;
  if (!k.runnable()) GTEST_SKIP() << k.skip_reason();
  const Shape& s = GetParam().shape;
  for (int threads : kThreads) {
    SCOPED_TRACE("threads=" + std::to_string(threads));
    set_library_threads(threads);
    try {
      const Agreement a = check_against_naive(k, s, threads);
      EXPECT_TRUE(a.ok) << k.variant << " on " << to_string(s) << ": " << a.message();
    } catch (const KernelUnavailable& e) {
      // Only a library (a kernel with a prepare hook) may decline a shape; our own code may not.
      ASSERT_NE(k.prepare, nullptr) << k.variant << " declined " << to_string(s) << ": " << e.what();
      GTEST_SKIP() << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Mv, AgreesWithNaive, ::testing::ValuesIn(cases_for(Op::mv, kMvShapes)), case_name);
INSTANTIATE_TEST_SUITE_P(Gemm, AgreesWithNaive, ::testing::ValuesIn(cases_for(Op::gemm, kGemmShapes)), case_name);
INSTANTIATE_TEST_SUITE_P(Conv2d, AgreesWithNaive, ::testing::ValuesIn(cases_for(Op::conv2d, kConvShapes)), case_name);

// The smoke set is what `roofbench run` checks first; every kernel must agree on it too.
TEST(Kernels, EveryRunnableKernelAgreesOnTheSmokeSet) {
  for (const Shape& s : load_shapes("smoke"))
    for (const Kernel& k : registry()) {
      if (k.op != s.op() || !k.runnable()) continue;
      for (int threads : kThreads) {
        set_library_threads(threads);
        try {
          const Agreement a = check_against_naive(k, s, threads);
          EXPECT_TRUE(a.ok) << k.variant << " on " << to_string(s) << " threads=" << threads << ": " << a.message();
        } catch (const KernelUnavailable& e) {
          EXPECT_NE(k.prepare, nullptr) << k.variant << " declined " << to_string(s) << ": " << e.what();
        }
      }
    }
}

// ---- the registry -------------------------------------------------------------------------

TEST(Registry, ListsKernelsThisCpuCannotRun) {
  std::string skipped;
  for (const Kernel& k : registry()) {
    EXPECT_EQ(k.runnable(), cpu().has(k.isa)) << k.variant;
    if (k.runnable()) {
      EXPECT_TRUE(k.skip_reason().empty()) << k.variant;
    } else {
      EXPECT_NE(k.skip_reason().find(std::string(name(k.isa))), std::string::npos) << k.skip_reason();
      skipped += std::string(k.variant) + " (" + k.skip_reason() + ")\n";
    }
  }
  std::cout << "[ INFO     ] CPU: " << cpu().model << "\n"
            << "[ INFO     ] kernels skipped on this CPU:\n"
            << (skipped.empty() ? std::string("  none\n") : skipped);
}

TEST(Registry, NaiveExistsForEveryOpAtF32AndF64) {
  for (Op op : {Op::mv, Op::gemm, Op::conv2d})
    for (DType d : {DType::f32, DType::f64}) {
      const Kernel* k = select(op, Impl::naive, d);
      ASSERT_NE(k, nullptr) << name(op) << " " << name(d);
      EXPECT_EQ(k->op, op);
      EXPECT_EQ(k->impl, Impl::naive);
      EXPECT_EQ(k->dtype, d);
      EXPECT_EQ(k->isa, Isa::none);
    }
}

TEST(Registry, OptF32IsSelectedOnAvx2) {
  if (!cpu().has(Isa::avx2_fma)) GTEST_SKIP() << "this CPU lacks AVX2+FMA";
  for (Op op : {Op::mv, Op::gemm, Op::conv2d}) {
    const Kernel* k = select(op, Impl::opt, DType::f32);
    ASSERT_NE(k, nullptr) << name(op) << ": " << why_not(op, Impl::opt, DType::f32);
    EXPECT_TRUE(k->runnable());
    // The widest ISA this CPU has wins.
    EXPECT_EQ(k->isa, cpu().has(Isa::avx512f) ? Isa::avx512f : Isa::avx2_fma) << k->variant;
  }
}

TEST(Registry, SelectTakesTheFirstRunnableVariant) {
  for (Op op : {Op::mv, Op::gemm, Op::conv2d})
    for (Impl impl : kAllImpls)
      for (DType d : kAllDTypes) {
        const Kernel* first = nullptr;
        bool any = false;
        for (const Kernel& k : registry())
          if (k.op == op && k.impl == impl && k.dtype == d) {
            any = true;
            if (!first && k.runnable()) first = &k;
          }
        EXPECT_EQ(select(op, impl, d), first) << name(op) << " " << name(impl) << " " << name(d);
        if (!first) {
          EXPECT_FALSE(why_not(op, impl, d).empty());
        }
        if (!any) {
          EXPECT_NE(why_not(op, impl, d).find("no "), std::string::npos);
        }
      }
}

TEST(Registry, VariantNamesFollowTheConvention) {
  std::set<std::string_view> seen;
  for (const Kernel& k : registry()) {
    const std::string prefix = std::string(name(k.op)) + "_" + std::string(name(k.dtype));
    EXPECT_EQ(k.variant.rfind(prefix, 0), 0u) << k.variant << " should start with " << prefix;
    // The character after the prefix starts either the "how" part or a further "what" detail.
    ASSERT_GT(k.variant.size(), prefix.size()) << k.variant;
    EXPECT_EQ(k.variant[prefix.size()], '_') << k.variant;
    EXPECT_NE(k.variant.find("__"), std::string_view::npos) << k.variant;
    EXPECT_TRUE(seen.insert(k.variant).second) << "duplicate variant " << k.variant;
    EXPECT_NE(k.run, nullptr) << k.variant;
    if (k.isa != Isa::none) {
      // The "how" part names the ISA, spelled as an identifier ("avx2+fma" -> "avx2_fma").
      std::string isa(name(k.isa));
      std::replace(isa.begin(), isa.end(), '+', '_');
      EXPECT_NE(k.variant.find("__" + isa), std::string_view::npos) << k.variant << " should name " << isa;
    }
  }
}

// ---- kernels with a prepare hook (library backends: onednn) ----------------------------------

// One plan serves every run on its operands: a second run, and a run on other buffers holding
// the same weights (the plan must read the call's input and write the call's output, not the
// buffers it was prepared with), agree with naive; a run without a plan still does.
TEST(PreparedKernels, APlanIsReusedAcrossRunsAndBuffers) {
  const char* lines[] = {"mv m=37 k=1000", "gemm m=17 n=97 k=257", "conv2d n=1 c=8 h=10 w=10 k=16 r=3 s=3 pad=1 g=2"};
  int prepared = 0;
  for (const Kernel& k : registry()) {
    if (!k.prepare || !k.runnable()) continue;
    for (const char* line : lines) {
      const Shape s = parse_shape(line);
      if (s.op() != k.op) continue;
      SCOPED_TRACE(std::string(k.variant) + " on " + line);
      const int threads = 2;
      set_library_threads(threads);
      const AlignedBuffer expected = naive_output(s, k.dtype, threads);
      ProblemBuffers a = make_buffers(s, k.dtype, k, threads);
      try {
        a.prepare(k, s, threads);
      } catch (const KernelUnavailable&) {
        continue;  // the library has no fast exact implementation of this shape here (test_onednn.cpp)
      }
      ASSERT_NE(a.plan, nullptr);
      ++prepared;
      for (int round = 0; round < 2; ++round) {
        std::fill(a.output.bytes().begin(), a.output.bytes().end(), std::byte{0x7f});
        k.run(s, a.operands(), threads);
        EXPECT_TRUE(agree(k.dtype, a.output.bytes(), expected.bytes(), reduction_len(s)).ok) << "round " << round;
      }
      ProblemBuffers b = make_buffers(s, k.dtype, k, threads);  // same values, other buffers
      std::fill(b.output.bytes().begin(), b.output.bytes().end(), std::byte{0x7f});
      Operands other = b.operands();
      other.plan = a.plan.get();
      k.run(s, other, threads);
      EXPECT_TRUE(agree(k.dtype, b.output.bytes(), expected.bytes(), reduction_len(s)).ok) << "other buffers";
      std::fill(b.output.bytes().begin(), b.output.bytes().end(), std::byte{0x7f});
      k.run(s, b.operands(), threads);  // b.plan is empty
      EXPECT_TRUE(agree(k.dtype, b.output.bytes(), expected.bytes(), reduction_len(s)).ok) << "no plan";
    }
  }
  if (prepared == 0) GTEST_SKIP() << "no runnable kernel with a prepare hook in this build";
}

// Where the registry says a kernel cannot run, its prepare (if called anyway) must fail with a
// one-line error naming it, never crash. oneDNN 2.6 refuses bf16 without avx512_core.
TEST(PreparedKernels, Bf16OnednnWithoutAvx512FailsWithOneLine) {
  if (cpu().has(Isa::avx512f)) GTEST_SKIP() << "this CPU has AVX-512: the bf16 onednn kernels run";
  int tried = 0;
  for (const Kernel& k : registry()) {
    if (k.impl != Impl::onednn || k.dtype != DType::bf16 || !k.prepare) continue;
    EXPECT_FALSE(k.runnable()) << k.variant;
    const char* line = k.op == Op::mv     ? "mv m=8 k=16"
                       : k.op == Op::gemm ? "gemm m=4 n=8 k=16"
                                          : "conv2d n=1 c=4 h=6 w=6 k=8 r=3 s=3 pad=1";
    const Shape s = parse_shape(line);
    set_library_threads(1);
    ProblemBuffers b = make_buffers(s, k.dtype, k, 1);
    try {
      b.prepare(k, s, 1);
      ADD_FAILURE() << k.variant << ": prepare succeeded on a CPU the registry says cannot run it";
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(k.variant), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
    ++tried;
  }
  if (tried == 0) GTEST_SKIP() << "built without oneDNN";
}

// ---- the agreement check itself must be able to fail ----------------------------------------

template <class T>
void expect_perturbation_is_caught(DType d) {
  const Shape s = parse_shape("gemm m=16 n=16 k=1000");
  const Kernel* naive = select(Op::gemm, Impl::naive, d);
  ASSERT_NE(naive, nullptr);
  ProblemBuffers b = make_buffers(s, d, *naive, 1);
  naive->run(s, b.operands(), 1);
  AlignedBuffer copy(b.output.size());
  std::memcpy(copy.bytes().data(), b.output.bytes().data(), b.output.size());

  const Agreement same = agree(d, copy.bytes(), b.output.bytes(), reduction_len(s));
  EXPECT_TRUE(same.ok) << same.message();
  EXPECT_EQ(same.max_err, 0.0);
  EXPECT_GT(same.tol, 0.0);
  // k = 1000 terms in [-1, 1]^2: a 1e-2 error must be far outside eps*sqrt(k)*c.
  EXPECT_LT(same.tol, 1e-2) << same.message();

  as<T>(copy.bytes())[37] += T(1e-2);
  const Agreement off = agree(d, copy.bytes(), b.output.bytes(), reduction_len(s));
  EXPECT_FALSE(off.ok) << off.message();
  EXPECT_EQ(off.worst, 37);
  EXPECT_NEAR(off.max_err, 1e-2, 1e-4);
  EXPECT_NE(off.message().find("37"), std::string::npos) << off.message();

  as<T>(copy.bytes())[37] = std::numeric_limits<T>::quiet_NaN();
  const Agreement nan = agree(d, copy.bytes(), b.output.bytes(), reduction_len(s));
  EXPECT_FALSE(nan.ok) << nan.message();
  EXPECT_EQ(nan.worst, 37);
}

TEST(Agree, RejectsAPerturbedF32Output) { expect_perturbation_is_caught<float>(DType::f32); }
TEST(Agree, RejectsAPerturbedF64Output) { expect_perturbation_is_caught<double>(DType::f64); }

TEST(Agree, AKernelThatSkipsAnOutputFails) {
  // check_against_naive poisons the output: a kernel that leaves an element unwritten must not
  // pass. Simulated here by comparing the poison pattern against a real result.
  const Shape s = parse_shape("mv m=8 k=100");
  const Kernel* naive = select(Op::mv, Impl::naive, DType::f32);
  ASSERT_NE(naive, nullptr);
  ProblemBuffers b = make_buffers(s, DType::f32, *naive, 1);
  naive->run(s, b.operands(), 1);
  AlignedBuffer poisoned(b.output.size());
  std::fill(poisoned.bytes().begin(), poisoned.bytes().end(), std::byte{0x7f});
  EXPECT_FALSE(agree(DType::f32, poisoned.bytes(), b.output.bytes(), reduction_len(s)).ok);
}

}  // namespace
// The check of a huge problem compares a leading slice: naive on the slice must give exactly
// the leading elements of naive on the whole problem, for every op, grouping and packing.
TEST(CheckSlice, NaiveOnTheSliceIsThePrefixOfNaiveOnTheWhole) {
  const std::pair<const char*, std::int64_t> cases[] = {
      {"mv m=37 k=100", 3},                                     // b=3 vectors: the first one's rows
      {"gemm m=29 n=17 k=40", 1},                               // the first rows
      {"conv2d n=1 c=6 h=9 w=9 k=10 r=3 s=3 pad=1", 3},         // g=1: the first filters of image 0
      {"conv2d n=1 c=8 h=7 w=7 k=12 r=3 s=3 g=4", 2},           // whole groups
      {"conv2d n=1 c=8 h=7 w=7 k=16 r=3 s=3 stride=2 g=2", 2},  // part of the first group
      {"conv2d n=1 c=16 h=6 w=6 k=16 r=3 s=3 pad=1 g=16", 2},   // depthwise
  };
  for (const auto& [line, batch] : cases)
    for (DType d : {DType::f32, DType::i8, DType::i4}) {
      const Shape s = batched(parse_shape(line), batch);
      for (std::int64_t max_ops : {std::int64_t{1}, ops(s) / 5, ops(s) / 2}) {
        const Shape slice = check_slice(s, max_ops);
        SCOPED_TRACE(
            fmt::format("{} at batch {}, {}, max_ops {}: slice {}", line, batch, name(d), max_ops, to_string(slice)));
        ASSERT_LT(ops(slice), ops(s));
        if (max_ops > 1) EXPECT_LE(ops(slice), max_ops);  // 1: a single row or filter, over any budget
        const AlignedBuffer whole = naive_output(s, d, 2), part = naive_output(slice, d, 2);
        ASSERT_LT(part.size(), whole.size());
        EXPECT_EQ(std::memcmp(part.bytes().data(), whole.bytes().data(), part.size()), 0);
      }
    }
  EXPECT_EQ(check_slice(parse_shape("gemm m=4 n=4 k=4")), parse_shape("gemm m=4 n=4 k=4"));  // small: whole
}

// A kernel checked on a slice still runs on the whole problem, and a wrong leading element
// is still caught.
TEST(CheckSlice, CheckAgainstComparesTheLeadingElements) {
  const Shape s = parse_shape("gemm m=40 n=33 k=20");
  const Kernel* k = select(Op::gemm, Impl::opt, DType::f32);
  ASSERT_NE(k, nullptr);
  set_library_threads(2);
  AlignedBuffer expected = naive_output(check_slice(s, ops(s) / 4), DType::f32, 2);
  EXPECT_TRUE(check_against(*k, s, 2, expected.bytes()).ok);
  as<float>(expected.bytes())[7] += 1.0f;
  const Agreement bad = check_against(*k, s, 2, expected.bytes());
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.worst, 7);
}

}  // namespace roofbench
