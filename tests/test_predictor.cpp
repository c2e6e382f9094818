// The predictor's formulas on hand-computed cases, and the fit recovering known parameters
// from synthetic timings.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/core/shape_file.h"
#include "kernels/core/cost.h"
#include "predictor/evaluate.h"
#include "predictor/fit.h"
#include "predictor/roofline.h"
#include "tests/fixtures.h"
#include "tests/opt_wide_emulated.h"

namespace {

using namespace roofbench;

// A machine with round figures, 2 threads: L1 64 KiB, L2 1 MiB, L3 32 MiB (tests/fixtures.h),
// and a DRAM stream figure.
Profile machine() {
  Profile p = roofbench::testing::round_figures_machine();
  p.bandwidth.push_back({MemoryLevel::DRAM, 0, 2, 4e10, "stream"});
  return p;
}

Shape gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  return parse_shape(fmt::format("gemm m={} n={} k={}", m, n, k));
}

KernelFit known_fit(double blend_p) {
  return {Op::gemm, Impl::opt, DType::f32, 2, ShapeClass::dense, "v", 1.5e11, {3e11, 1.2e11, 6e10, 2e10}, 5e-6,
          0,        blend_p,   0,          0};
}

// The time a known fit gives a shape at 2 threads (f32, warm): a synthetic training timing.
Sample timed(const Profile& p, const KernelFit& truth, const Shape& s, Impl impl) {
  const MemoryPlace place = memory_place(p, working_set(s, impl, DType::f32, 2), 2, false);
  return {s, predict_fitted(truth, s, DType::f32, place).seconds};
}

TEST(Roofline, MemoryLevelFollowsTheProfilesCapacities) {
  const Profile p = machine();
  EXPECT_EQ(memory_level(p, 65536, 2, false), "L1");
  EXPECT_EQ(memory_level(p, 65537, 2, false), "L2");
  EXPECT_EQ(memory_level(p, 2 << 20, 2, false), "L3");
  EXPECT_EQ(memory_level(p, 33 << 20, 2, false), "DRAM");
  EXPECT_EQ(memory_level(p, 1024, 2, true), "DRAM");  // cold operands come from memory
}

TEST(Roofline, MemoryPlaceScalesByTheMeasuredCurveBetweenItsPoints) {
  Profile p = machine();
  // L3 plateau 1e11; the curve gives 1e11 at 4 MiB and 2.5e10 at 64 MiB.
  p.curves = {{"read", 2, {{4 << 20, 1e11, 0}, {64 << 20, 2.5e10, 0}}}};
  EXPECT_DOUBLE_EQ(memory_place(p, 4 << 20, 2, false).scale, 1);
  // 16 MiB is half way between 4 and 64 MiB on a log scale: sqrt(1e11 * 2.5e10) = 5e10.
  const MemoryPlace mid = memory_place(p, 16 << 20, 2, false);
  EXPECT_EQ(mid.level, "L3");
  EXPECT_NEAR(mid.scale, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(memory_place(p, 16 << 20, 2, true).scale, 1);   // cold: DRAM's own figure
  EXPECT_DOUBLE_EQ(memory_place(p, 16 << 20, 1, false).scale, 1);  // no curve at 1 thread
}

TEST(Roofline, ShapeClassesSeparateConvAlgorithms) {
  EXPECT_EQ(shape_class(parse_shape("conv2d n=1 c=8 h=8 w=8 k=8 r=3 s=3")), "dense");
  EXPECT_EQ(shape_class(parse_shape("conv2d n=1 c=8 h=8 w=8 k=8 r=1 s=1")), "pointwise");
  EXPECT_EQ(shape_class(parse_shape("conv2d n=1 c=8 h=8 w=8 k=8 r=1 s=1 stride=2")), "dense");
  EXPECT_EQ(shape_class(parse_shape("conv2d n=1 c=8 h=8 w=8 k=8 r=3 s=3 g=2")), "grouped");
  EXPECT_EQ(shape_class(parse_shape("conv2d n=1 c=8 h=8 w=8 k=16 r=3 s=3 g=8")), "depthwise");
  EXPECT_EQ(shape_class(gemm(4, 4, 4)), "dense");
  Profile p = machine();
  p.kernels = {known_fit(0)};
  p.kernels[0].op = Op::conv2d;
  const Shape dw = parse_shape("conv2d n=1 c=8 h=8 w=8 k=8 r=3 s=3 g=8");
  EXPECT_EQ(find_fit(p, dw, Impl::opt, DType::f32, 2), nullptr);  // only a dense fit: classic stands in
  p.kernels[0].shape_class = ShapeClass::depthwise;
  EXPECT_NE(find_fit(p, dw, Impl::opt, DType::f32, 2), nullptr);
}

TEST(Roofline, ClassicIsTheMaxOfComputeAndMemoryTimes) {
  const Profile p = machine();
  // gemm 1024^3 f32: 2.147e9 ops; 3 * 4 MiB = 12 MiB -> L3 at 1e11 B/s.
  const Shape s = gemm(1024, 1024, 1024);
  const Prediction pr = predict(p, s, Impl::opt, DType::f32, 2, false);
  EXPECT_FALSE(pr.fitted);
  EXPECT_EQ(pr.level, "L3");
  EXPECT_DOUBLE_EQ(pr.classic_s, 2.0 * 1024 * 1024 * 1024 / 2e11);
  EXPECT_EQ(pr.classic_bound, "compute");
  EXPECT_DOUBLE_EQ(pr.seconds, pr.classic_s);  // no fit: the classic figure stands in
  // mv 4096 x 4096 f32 cold: 64 MiB + 32 KiB from DRAM at 2.5e10 B/s; 3.36e7 ops take 168 us.
  const Shape mv = parse_shape("mv m=4096 k=4096");
  const Prediction m = predict(p, mv, Impl::opt, DType::f32, 2, true);
  EXPECT_EQ(m.classic_bound, "DRAM");
  EXPECT_DOUBLE_EQ(m.classic_s, static_cast<double>(bytes(mv, DType::f32)) / 2.5e10);
}

TEST(Roofline, FittedAddsOverheadToTheBlend) {
  Profile p = machine();
  p.kernels = {known_fit(0)};
  const Shape s = gemm(1024, 1024, 1024);
  const Prediction pr = predict(p, s, Impl::opt, DType::f32, 2, false);
  ASSERT_TRUE(pr.fitted);
  EXPECT_DOUBLE_EQ(pr.t_compute, 2.0 * 1024 * 1024 * 1024 / 1.5e11);
  // Compulsory 3 x 4 MiB plus both operands packed (written and read back): 2 x 2 x 4 MiB.
  EXPECT_DOUBLE_EQ(pr.t_memory, (3.0 + 4.0) * 4 * 1024 * 1024 / 6e10);
  EXPECT_DOUBLE_EQ(pr.seconds, 5e-6 + pr.t_compute);
  EXPECT_EQ(pr.bound, "compute");
  // Blend 2: sqrt(Tc^2 + Tm^2).
  p.kernels = {known_fit(2)};
  const Prediction smooth = predict(p, s, Impl::opt, DType::f32, 2, false);
  EXPECT_NEAR(smooth.seconds, 5e-6 + std::hypot(pr.t_compute, pr.t_memory), 1e-15);
  EXPECT_DOUBLE_EQ(blend(3, 4, 1), 7);
}

// MV pays a cost per output (a horizontal sum, a store, the row's tail) beside its bytes: a tall
// matrix with short rows is slower than its bytes say. The fit finds that cost per row among
// MVs of every height and width, and the bandwidths beside it.
TEST(Fit, RecoversTheCostPerOutputRowOfMatrixVectorProducts) {
  const Profile p = machine();
  KernelFit truth{Op::mv, Impl::opt, DType::f32, 2, ShapeClass::dense, "v", 2e11, {3e11, 1.5e11, 8e10, 2e10},
                  2e-7,   2e-9};
  std::vector<Sample> samples;
  for (int m : {64, 256, 1024, 4096, 16384})
    for (int k : {64, 256, 1024, 4096}) {
      const Shape s = parse_shape(fmt::format("mv m={} k={}", m, k));
      samples.push_back(timed(p, truth, s, Impl::opt));
    }
  const KernelFit fit = fit_kernel(p, *select(Op::mv, Impl::opt, DType::f32), 2, samples);
  EXPECT_NEAR(fit.group_overhead_s / truth.group_overhead_s, 1, 0.05);
  for (std::size_t level = 1; level < 4; ++level)
    EXPECT_NEAR(fit.bytes_per_s[level] / truth.bytes_per_s[level], 1, 0.05) << kMemoryLevels[level];
  EXPECT_LT(fit.train_mape, 0.01);
}

TEST(Roofline, GroupedConvPaysItsOverheadOncePerSampleAndGroup) {
  EXPECT_EQ(groups(parse_shape("conv2d n=2 c=8 h=8 w=8 k=8 r=3 s=3 g=8")), 16);
  EXPECT_EQ(groups(parse_shape("conv2d n=3 c=8 h=8 w=8 k=16 r=3 s=3 g=2")), 6);
  EXPECT_EQ(groups(parse_shape("conv2d n=2 c=8 h=8 w=8 k=8 r=3 s=3")), 0);  // dense: no per-group term
  EXPECT_EQ(groups(gemm(4, 4, 4)), 0);
  EXPECT_EQ(groups(batched(parse_shape("mv m=300 k=40"), 3)), 900);  // mv: one reduction per output row and vector
  KernelFit k = known_fit(0);
  k.op = Op::conv2d;
  k.group_overhead_s = 2e-6;
  const Shape dw = parse_shape("conv2d n=2 c=100 h=8 w=8 k=100 r=3 s=3 pad=1 g=100");
  const Prediction pr = predict_fitted(k, dw, DType::f32, {"L2", 1});
  EXPECT_DOUBLE_EQ(pr.overhead, 5e-6 + 200 * 2e-6);
  EXPECT_DOUBLE_EQ(pr.seconds, pr.overhead + std::max(pr.t_compute, pr.t_memory));
}

TEST(Roofline, MissingMachineFiguresAreNamed) {
  const Profile p = machine();
  try {
    predict(p, gemm(8, 8, 8), Impl::opt, DType::f64, 2, false);
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("no f64 peak at 2 threads"), std::string::npos) << e.what();
  }
  EXPECT_THROW(predict(p, gemm(8, 8, 8), Impl::opt, DType::f32, 3, false), ProfileError);
}

// Training timings generated by a known fit: compute-bound cubes and memory-bound skinny
// products whose weights sit in L2, L3 and DRAM.
std::vector<Sample> synthetic(const Profile& p, const KernelFit& truth, Impl impl = Impl::opt) {
  std::vector<Sample> out;
  std::vector<Shape> shapes;
  for (int n : {48, 96, 192, 384, 768, 1536}) shapes.push_back(gemm(n, n, n));
  for (int m : {1, 2, 4}) {
    shapes.push_back(gemm(m, 128, 256));    // 128 KiB of weights beside the packing buffers: L2
    shapes.push_back(gemm(m, 1024, 2048));  // 8 MiB: L3
    shapes.push_back(gemm(m, 4096, 4096));  // 64 MiB: DRAM
  }
  for (const Shape& s : shapes) {
    out.push_back(timed(p, truth, s, impl));
  }
  return out;
}

// A library kernel (no Work of its own): the op's MACs and bytes, the roofs and the overhead.
TEST(Fit, RecoversKnownParametersFromSyntheticTimings) {
  const Profile p = machine();
  const Kernel& k = *select(Op::gemm, Impl::blas, DType::f32);
  for (double form : {0.0, 2.0}) {
    KernelFit truth = known_fit(form);
    truth.impl = Impl::blas;
    const KernelFit fit = fit_kernel(p, k, 2, synthetic(p, truth, Impl::blas));
    EXPECT_EQ(fit.blend, form);
    EXPECT_NEAR(fit.compute_ops_per_s / truth.compute_ops_per_s, 1, 0.01) << form;
    EXPECT_NEAR(fit.overhead_s / truth.overhead_s, 1, 0.05) << form;
    for (std::size_t level = 1; level < 4; ++level)  // L2, L3, DRAM have training points
      EXPECT_NEAR(fit.bytes_per_s[level] / truth.bytes_per_s[level], 1, 0.02) << kMemoryLevels[level] << " " << form;
    EXPECT_LT(fit.train_mape, 0.005);
    EXPECT_EQ(fit.points, 15);
  }
}

TEST(Fit, RecoversTheOverheadPerGroupOfDepthwiseConvolutions) {
  const Profile p = machine();
  KernelFit truth{Op::conv2d, Impl::blas, DType::f32, 2, ShapeClass::depthwise, "v", 5e10, {2e11, 8e10, 4e10, 1e10},
                  3e-6,       2e-6};
  std::vector<Sample> samples;
  for (int c : {32, 96, 320, 640})
    for (int h : {7, 14, 28, 56}) {
      const Shape s = parse_shape(fmt::format("conv2d n=1 c={0} h={1} w={1} k={0} r=3 s=3 pad=1 g={0}", c, h));
      samples.push_back(timed(p, truth, s, Impl::blas));
    }
  const KernelFit fit = fit_kernel(p, *select(Op::conv2d, Impl::blas, DType::f32), 2, samples);
  EXPECT_NEAR(fit.group_overhead_s / truth.group_overhead_s, 1, 0.05);
  EXPECT_LT(fit.train_mape, 0.01);
  // Dense shapes have no groups: the term is not fitted.
  const KernelFit dense = fit_kernel(p, *select(Op::gemm, Impl::opt, DType::f32), 2, synthetic(p, known_fit(0)));
  EXPECT_EQ(dense.group_overhead_s, 0);
}

TEST(Fit, OneDisturbedPointCannotMakeALevelSlowerThanTheOnesBeyondIt) {
  const Profile p = machine();
  KernelFit truth = known_fit(0);
  truth.op = Op::mv;
  std::vector<Sample> samples;
  for (auto [m, k] :
       {std::pair{256, 512}, {128, 1024}, {1024, 1024}, {1024, 2048}, {2048, 2048}, {4096, 4096}, {8192, 4096}}) {
    const Shape s = parse_shape(fmt::format("mv m={} k={}", m, k));
    samples.push_back(timed(p, truth, s, Impl::opt));
  }
  samples[1].seconds *= 20;  // the second L2 point shared its core with something else
  const KernelFit fit = fit_kernel(p, *select(Op::mv, Impl::opt, DType::f32), 2, samples);
  for (std::size_t level = 1; level < 4; ++level)
    EXPECT_GE(fit.bytes_per_s[level - 1], fit.bytes_per_s[level]) << level;
  samples.erase(samples.begin() + 1);
  EXPECT_LT(mean_abs_error(p, fit, samples), 0.1);  // the undisturbed points are still predicted
}

TEST(Fit, UnseenLevelsAndRoofsFallBackToTheMachinesFigures) {
  const Profile p = machine();
  // An mv seen only in DRAM, at half the machine's DRAM bandwidth (mv adds no traffic).
  std::vector<Sample> samples;
  for (int m : {4096, 6144, 8192}) {
    const Shape s = parse_shape(fmt::format("mv m={} k=4096", m));
    samples.push_back({s, static_cast<double>(bytes(s, DType::f32)) / 1.25e10 + 1e-6});
  }
  const KernelFit fit = fit_kernel(p, *select(Op::mv, Impl::opt, DType::f32), 2, samples);
  fmt::print("c {:.3g} L {:.3g} {:.3g} {:.3g} {:.3g} o {:.3g} b {} err {}\n", fit.compute_ops_per_s, fit.bytes_per_s[0],
             fit.bytes_per_s[1], fit.bytes_per_s[2], fit.bytes_per_s[3], fit.overhead_s, fit.blend, fit.train_mape);
  // Within 5%: with the compute term in the blend, a few percent of the time may go to it.
  EXPECT_NEAR(fit.bytes_per_s[3] / 1.25e10, 1, 0.05);
  EXPECT_NEAR(fit.bytes_per_s[2] / 0.5e11, 1, 0.05);  // L3: 50% of the machine's 1e11, like DRAM
  EXPECT_NEAR(fit.bytes_per_s[0] / 2e11, 1, 0.05);    // L1: 50% of 4e11
  EXPECT_DOUBLE_EQ(fit.compute_ops_per_s, 2e11);      // never compute-bound: the machine's peak
}

// ---- the terms from the kernel's own blocking (opt) and the half-lengths (libraries) ----

// opt's GEMM on 30 x 16 x 1024: five MR=6 row panels, one column panel of 16 (two 8-wide
// vectors on AVX2, one 16-wide on AVX-512), 491520 MACs: enough for two threads.
TEST(Work, TwoThreadsOnFiveEqualTasksTakeThreeWaves) {
  const Kernel& k = *select(Op::gemm, Impl::opt, DType::f32);
  ASSERT_NE(k.work, nullptr);
  const Shape s = gemm(30, 16, 1024);
  const Work one = k.work(s, 1), two = k.work(s, 2);
  EXPECT_EQ(one.threads, 1);
  EXPECT_DOUBLE_EQ(one.busiest_macs, 30.0 * 16 * 1024);
  EXPECT_EQ(one.regions, 0);  // one thread: no fork, no barrier
  EXPECT_EQ(two.threads, 2);
  EXPECT_DOUBLE_EQ(two.busiest_macs, 3 * 6.0 * 16 * 1024);  // 3 of the 5 panels, not 2.5
  EXPECT_EQ(two.regions, 2);  // the region and the compute loop's barrier (prepare packed B)
}

TEST(Work, APartialTileCostsAWholeOne) {
  const Kernel& k = *select(Op::gemm, Impl::opt, DType::f32);
  // 7 rows take two 6-row panels; 16 columns one panel (a full 2 x 8 on AVX2, 1 x 16 on AVX-512).
  EXPECT_DOUBLE_EQ(k.work(gemm(7, 16, 64), 1).busiest_macs, 12.0 * 16 * 64);
  // Tiny: run on one thread whatever the caller allows (kernels/opt/config.inc, useful_threads).
  EXPECT_EQ(k.work(gemm(7, 16, 64), 2).threads, 1);
  // A conv2d is one GEMM per sample and group: twice the samples, twice the work and regions.
  const Kernel& c = *select(Op::conv2d, Impl::opt, DType::f32);
  const Work w1 = c.work(parse_shape("conv2d n=1 c=64 h=28 w=28 k=64 r=3 s=3 pad=1 g=4"), 2);
  const Work w2 = c.work(parse_shape("conv2d n=2 c=64 h=28 w=28 k=64 r=3 s=3 pad=1 g=4"), 2);
  EXPECT_DOUBLE_EQ(w2.busiest_macs, 2 * w1.busiest_macs);
  EXPECT_DOUBLE_EQ(w2.regions, 2 * w1.regions);
  EXPECT_GE(w1.busiest_macs * 2, 64.0 / 4 * 28 * 28 * 16 * 9 * 4);  // never less than the real MACs
  // The integer path counts K in packed groups and still reports MACs of the dtype.
  const Kernel& i8 = *select(Op::gemm, Impl::opt, DType::i8);
  EXPECT_GE(i8.work(gemm(12, 32, 64), 1).busiest_macs, 12.0 * 32 * 64);
}

// The AVX-512 blocking (6 x 32, 16-lane vectors), emulated on AVX2 pairs: what an AVX-512 CPU's
// predictor charges. 33 columns are one full 32-wide panel and a 1-column edge that runs one
// vector (16 columns), 48 in all; on AVX2 (6 x 16, 8 lanes) the same 33 are 40.
TEST(Work, TheAvx512BlockingCountsItsOwnPanelsAndVectors) {
  const auto wide = emulated_wide_kernels();
  const auto find = [&](DType d) {
    return std::find_if(wide.begin(), wide.end(), [&](const Kernel& k) { return k.op == Op::gemm && k.dtype == d; });
  };
  const auto f32 = find(DType::f32);
  ASSERT_NE(f32, wide.end());
  ASSERT_NE(f32->work, nullptr);
  EXPECT_DOUBLE_EQ(f32->work(gemm(7, 33, 64), 1).busiest_macs, 12.0 * 48 * 64);
  EXPECT_DOUBLE_EQ(f32->work(gemm(7, 16, 64), 1).busiest_macs, 12.0 * 16 * 64);
  // int8 through vpdpbusd quads: K = 63 packs as 16 quads, 64 k of MACs per output.
  const auto i8 = find(DType::i8);
  ASSERT_NE(i8, wide.end());
  ASSERT_NE(i8->work, nullptr);
  EXPECT_DOUBLE_EQ(i8->work(gemm(6, 32, 63), 1).busiest_macs, 6.0 * 32 * 64);
  // The native AVX2 kernel on the same 33 columns, where it is the one this CPU runs.
  const Kernel& native = *select(Op::gemm, Impl::opt, DType::f32);
  if (native.variant == "gemm_f32_6x16__avx2_fma")
    EXPECT_DOUBLE_EQ(native.work(gemm(7, 33, 64), 1).busiest_macs, 12.0 * 40 * 64);
}

// The AMX tiles (emulated): a micro-tile is 32 x 32 of C, a 1-column edge still costs a
// 16-column tile, and K is padded to whole tile rows (16 pairs = 32 bf16, 16 quads = 64 int8).
TEST(Work, TheTileBlockingPadsMAndKToWholeTiles) {
  const auto wide = emulated_wide_kernels();
  const auto find = [&](std::string_view variant) {
    return std::find_if(wide.begin(), wide.end(), [&](const Kernel& k) { return k.variant == variant; });
  };
  const auto bf16 = find("gemm_bf16_32x32_tiles__emulated_amx_bf16"),
             i8 = find("gemm_i8_32x32_tiles__emulated_amx_int8");
  ASSERT_NE(bf16, wide.end());
  ASSERT_NE(i8, wide.end());
  ASSERT_NE(bf16->work, nullptr);
  ASSERT_NE(i8->work, nullptr);
  // 7 rows: one 32-row panel; 33 columns: two tiles and one; 63 bf16: 32 pairs, 2 tile rows.
  EXPECT_DOUBLE_EQ(bf16->work(gemm(7, 33, 63), 1).busiest_macs, 32.0 * 48 * 64);
  // 65 int8: 17 quads, padded to 32 (two tile rows of 64 k).
  EXPECT_DOUBLE_EQ(i8->work(gemm(1, 16, 65), 1).busiest_macs, 32.0 * 16 * 128);
}

TEST(Roofline, ABlockingFitChargesTheBusiestThreadAndEachRegion) {
  KernelFit fit = known_fit(0);
  fit.blocking = true;
  fit.region_overhead_s = 1e-6;
  fit.bytes_per_s = {1e15, 1e15, 1e15, 1e15};  // compute-bound
  const Shape s = gemm(30, 16, 1024);
  const Prediction pr = predict_fitted(fit, s, DType::f32, {"L2", 1});
  // Three panels on the busiest of two threads at half the two-thread roof each.
  EXPECT_NEAR(pr.t_compute, 2 * (3 * 6.0 * 16 * 1024) / (fit.compute_ops_per_s / 2), 1e-15);
  EXPECT_NEAR(pr.overhead, fit.overhead_s + 2 * 1e-6, 1e-15);  // the region and one barrier (B prepacked)
  // Without the blocking flag (a profile fitted before it), the plain MACs.
  fit.blocking = false;
  EXPECT_NEAR(predict_fitted(fit, s, DType::f32, {"L2", 1}).t_compute, 2 * 30.0 * 16 * 1024 / fit.compute_ops_per_s,
              1e-15);
}

TEST(Roofline, HalfLengthsStretchTheComputeTermPerGemmDimension) {
  KernelFit fit = known_fit(0);
  fit.bytes_per_s = {1e15, 1e15, 1e15, 1e15};
  fit.half_mnk = {8, 0, 32};
  const Prediction pr = predict_fitted(fit, gemm(8, 100, 96), DType::f32, {"L1", 1});
  EXPECT_NEAR(pr.t_compute, 2 * 8.0 * 100 * 96 / fit.compute_ops_per_s * (1 + 8.0 / 8) * (1 + 32.0 / 96), 1e-15);
  // mv is m x k times k x b; a conv2d per group (k/g) x (c/g r s) times (c/g r s) x (n p q).
  EXPECT_EQ(gemm_view(parse_shape("mv m=10 k=20")), (std::array<double, 3>{10, 1, 20}));
  EXPECT_EQ(gemm_view(parse_shape("conv2d n=2 c=8 h=6 w=6 k=16 r=3 s=3 pad=1 g=2")),
            (std::array<double, 3>{8, 72, 36}));
}

TEST(Fit, RecoversTheRegionOverheadOfOptConvolutions) {
  const Profile p = machine();
  const Kernel& k = *select(Op::conv2d, Impl::opt, DType::f32);
  KernelFit truth{Op::conv2d, Impl::opt, DType::f32, 2, ShapeClass::grouped, "v", 1.2e11, {3e11, 1.5e11, 6e10, 2e10},
                  4e-6};
  truth.blocking = true;
  truth.region_overhead_s = 1.5e-6;
  std::vector<Sample> samples;
  for (int n : {1, 2, 4})
    for (auto [c, g, h] : {std::tuple{64, 4, 28}, {128, 8, 14}, {256, 32, 14}, {96, 2, 56}}) {
      const Shape s = parse_shape(fmt::format("conv2d n={0} c={1} h={3} w={3} k={1} r=3 s=3 pad=1 g={2}", n, c, g, h));
      samples.push_back(timed(p, truth, s, Impl::opt));
    }
  const KernelFit fit = fit_kernel(p, k, 2, samples);
  EXPECT_TRUE(fit.blocking);
  EXPECT_NEAR(fit.region_overhead_s / truth.region_overhead_s, 1, 0.05);
  EXPECT_NEAR(fit.compute_ops_per_s / truth.compute_ops_per_s, 1, 0.02);
  EXPECT_EQ(fit.group_overhead_s, 0);  // the regions carry the per-group cost
  EXPECT_LT(fit.train_mape, 0.01);
  EXPECT_GE(fit.cv_mape, 0);
  EXPECT_LT(fit.cv_mape, 0.02);
}

// opt's conv2d packs its image into panels (the implicit im2col gather) in a pass of its own
// before the micro-kernel: time in proportion to the elements packed, not to the MACs. With
// convs whose output channels (the rows each packed element feeds) vary, the fit separates
// the packing rate from the compute roof; without a packing cost in the timings it keeps none.
TEST(Fit, RecoversThePackingRateOfOptConvolutions) {
  const Profile p = machine();
  const Kernel& k = *select(Op::conv2d, Impl::opt, DType::f32);
  KernelFit truth{Op::conv2d, Impl::opt, DType::f32, 2, ShapeClass::dense, "v", 1.6e11, {3e11, 1.5e11, 6e10, 2e10},
                  3e-6,       0,         1};
  truth.blocking = true;
  truth.pack_elems_per_s = 2e9;
  const auto samples_of = [&](const KernelFit& f) {
    std::vector<Sample> out;
    for (int c : {16, 64, 256})
      for (int kout : {12, 48, 192, 384})
        for (int h : {14, 40}) {
          const Shape s = parse_shape(fmt::format("conv2d n=1 c={0} h={2} w={2} k={1} r=3 s=3 pad=1", c, kout, h));
          out.push_back(timed(p, f, s, Impl::opt));
        }
    return out;
  };
  const Shape narrow = parse_shape("conv2d n=1 c=64 h=40 w=40 k=24 r=3 s=3 pad=1");
  const ComputeWork w = compute_work(narrow, Impl::opt, DType::f32, 2, true);
  EXPECT_GT(w.packed, 64.0 * 9 * 40 * 40 / 2);  // at least its share of the packed image
  const KernelFit fit = fit_kernel(p, k, 2, samples_of(truth));
  EXPECT_NEAR(fit.pack_elems_per_s / truth.pack_elems_per_s, 1, 0.05);
  EXPECT_NEAR(fit.compute_ops_per_s / truth.compute_ops_per_s, 1, 0.05);
  EXPECT_LT(fit.train_mape, 0.01);
  truth.pack_elems_per_s = 0;
  const KernelFit plain = fit_kernel(p, k, 2, samples_of(truth));
  EXPECT_EQ(plain.pack_elems_per_s, 0);  // a term that does not beat the simpler model by 2% is left out
  EXPECT_NEAR(plain.compute_ops_per_s / truth.compute_ops_per_s, 1, 0.02);
}

TEST(Fit, RecoversHalfLengthsOfALibraryKernelAndCrossValidationChoosesThem) {
  const Profile p = machine();
  const Kernel& k = *select(Op::gemm, Impl::blas, DType::f32);
  KernelFit truth{Op::gemm, Impl::blas, DType::f32, 2, ShapeClass::dense, "v", 1.6e11, {3.5e11, 1.6e11, 8e10, 2.2e10},
                  3e-6};
  truth.half_mnk = {24, 12, 96};
  std::vector<Sample> samples;
  for (int m : {1, 3, 8, 24, 96, 384})
    for (int n : {16, 64, 512})
      for (int kk : {48, 256, 1024}) {
        const Shape s = gemm(m, n, kk);
        samples.push_back(timed(p, truth, s, Impl::blas));
      }
  const KernelFit fit = fit_kernel(p, k, 2, samples);
  EXPECT_FALSE(fit.blocking);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(fit.half_mnk[i] / truth.half_mnk[i], 1, 0.1) << i;
  EXPECT_NEAR(fit.compute_ops_per_s / truth.compute_ops_per_s, 1, 0.05);
  EXPECT_LT(fit.cv_mape, 0.02);
  // The same timings without the stretch: the fit keeps the simpler model (no half-lengths).
  truth.half_mnk = {0, 0, 0};
  for (Sample& smp : samples)
    smp.seconds = predict_fitted(truth, smp.run, DType::f32,
                                 memory_place(p, working_set(smp.run, Impl::blas, DType::f32, 2), 2, false))
                      .seconds;
  const KernelFit plain = fit_kernel(p, k, 2, samples);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_LT(plain.half_mnk[i], 0.5) << i;
  EXPECT_LT(plain.cv_mape, 0.01);
}

// The adaptive round's two ingredients: which training point the model generalises worst to,
// and the shapes timed around it.
TEST(Fit, HeldOutErrorsPointAtTheTimingTheModelCannotExplain) {
  const Profile p = machine();
  KernelFit truth = known_fit(0);
  truth.impl = Impl::blas;
  std::vector<Sample> samples = synthetic(p, truth, Impl::blas);
  samples[7].seconds *= 3;  // an effect the model has no term for, at one shape
  const Kernel& k = *select(Op::gemm, Impl::blas, DType::f32);
  const std::vector<double> err = held_out_errors(p, k, 2, samples, fit_kernel(p, k, 2, samples));
  ASSERT_EQ(err.size(), samples.size());
  EXPECT_EQ(std::max_element(err.begin(), err.end()) - err.begin(), 7);
  EXPECT_GT(err[7], std::log(2.0));
  // Too few points to leave any out: no error is claimed.
  const std::vector<Sample> few(samples.begin(), samples.begin() + 4);
  EXPECT_EQ(held_out_errors(p, k, 2, few, fit_kernel(p, k, 2, few)), std::vector<double>(4, 0));
}

TEST(Fit, NeighboursStayNearInTheirClassAndAreReproducible) {
  for (const char* d :
       {"gemm m=300 n=300 k=5000 name=train:x", "mv m=24 k=10000",
        "conv2d n=1 c=256 h=24 w=24 k=256 r=3 s=3 stride=1 pad=1 g=32",
        "conv2d n=1 c=192 h=40 w=40 k=192 r=3 s=3 stride=2 pad=1 g=192", "conv2d n=1 c=64 h=40 w=40 k=128 r=1 s=1",
        "conv2d n=1 c=3 h=160 w=160 k=24 r=3 s=3 stride=2 pad=1"}) {
    SCOPED_TRACE(d);
    const Shape s = parse_shape(d);
    std::mt19937 a(7), b(7);
    const std::vector<Shape> n = neighbours(s, a);
    ASSERT_EQ(n.size(), 2u);
    EXPECT_EQ(n, neighbours(s, b));  // the same seed, the same shapes
    for (const Shape& x : n) {
      EXPECT_EQ(shape_class(x), shape_class(s)) << to_string(x);
      EXPECT_LE(ops(x), 4 * ops(s)) << to_string(x);
      EXPECT_GT(ops(x), ops(s) / 64) << to_string(x);  // 0.6^3 of each dimension at worst, and rounding
      EXPECT_EQ(x.name, "adapt:" + (s.name.empty() ? std::string("shape") : s.name));
      EXPECT_EQ(parse_shape(to_string(x)), x);  // a shape the parser accepts as written
      if (const auto* c = std::get_if<ConvShape>(&x.dims)) {
        const auto& o = std::get<ConvShape>(s.dims);
        EXPECT_EQ(c->r, o.r);
        EXPECT_EQ(c->stride, o.stride);
        if (o.g != o.c) EXPECT_EQ(c->g, o.g);  // groups kept; depthwise scales c = k = g together
      }
    }
  }
}

TEST(Fit, RefusesEmptyOrNonPositiveTimings) {
  const Kernel& k = *select(Op::gemm, Impl::opt, DType::f32);
  EXPECT_THROW(fit_kernel(machine(), k, 2, {}), std::invalid_argument);
  const std::vector<Sample> zero = {{gemm(8, 8, 8), 0.0}};
  EXPECT_THROW(fit_kernel(machine(), k, 2, zero), std::invalid_argument);
}

}  // namespace

namespace {

// evaluate --profile: a run CSV's rows, measured once, predicted again from another profile
// exactly as run --profile would (the batch applied, cold rows from DRAM), so a model change is
// scored on measurements taken before it.
TEST(Evaluate, RepredictsEveryRowFromAnotherProfileAsRunWould) {
  Profile p = machine();
  p.kernels = {known_fit(0)};
  const std::string csv =
      "op,impl,dtype,threads,batch,shape,measured_s,status,cache\n"
      "gemm,opt,f32,2,4,gemm m=64 n=512 k=512,0.001,ok,warm\n"
      "gemm,opt,f32,2,1,gemm m=1024 n=1024 k=1024,0.02,ok,cold\n"
      "gemm,blas,f32,2,1,gemm m=1024 n=1024 k=1024,0.02,ok,warm\n";
  EXPECT_THROW(read_evaluation(csv, "old.csv"), std::runtime_error);  // no predictions, none asked for
  EvaluationInput in = read_evaluation(csv, "old.csv", false);
  ASSERT_EQ(in.rows.size(), 3u);
  repredict(in, p, "old.csv");
  const Shape batched4 = gemm(256, 512, 512);
  EXPECT_DOUBLE_EQ(in.rows[0].predicted_s, predict(p, batched4, Impl::opt, DType::f32, 2, false).seconds);
  EXPECT_DOUBLE_EQ(in.rows[1].predicted_s, predict(p, gemm(1024, 1024, 1024), Impl::opt, DType::f32, 2, true).seconds);
  EXPECT_EQ(in.rows[1].level, "DRAM");
  EXPECT_EQ(in.rows[0].model, "fitted");
  EXPECT_EQ(in.rows[2].model, "classic");  // no blas fit in the profile
  EXPECT_DOUBLE_EQ(*in.rows[2].classic_s, in.rows[2].predicted_s);

  EvaluationInput bad = read_evaluation(
      "op,impl,dtype,threads,batch,shape,measured_s,status\n"
      "gemm,opt,f32,2,1,gemm m=0 n=1 k=1,0.001,ok\n",
      "bad.csv", false);
  try {
    repredict(bad, p, "bad.csv");
    ADD_FAILURE() << "a shape that does not parse was predicted";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("bad.csv:2: ")) << e.what();
  }
  EvaluationInput no_peak = read_evaluation(
      "op,impl,dtype,threads,batch,shape,measured_s,status\n"
      "gemm,opt,f64,2,1,gemm m=8 n=8 k=8,0.001,ok\n",
      "f64.csv", false);
  EXPECT_THROW(repredict(no_peak, p, "f64.csv"), std::runtime_error);
}

}  // namespace
