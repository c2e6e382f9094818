// The predictor's formulas on hand-computed cases, and the fit recovering known parameters
// from synthetic timings.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cost.h"
#include "predictor/fit.h"
#include "predictor/roofline.h"

namespace {

using namespace roofbench;

// A machine with round figures, 2 threads: L1 64 KiB, L2 1 MiB, L3 32 MiB.
Profile machine() {
  Profile p;
  p.peaks = {{"f32", 2, 2e11, "avx2+fma", 0}, {"i8", 2, 8e11, "avx2", 0}};
  p.bandwidth = {{"L1", 65536, 2, 4e11, "read"},
                 {"L2", 1 << 20, 2, 2e11, "read"},
                 {"L3", 32 << 20, 2, 1e11, "read"},
                 {"DRAM", 0, 2, 2.5e10, "read"},
                 {"DRAM", 0, 2, 4e10, "stream"}};
  return p;
}

Shape gemm(std::int64_t m, std::int64_t n, std::int64_t k) { return parse_shape(fmt::format("gemm m={} n={} k={}", m, n, k)); }

KernelFit known_fit(double blend_p) {
  return {"gemm", "opt", "f32", 2, "dense", "v", 1.5e11, {3e11, 1.2e11, 6e10, 2e10}, 5e-6, 0, blend_p, 0, 0};
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
  EXPECT_DOUBLE_EQ(memory_place(p, 16 << 20, 2, true).scale, 1);  // cold: DRAM's own figure
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
  p.kernels[0].op = "conv2d";
  const Shape dw = parse_shape("conv2d n=1 c=8 h=8 w=8 k=8 r=3 s=3 g=8");
  EXPECT_EQ(find_fit(p, dw, Impl::opt, DType::f32, 2), nullptr);  // only a dense fit: classic stands in
  p.kernels[0].shape_class = "depthwise";
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

TEST(Roofline, GroupedConvPaysItsOverheadOncePerSampleAndGroup) {
  EXPECT_EQ(groups(parse_shape("conv2d n=2 c=8 h=8 w=8 k=8 r=3 s=3 g=8")), 16);
  EXPECT_EQ(groups(parse_shape("conv2d n=3 c=8 h=8 w=8 k=16 r=3 s=3 g=2")), 6);
  EXPECT_EQ(groups(parse_shape("conv2d n=2 c=8 h=8 w=8 k=8 r=3 s=3")), 0);  // dense: no per-group term
  EXPECT_EQ(groups(gemm(4, 4, 4)), 0);
  KernelFit k = known_fit(0);
  k.op = "conv2d";
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
std::vector<Sample> synthetic(const Profile& p, const KernelFit& truth) {
  std::vector<Sample> out;
  std::vector<Shape> shapes;
  for (int n : {48, 96, 192, 384, 768, 1536}) shapes.push_back(gemm(n, n, n));
  for (int m : {1, 2, 4}) {
    shapes.push_back(gemm(m, 128, 256));    // 128 KiB of weights beside the packing buffers: L2
    shapes.push_back(gemm(m, 1024, 2048));  // 8 MiB: L3
    shapes.push_back(gemm(m, 4096, 4096));  // 64 MiB: DRAM
  }
  for (const Shape& s : shapes) {
    const MemoryPlace place = memory_place(p, working_set(s, Impl::opt, DType::f32, 2), 2, false);
    out.push_back({s, predict_fitted(truth, s, DType::f32, place).seconds});
  }
  return out;
}

TEST(Fit, RecoversKnownParametersFromSyntheticTimings) {
  const Profile p = machine();
  const Kernel& k = *select(Op::gemm, Impl::opt, DType::f32);
  for (double form : {0.0, 2.0}) {
    const KernelFit truth = known_fit(form);
    const KernelFit fit = fit_kernel(p, k, 2, synthetic(p, truth));
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
  KernelFit truth{"conv2d", "blas", "f32", 2, "depthwise", "v", 5e10, {2e11, 8e10, 4e10, 1e10}, 3e-6, 2e-6, 0, 0, 0};
  std::vector<Sample> samples;
  for (int c : {32, 96, 320, 640})
    for (int h : {7, 14, 28, 56}) {
      const Shape s = parse_shape(fmt::format("conv2d n=1 c={0} h={1} w={1} k={0} r=3 s=3 pad=1 g={0}", c, h));
      const MemoryPlace place = memory_place(p, working_set(s, Impl::blas, DType::f32, 2), 2, false);
      samples.push_back({s, predict_fitted(truth, s, DType::f32, place).seconds});
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
  truth.op = "mv";
  std::vector<Sample> samples;
  for (auto [m, k] : {std::pair{256, 512}, {128, 1024}, {1024, 1024}, {1024, 2048}, {2048, 2048}, {4096, 4096}, {8192, 4096}}) {
    const Shape s = parse_shape(fmt::format("mv m={} k={}", m, k));
    const MemoryPlace place = memory_place(p, working_set(s, Impl::opt, DType::f32, 2), 2, false);
    samples.push_back({s, predict_fitted(truth, s, DType::f32, place).seconds});
  }
  samples[1].seconds *= 20;  // the second L2 point shared its core with something else
  const KernelFit fit = fit_kernel(p, *select(Op::mv, Impl::opt, DType::f32), 2, samples);
  for (std::size_t level = 1; level < 4; ++level) EXPECT_GE(fit.bytes_per_s[level - 1], fit.bytes_per_s[level]) << level;
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
  fmt::print("c {:.3g} L {:.3g} {:.3g} {:.3g} {:.3g} o {:.3g} b {} err {}\n", fit.compute_ops_per_s, fit.bytes_per_s[0], fit.bytes_per_s[1], fit.bytes_per_s[2], fit.bytes_per_s[3], fit.overhead_s, fit.blend, fit.train_mape);
  // Within 5%: with the compute term in the blend, a few percent of the time may go to it.
  EXPECT_NEAR(fit.bytes_per_s[3] / 1.25e10, 1, 0.05);
  EXPECT_NEAR(fit.bytes_per_s[2] / 0.5e11, 1, 0.05);  // L3: 50% of the machine's 1e11, like DRAM
  EXPECT_NEAR(fit.bytes_per_s[0] / 2e11, 1, 0.05);    // L1: 50% of 4e11
  EXPECT_DOUBLE_EQ(fit.compute_ops_per_s, 2e11);      // never compute-bound: the machine's peak
}

TEST(Fit, RefusesEmptyOrNonPositiveTimings) {
  const Kernel& k = *select(Op::gemm, Impl::opt, DType::f32);
  EXPECT_THROW(fit_kernel(machine(), k, 2, {}), std::invalid_argument);
  const std::vector<Sample> zero = {{gemm(8, 8, 8), 0.0}};
  EXPECT_THROW(fit_kernel(machine(), k, 2, zero), std::invalid_argument);
}

}  // namespace
