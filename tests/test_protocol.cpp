// The measurement protocol's rules (benchmarks/protocol.h) on synthetic timing series: each
// series is the machine behaviour the rule exists for, and each test fails with its rule
// removed (rejection off, or the stopping rule declaring every row done).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "benchmarks/protocol.h"

namespace roofbench {
namespace {

constexpr double kTrue = 1e-3;  // the kernel's time at the machine's own speed

// Deterministic jitter in [0, amplitude): noise on a quiet machine only ever adds time.
double jitter(int i, double amplitude) { return amplitude * std::fmod(0.618034 * (i + 1), 1.0); }

std::vector<Repetition> clean(int n, double amplitude = 0.01) {
  std::vector<Repetition> r;
  for (int i = 0; i < n; ++i) r.push_back({kTrue * (1 + jitter(i, amplitude)), 1 + jitter(i + 7, 0.005)});
  return r;
}

TEST(Protocol, CleanSeriesConvergesOnItsMedianWithNothingRejected) {
  const Estimate e = estimate(clean(7), {});
  EXPECT_EQ(e.rejected, 0);
  EXPECT_EQ(e.kept, 7);
  EXPECT_TRUE(e.converged);
  EXPECT_NEAR(e.seconds, kTrue, 0.01 * kTrue);
  EXPECT_LE(e.lo, e.seconds);
  EXPECT_GE(e.hi, e.seconds);
  EXPECT_NEAR(e.slowdown, 1.0, 0.01);  // the canary's jitter (0.5%) only
  EXPECT_EQ(repetitions_to_add(e, 7, 5, 15, {}), 0);
}

// A slow phase (docs/noise.md): for 12 of 20 repetitions the machine ran the kernel 2.7x slow
// with a small spread, and the canary 1.6x slow. The estimate is the kernel's own time, and the
// phase shows as the slowdown the run lived through.
TEST(Protocol, SlowPhaseIsRejectedByTheCanary) {
  std::vector<Repetition> r = clean(20);
  for (int i = 4; i < 16; ++i) r[static_cast<std::size_t>(i)] = {2.7 * kTrue * (1 + jitter(i, 0.01)), 1.6};
  const Estimate e = estimate(r, {});
  EXPECT_EQ(e.rejected, 12);
  EXPECT_NEAR(e.seconds, kTrue, 0.02 * kTrue);
  EXPECT_GT(e.slowdown, 1.5);
  EXPECT_TRUE(e.converged);
}

// A steal burst: 3 of the first round's 5 repetitions lost time to the host (steal, counted
// with the other processes' share) while the canaries before and after looked normal. The row
// is not done after one round; its retakes settle it.
TEST(Protocol, StealBurstIsRejectedAndRetaken) {
  std::vector<Repetition> r = clean(5);
  r[1] = {2.1 * kTrue, 1.02, 0.45};
  r[2] = {1.8 * kTrue, 1.05, 0.30};
  r[3] = {1.3 * kTrue, 1.01, 0.12};
  Estimate e = estimate(r, {});
  EXPECT_EQ(e.rejected, 3);
  EXPECT_FALSE(e.converged);
  const int more = repetitions_to_add(e, 5, 5, 15, {});
  EXPECT_GE(more, 3);  // enough to reach min_kept clean repetitions
  for (const Repetition& x : clean(more)) r.push_back(x);
  e = estimate(r, {});
  EXPECT_TRUE(e.converged);
  EXPECT_NEAR(e.seconds, kTrue, 0.01 * kTrue);
}

// A drifting clock (or a machine slowing steadily): every repetition 2% longer than the one
// before, and the canary timed on the same clock drifting with it. Scaled by the canary, every
// repetition inside the tolerance is the kernel's own time again; past it (ratios 1.26 and 1.28)
// they are rejected.
TEST(Protocol, DriftingClockIsScaledOutByTheCanary) {
  std::vector<Repetition> r;
  for (int i = 0; i < 15; ++i) r.push_back({kTrue * (1 + 0.02 * i), 1 + 0.02 * i});
  const Estimate e = estimate(r, {});
  EXPECT_EQ(e.rejected, 2);
  EXPECT_NEAR(e.seconds, kTrue, 1e-9 * kTrue);
  EXPECT_TRUE(e.converged);
  EXPECT_NEAR(e.lived_seconds, 1.14 * kTrue, 1e-9);  // what the run lived through: the median of all 15
}

TEST(Protocol, RejectionSaysWhy) {
  EXPECT_EQ(rejection({kTrue, 1.6, 0.0}, {}), "canary");
  EXPECT_EQ(rejection({kTrue, 1.0, 0.5}, {}), "others");
  EXPECT_EQ(rejection({kTrue, 1.1, 0.05}, {}), "");
  EXPECT_EQ(rejection({kTrue, 1.6, 0.5}, {.reject = false}), "");
}

TEST(Protocol, NoisySeriesNeedsMoreRepetitionsUpToTheCap) {
  std::vector<Repetition> r;
  for (int i = 0; i < 5; ++i) r.push_back({kTrue * (1 + jitter(i, 0.3)), 1.0});
  const Estimate e = estimate(r, {});
  EXPECT_FALSE(e.converged);
  EXPECT_EQ(repetitions_to_add(e, 5, 5, 15, {}), 5);
  EXPECT_EQ(repetitions_to_add(e, 13, 5, 15, {}), 2);
}

// Inside the tolerance the machine still drifts: a second run five minutes later found every
// row of a group 3-5% faster, and the canary with it. Scaled by its canary, each repetition is
// the time at the machine's own speed, and the two runs agree.
TEST(Protocol, MachineDriftWithinTheToleranceIsScaledOut) {
  std::vector<Repetition> first = clean(9), second = clean(9);
  for (Repetition& r : second) {
    r.seconds *= 1.04;
    r.canary_ratio *= 1.04;
  }
  const Estimate a = estimate(first, {}), b = estimate(second, {});
  EXPECT_EQ(b.rejected, 0);
  EXPECT_NEAR(b.seconds / a.seconds, 1.0, 0.005);
  EXPECT_NEAR(b.lived_seconds / a.lived_seconds, 1.04, 0.005);  // what the run lived through
}

TEST(Protocol, WithoutRejectionEveryRepetitionCounts) {
  std::vector<Repetition> r = clean(20);
  for (int i = 4; i < 16; ++i) r[static_cast<std::size_t>(i)] = {2.7 * kTrue, 1.6};
  const Estimate e = estimate(r, {.reject = false, .normalise = false});
  EXPECT_EQ(e.rejected, 0);
  EXPECT_GT(e.seconds, 2 * kTrue);  // the protocol before this one: the phase is the answer
}

// A row that never met the machine at its own speed still gets a time, from its least slowed
// repetitions, and is never called converged.
TEST(Protocol, AllSlowedFallsBackToTheLeastSlowedAndNeverConverges) {
  std::vector<Repetition> r;
  for (int i = 0; i < 10; ++i) r.push_back({(i % 2 ? 2.6 : 1.3) * kTrue, i % 2 ? 1.8 : 1.3});
  const Estimate e = estimate(r, {});
  EXPECT_EQ(e.kept, 0);
  EXPECT_NEAR(e.seconds, 1.3 * kTrue, 1e-12);
  EXPECT_FALSE(e.converged);
}

TEST(Protocol, EstimateIsDeterministic) {
  std::vector<Repetition> r;
  for (int i = 0; i < 9; ++i) r.push_back({kTrue * (1 + jitter(i, 0.08)), 1.0});
  const Estimate a = estimate(r, {}), b = estimate(r, {});
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  EXPECT_LT(a.lo, a.hi);
}

TEST(Protocol, EmptySeriesGivesNoTime) {
  const Estimate e = estimate(std::vector<Repetition>{}, {});
  EXPECT_EQ(e.seconds, 0);
  EXPECT_FALSE(e.converged);
}

}  // namespace
}  // namespace roofbench
