// No fitted parameter is ever non-finite or unphysical (predictor/fit.h, "Bounds"): the fitter
// is fed many random synthetic sample sets for every fit form, clean and poisoned, and every
// fit is checked against the bounds restated here from the machine and the samples alone, not
// from the fitter's own arithmetic. Then each way a fit can fail, once: a term that runs to its
// bound is dropped, a figure the profile's rules refuse is caught as the fit is made, and a
// kernel whose fit fails falls back to the classic roofline while the profile is still written.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernels/core/shape_file.h"
#include "kernels/core/cost.h"
#include "predictor/fit.h"
#include "predictor/parallel.h"
#include "predictor/roofline.h"

namespace {

using namespace roofbench;

constexpr int kThreads = 2;

// A machine with round figures at 2 threads, the units of f32 and i8.
Profile machine() {
  Profile p;
  p.peaks = {{"f32", kThreads, 2e11, "fma", 0}, {"i8", kThreads, 8e11, "dot", 0}};
  p.bandwidth = {{MemoryLevel::L1, 65536, kThreads, 4e11, "read"},
                 {MemoryLevel::L2, 1 << 20, kThreads, 2e11, "read"},
                 {MemoryLevel::L3, 32 << 20, kThreads, 1e11, "read"},
                 {MemoryLevel::DRAM, 0, kThreads, 2.5e10, "read"}};
  return p;
}

// The bounds fit.h states, restated: a kernel no faster than the fastest unit it could use
// (its dtype's or f32's roof), no level read faster than 4x the machine's rate there, no
// overhead longer than the fastest timing, no cost per group or region longer than the least
// time per group or region, no half-length beyond 16x the longest extent, no packing faster
// than 4x L1 per thread or longer than any timing it is part of.
void expect_within_bounds(const Profile& m, const Kernel& k, const KernelFit& f, const std::vector<Sample>& samples,
                          const std::string& what) {
  SCOPED_TRACE(what);
  const double slack = 1 + 1e-9;
  const auto finite_nonnegative = [&](double v, const char* name) {
    EXPECT_TRUE(std::isfinite(v) && v >= 0) << name << " = " << v;
  };
  finite_nonnegative(f.compute_ops_per_s, "compute");
  finite_nonnegative(f.overhead_s, "overhead");
  finite_nonnegative(f.group_overhead_s, "per group");
  finite_nonnegative(f.region_overhead_s, "per region");
  finite_nonnegative(f.pack_elems_per_s, "packing rate");
  for (double h : f.half_mnk) finite_nonnegative(h, "half-length");
  EXPECT_TRUE(std::isfinite(f.train_mape) && std::isfinite(f.cv_mape));
  EXPECT_TRUE(f.blend == 0 || f.blend == 1 || f.blend == 2 || f.blend == 4) << f.blend;

  double roof = 0;
  for (const PeakEntry& e : m.peaks)
    if (e.dtype == name(k.dtype) || e.dtype == "f32" || (k.dtype == DType::i4 && e.dtype == "i8"))
      roof = std::max(roof, e.ops_per_s);
  EXPECT_GT(f.compute_ops_per_s, 0);
  EXPECT_LE(f.compute_ops_per_s, roof * slack);
  ASSERT_EQ(f.bytes_per_s.size(), 4u);
  for (std::size_t l = 0; l < 4; ++l) {
    EXPECT_TRUE(std::isfinite(f.bytes_per_s[l]) && f.bytes_per_s[l] > 0) << kMemoryLevels[l];
    EXPECT_LE(f.bytes_per_s[l], 4 * m.bandwidth[l].bytes_per_s * slack) << kMemoryLevels[l];
  }

  double fastest = INFINITY, per_group = INFINITY, per_region = INFINITY;
  std::array<double, 3> longest{1, 1, 1};
  for (const Sample& s : samples) {
    fastest = std::min(fastest, s.seconds);
    if (groups(s.run) > 0) per_group = std::min(per_group, s.seconds / static_cast<double>(groups(s.run)));
    const ComputeWork w = compute_work(s.run, k.impl, k.dtype, kThreads, k.work != nullptr);
    if (w.regions > 0) per_region = std::min(per_region, s.seconds / w.regions);
    for (std::size_t i = 0; i < 3; ++i) longest[i] = std::max(longest[i], w.mnk[i]);
    if (f.pack_elems_per_s > 0) {
      EXPECT_LE(w.packed / f.pack_elems_per_s, s.seconds * slack) << to_string(s.run);
    }
  }
  EXPECT_LE(f.overhead_s, fastest * slack);
  if (f.group_overhead_s > 0) {
    EXPECT_LE(f.group_overhead_s, per_group * slack);
  }
  if (f.region_overhead_s > 0) {
    EXPECT_LE(f.region_overhead_s, per_region * slack);
  }
  for (std::size_t i = 0; i < 3; ++i) EXPECT_LE(f.half_mnk[i], 16 * longest[i] * slack) << "half " << i;
  EXPECT_LE(f.pack_elems_per_s, 4 * m.bandwidth[0].bytes_per_s / kThreads * slack);
  EXPECT_NO_THROW(check_kernel_fit(f, "the fit"));  // and what the profile writer would accept
}

// Log-uniform in [lo, hi].
double draw(std::mt19937& rng, double lo, double hi) {
  return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
}
std::int64_t dim(std::mt19937& rng, double lo, double hi) { return std::llround(draw(rng, lo, hi)); }

struct Form {
  const char* name;
  Op op;
  Impl impl;
  DType dtype;
  std::function<Shape(std::mt19937&)> shape;  // one random shape of the form's class
};

// Every fit form: blocking fits (opt: regions, the packing pass) and library fits (the
// half-lengths), a compute roof fitted or fixed (mv), a cost per group (mv rows, depthwise and
// grouped convolutions), f32 and i8 roofs.
std::vector<Form> forms() {
  const auto gemm = [](std::mt19937& r) {
    return parse_shape(fmt::format("gemm m={} n={} k={}", dim(r, 1, 1024), dim(r, 8, 2048), dim(r, 8, 2048)));
  };
  const auto mv = [](std::mt19937& r) {
    return parse_shape(fmt::format("mv m={} k={}", dim(r, 8, 16384), dim(r, 8, 8192)));
  };
  const auto dense = [](std::mt19937& r) {
    const std::int64_t h = dim(r, 7, 56);
    return parse_shape(
        fmt::format("conv2d n=1 c={} h={} w={} k={} r=3 s=3 pad=1", dim(r, 3, 256), h, h, dim(r, 8, 256)));
  };
  const auto pointwise = [](std::mt19937& r) {
    const std::int64_t h = dim(r, 7, 56);
    return parse_shape(fmt::format("conv2d n=1 c={} h={} w={} k={} r=1 s=1", dim(r, 8, 512), h, h, dim(r, 8, 512)));
  };
  const auto depthwise = [](std::mt19937& r) {
    const std::int64_t c = dim(r, 8, 512), h = dim(r, 7, 112);
    return parse_shape(fmt::format("conv2d n=1 c={0} h={1} w={1} k={0} r=3 s=3 pad=1 g={0}", c, h));
  };
  const auto grouped = [](std::mt19937& r) {
    const std::int64_t g = dim(r, 2, 32), h = dim(r, 7, 56);
    return parse_shape(fmt::format("conv2d n=1 c={0} h={1} w={1} k={0} r=3 s=3 pad=1 g={2}", g * dim(r, 2, 16), h, g));
  };
  return {{"gemm opt f32", Op::gemm, Impl::opt, DType::f32, gemm},
          {"gemm opt i8", Op::gemm, Impl::opt, DType::i8, gemm},
          {"gemm blas f32", Op::gemm, Impl::blas, DType::f32, gemm},
          {"mv opt f32", Op::mv, Impl::opt, DType::f32, mv},
          {"mv blas f32", Op::mv, Impl::blas, DType::f32, mv},
          {"conv2d opt f32 dense", Op::conv2d, Impl::opt, DType::f32, dense},
          {"conv2d opt f32 pointwise", Op::conv2d, Impl::opt, DType::f32, pointwise},
          {"conv2d blas f32 depthwise", Op::conv2d, Impl::blas, DType::f32, depthwise},
          {"conv2d opt f32 grouped", Op::conv2d, Impl::opt, DType::f32, grouped}};
}

// A random kernel inside the machine: the times a clean sample set is drawn from.
KernelFit random_truth(const Form& form, const Kernel& k, std::mt19937& r) {
  const Profile m = machine();
  KernelFit t;
  t.op = form.op;
  t.impl = form.impl;
  t.dtype = form.dtype;
  t.threads = kThreads;
  t.blocking = k.work != nullptr;
  t.compute_ops_per_s = draw(r, 0.05, 1) * (form.dtype == DType::i8 ? 8e11 : 2e11);
  for (const BandwidthEntry& b : m.bandwidth) t.bytes_per_s.push_back(draw(r, 0.1, 1) * b.bytes_per_s);
  for (std::size_t l = 1; l < 4; ++l) t.bytes_per_s[l] = std::min(t.bytes_per_s[l], t.bytes_per_s[l - 1]);
  t.overhead_s = draw(r, 1e-7, 1e-4);
  t.group_overhead_s = draw(r, 1e-10, 1e-6);
  t.region_overhead_s = t.blocking ? draw(r, 1e-7, 1e-5) : 0;
  t.pack_elems_per_s = t.blocking ? draw(r, 1e8, 2e10) : 0;
  if (!t.blocking)
    for (double& h : t.half_mnk) h = draw(r, 0.1, 64);
  t.blend = kBlendForms[std::uniform_int_distribution<std::size_t>(0, std::size(kBlendForms) - 1)(r)];
  return t;
}

double seconds_under(const KernelFit& truth, const Shape& s, const Form& f) {
  const MemoryPlace place = memory_place(machine(), working_set(s, f.impl, f.dtype, kThreads), kThreads, false);
  return predict_fitted(truth, s, f.dtype, place).seconds;
}

// The ways a training sweep goes wrong on a shared machine, and the degenerate sets.
enum class Kind { clean, noisy, no_signal, one_slow, one_sample, identical, slow_phase, junk };
constexpr Kind kKinds[] = {Kind::clean,      Kind::noisy,     Kind::no_signal,  Kind::one_slow,
                           Kind::one_sample, Kind::identical, Kind::slow_phase, Kind::junk};
const char* kind_name(Kind k) {
  constexpr const char* names[] = {"clean",
                                   "noisy",
                                   "no signal in the optional terms",
                                   "one point 3x slow",
                                   "one sample",
                                   "identical samples",
                                   "a slow phase",
                                   "junk times"};
  return names[static_cast<int>(k)];
}

std::vector<Sample> sample_set(const Form& form, const Kernel& k, Kind kind, std::mt19937& r) {
  KernelFit truth = random_truth(form, k, r);
  if (kind == Kind::no_signal) {  // the terms a fit may add have nothing to find
    truth.group_overhead_s = truth.region_overhead_s = truth.pack_elems_per_s = 0;
    truth.half_mnk = {0, 0, 0};
  }
  const std::size_t n = kind == Kind::one_sample ? 1 : std::uniform_int_distribution<std::size_t>(2, 12)(r);
  std::lognormal_distribution<double> noise(0, 0.3);
  std::vector<Sample> out;
  const Shape first = form.shape(r);
  for (std::size_t i = 0; i < n; ++i) {
    const Shape s = kind == Kind::identical ? first : form.shape(r);
    double t = seconds_under(truth, s, form);
    if (kind == Kind::noisy) t *= noise(r);
    if (kind == Kind::slow_phase && i % 2 == 1) t *= draw(r, 2, 3);
    if (kind == Kind::junk) t = draw(r, 1e-6, 1.0);
    out.push_back({s, t});
  }
  if (kind == Kind::one_slow) out[r() % out.size()].seconds *= 3;
  return out;
}

// 9 forms x 8 kinds x 3 seeds = 216 sample sets of 1 to 12 samples, fitted on every core.
TEST(FitBounds, EveryParameterIsFiniteAndWithinItsBoundsOnRandomSampleSets) {
  const Profile m = machine();
  struct Set {
    const Kernel* kernel;
    std::vector<Sample> samples;
    std::string what;
  };
  std::vector<Set> sets;
  for (const Form& form : forms()) {
    const Kernel* k = select(form.op, form.impl, form.dtype);
    ASSERT_NE(k, nullptr) << form.name;
    for (Kind kind : kKinds)
      for (unsigned seed = 0; seed < 3; ++seed) {
        std::mt19937 r(1000 * seed + 17 * static_cast<unsigned>(kind) + 1);
        std::vector<Sample> samples = sample_set(form, *k, kind, r);
        std::string what = fmt::format("{}, {}, seed {}, {} samples", form.name, kind_name(kind), seed, samples.size());
        sets.push_back({k, std::move(samples), std::move(what)});
      }
  }
  ASSERT_EQ(sets.size(), 216u);
  const std::vector<std::string> failures = parallel_map(sets.size(), [&](std::size_t i) -> std::string {
    try {
      const KernelFit f = fit_kernel(m, *sets[i].kernel, kThreads, sets[i].samples);
      expect_within_bounds(m, *sets[i].kernel, f, sets[i].samples, sets[i].what);  // gtest is thread-safe
      return "";
    } catch (const std::exception& e) {
      return sets[i].what + ": the fit threw: " + e.what();
    }
  });
  for (const std::string& f : failures) EXPECT_EQ(f, "");
}

// A term the data pushes past its ceiling is dropped and the fit redone without it. Depthwise
// convolutions that cost 2 us per channel, but one timing 3x faster than its channels alone
// allow (a clock that rose, a timer that slipped): no cost per channel can exceed that point's
// time per channel, the fit wants one three times larger, so the term goes, and what is left is
// finite and inside its bounds.
TEST(FitBounds, ATermThatRunsToItsBoundIsDroppedAndTheFitRedoneWithoutIt) {
  const Profile m = machine();
  const Form dw{"depthwise", Op::conv2d, Impl::blas, DType::f32, nullptr};
  const Kernel& k = *select(Op::conv2d, Impl::blas, DType::f32);
  KernelFit truth{
      Op::conv2d, Impl::blas, DType::f32, kThreads, ShapeClass::depthwise, "v", 5e10, {2e11, 8e10, 4e10, 1e10}, 3e-6,
      2e-6,       0,          0,          0};
  std::vector<Sample> samples;
  for (int c : {32, 96, 320, 640})
    for (int h : {7, 14, 28}) {
      const Shape s = parse_shape(fmt::format("conv2d n=1 c={0} h={1} w={1} k={0} r=3 s=3 pad=1 g={0}", c, h));
      samples.push_back({s, seconds_under(truth, s, dw)});
    }
  KernelFit clean = fit_kernel(m, k, kThreads, samples);
  EXPECT_NEAR(clean.group_overhead_s / truth.group_overhead_s, 1, 0.05);  // inside its bounds it is kept
  samples.back().seconds /= 3;
  const KernelFit f = fit_kernel(m, k, kThreads, samples);
  EXPECT_EQ(f.group_overhead_s, 0);
  expect_within_bounds(m, k, f, samples, "one point 3x fast");
}

// The writer's rules run on each fit as it is made: the figure that once stopped a 20-minute
// calibration at its last step (a packing rate of +inf) is refused with its key named.
TEST(FitBounds, TheProfilesRulesCatchABadFigureInOneFit) {
  KernelFit f{Op::gemm, Impl::opt, DType::f32, kThreads, ShapeClass::dense, "v", 1e11, {4e11, 2e11, 1e11, 2e10}, 1e-6,
              0,        0,         0,          0};
  EXPECT_NO_THROW(check_kernel_fit(f, "the fit"));
  f.pack_elems_per_s = std::numeric_limits<double>::infinity();
  try {
    check_kernel_fit(f, "the fit");
    FAIL() << "an infinite packing rate passed";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("pack_elems_per_s"), std::string::npos) << e.what();
  }
  f.pack_elems_per_s = 0;
  f.overhead_s = std::nan("");
  EXPECT_THROW(check_kernel_fit(f, "the fit"), ProfileError);
}

nlohmann::json timing(const char* op, const char* impl, const char* dtype, int threads, const Shape& s,
                      double seconds) {
  return {{"op", op},           {"impl", impl},          {"dtype", dtype},
          {"threads", threads}, {"shape", to_string(s)}, {"seconds", seconds}};
}

// A calibration's last step on poisoned training timings: the kernels whose timings no fit can
// use (no peak for their dtype at their thread count; a time that is no timing) fall back to the
// classic roofline, named with the reason; the others are fitted; the profile is written and
// reads back.
TEST(FitBounds, AKernelWhoseFitFailsFallsBackToTheClassicRooflineAndTheProfileIsWritten) {
  Profile p = machine();
  const Form gemm{"gemm", Op::gemm, Impl::opt, DType::f32, nullptr};
  KernelFit truth{
      Op::gemm, Impl::opt, DType::f32, kThreads, ShapeClass::dense, "v", 1.5e11, {3e11, 1.2e11, 6e10, 2e10}, 5e-6,
      0,        0,         0,          0};
  truth.blocking = true;
  std::mt19937 r(7);
  for (int i = 0; i < 12; ++i) {
    const Shape s = parse_shape(fmt::format("gemm m={} n={} k={}", dim(r, 1, 512), dim(r, 16, 1024), dim(r, 16, 1024)));
    p.training.push_back(timing("gemm", "opt", "f32", kThreads, s, seconds_under(truth, s, gemm)));
    // the same kernel at 3 threads, where the machine has no peak
    p.training.push_back(timing("gemm", "opt", "f32", 3, s, seconds_under(truth, s, gemm)));
    // an mv with one corrupt time among good ones
    const Shape v = parse_shape(fmt::format("mv m={} k={}", dim(r, 64, 8192), dim(r, 64, 8192)));
    p.training.push_back(timing("mv", "opt", "f32", kThreads, v, i == 5 ? 1e-300 : 1e-3));
  }
  const std::vector<std::string> warnings = fit_training(p, "poisoned");
  ASSERT_EQ(p.unfitted.size(), 2u) << p.unfitted.dump();
  ASSERT_EQ(warnings.size(), 2u);
  std::string all;
  for (const std::string& w : warnings) {
    EXPECT_EQ(w.find('\n'), std::string::npos) << w;
    EXPECT_NE(w.find("falls back to the classic roofline"), std::string::npos) << w;
    all += w + "\n";
  }
  EXPECT_NE(all.find("gemm opt f32 (dense, 3 threads"), std::string::npos) << all;
  EXPECT_NE(all.find("no f32 peak at 3 threads"), std::string::npos) << all;
  EXPECT_NE(all.find("mv opt f32 (dense, 2 threads"), std::string::npos) << all;
  EXPECT_NE(all.find("1e-300 s"), std::string::npos) << all;
  ASSERT_EQ(p.kernels.size(), 1u);  // gemm opt f32 at 2 threads
  EXPECT_EQ(p.kernels[0].op, Op::gemm);
  EXPECT_EQ(p.kernels[0].threads, kThreads);

  const std::string path =
      (std::filesystem::temp_directory_path() / fmt::format("fallback-{}.json", ::getpid())).string();
  write_profile(path, p);
  const Profile back = read_profile(path);
  std::filesystem::remove(path);
  EXPECT_EQ(back, p);
  const Prediction mv = predict(back, parse_shape("mv m=1000 k=1000"), Impl::opt, DType::f32, kThreads, false);
  EXPECT_FALSE(mv.fitted);
  EXPECT_DOUBLE_EQ(mv.seconds, mv.classic_s);
  EXPECT_TRUE(predict(back, parse_shape("gemm m=64 n=64 k=64"), Impl::opt, DType::f32, kThreads, false).fitted);
}

}  // namespace
