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
  for (int i = 0; i < n; ++i) r.push_back({kTrue * (1 + jitter(i, amplitude)), 1 + jitter(i + 7, 0.05)});
  return r;
}

void append(std::vector<Repetition>& to, const std::vector<Repetition>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

// A first round of 5 that the rejection throws out entirely: the row is not done, gets another
// round, and a clean one gives the true floor.
void expect_rejected_then_retaken(std::vector<Repetition> r) {
  ASSERT_EQ(r.size(), 5u);
  Estimate e = estimate(r, {});
  EXPECT_EQ(e.rejected, 5);
  EXPECT_FALSE(e.converged);
  append(r, clean(repetitions_to_add(e, 5, 5, 15, {})));
  e = estimate(r, {});
  EXPECT_TRUE(e.converged);
  EXPECT_NEAR(e.seconds, kTrue, 0.002 * kTrue);
}

TEST(Protocol, CleanSeriesConvergesOnItsFloorWithNothingRejected) {
  const Estimate e = estimate(clean(10), {});
  EXPECT_EQ(e.rejected, 0);
  EXPECT_EQ(e.kept, 10);
  EXPECT_TRUE(e.converged);
  EXPECT_NEAR(e.seconds, kTrue, 0.002 * kTrue);
  EXPECT_EQ(e.lo, e.seconds);
  EXPECT_GE(e.hi, e.seconds);
  EXPECT_LT(e.hi, 1.01 * kTrue);
  EXPECT_GE(e.slowdown, 1.0);
  EXPECT_EQ(repetitions_to_add(e, 10, 5, 15, {}), 0);
}

// One round whose floor looks met is not enough: the whole machine ran 8% slow for the first
// round's moment (within the canary's tolerance, so nothing was rejected), and five repetitions
// agreed with each other there. The row gets a second round, which finds the floor.
TEST(Protocol, OneRoundThatAgreesWithItselfIsNotEnough) {
  std::vector<Repetition> r;
  for (int i = 0; i < 5; ++i) r.push_back({1.08 * kTrue * (1 + jitter(i, 0.01)), 1.08});
  Estimate e = estimate(r, {});
  EXPECT_EQ(e.rejected, 0);
  EXPECT_FALSE(e.converged);
  EXPECT_EQ(repetitions_to_add(e, 5, 5, 15, {}), 5);
  append(r, clean(5));
  e = estimate(r, {});
  EXPECT_TRUE(e.converged);
  EXPECT_NEAR(e.seconds, kTrue, 0.002 * kTrue);
}

// A slow phase (docs/noise.md): the row's whole first round fell in one — the kernel 2.7x
// slow with a small spread, the canary 1.6x. Its floor there looks converged; the canary says
// it is not the machine's own speed, so the row is timed again, and the retakes find the floor.
TEST(Protocol, SlowPhaseIsRejectedByTheCanaryAndRetaken) {
  std::vector<Repetition> r;
  for (int i = 0; i < 5; ++i) r.push_back({2.7 * kTrue * (1 + jitter(i, 0.01)), 1.6});
  Estimate e = estimate(r, {});
  EXPECT_EQ(e.rejected, 5);
  EXPECT_EQ(e.kept, 0);
  EXPECT_FALSE(e.converged);
  EXPECT_NEAR(e.seconds, 2.7 * kTrue, 0.01 * kTrue);  // the least slowed stand in meanwhile
  const int more = repetitions_to_add(e, 5, 5, 15, {});
  EXPECT_EQ(more, 10);  // enough for min_kept
  append(r, clean(more));
  e = estimate(r, {});
  EXPECT_TRUE(e.converged);
  EXPECT_NEAR(e.seconds, kTrue, 0.002 * kTrue);
  EXPECT_EQ(e.rejected, 5);
  EXPECT_GT(e.slowdown, 1.0);  // what the run lived through: the phase, a third of its repetitions
}

// A steal burst, or a neighbour on a vCPU: the first round's repetitions all lost a third of
// their time while others took 40% of the machine; the canaries around them looked normal.
TEST(Protocol, StealBurstIsRejectedByTheOthersShareAndRetaken) {
  std::vector<Repetition> r;
  for (int i = 0; i < 5; ++i) r.push_back({1.5 * kTrue * (1 + jitter(i, 0.01)), 1.02, 0.4});
  expect_rejected_then_retaken(r);
}

// A drifting clock (or a machine slowing steadily): every repetition 3% longer than the one
// before, the canary drifting with it. The floor is never met again, so the row is not called
// done however many repetitions it gets; the cap ends it, and the row says it never converged.
TEST(Protocol, DriftingClockIsNeverCalledConverged) {
  std::vector<Repetition> r;
  for (int i = 0; i < 15; ++i) r.push_back({kTrue * (1 + 0.03 * i), 1 + 0.03 * i});
  const Estimate e = estimate(r, {});
  EXPECT_EQ(e.rejected, 6);  // canary ratios 1.27 to 1.42
  EXPECT_FALSE(e.converged);
  EXPECT_GT(repetitions_to_add(e, 15, 5, 30, {}), 0);
  EXPECT_EQ(repetitions_to_add(e, 30, 5, 30, {}), 0);  // the cap ends it
  EXPECT_NEAR(e.seconds, kTrue, 1e-12);
}

TEST(Protocol, NoisySeriesNeedsMoreRepetitionsUpToTheCap) {
  std::vector<Repetition> r;
  for (int i = 0; i < 5; ++i) r.push_back({kTrue * (1 + jitter(i, 0.3)), 1.0});
  const Estimate e = estimate(r, {});
  EXPECT_FALSE(e.converged);
  EXPECT_EQ(repetitions_to_add(e, 5, 5, 15, {}), 5);
  EXPECT_EQ(repetitions_to_add(e, 13, 5, 15, {}), 2);
}

// A neighbour on one vCPU in short bursts: /proc/stat's ticks missed it (others 0-7%), the
// canaries around the repetitions were quiet, but one of the kernel's threads waited for its
// vCPU 10-15% of each of the first round's repetitions, and they ran that much longer.
TEST(Protocol, ThreadThatWaitedForItsVcpuIsRejectedAndRetaken) {
  std::vector<Repetition> r;
  for (int i = 0; i < 5; ++i)
    r.push_back({1.15 * kTrue * (1 + jitter(i, 0.01)), 1.02, 0.07 * (i % 2), 0.10 + 0.01 * i});
  expect_rejected_then_retaken(r);
}

TEST(Protocol, RejectionSaysWhy) {
  EXPECT_EQ(rejection({kTrue, 1.6, 0.0}, {}), "canary");
  EXPECT_EQ(rejection({kTrue, 1.0, 0.5}, {}), "others");
  EXPECT_EQ(rejection({kTrue, 1.0, 0.0, 0.08}, {}), "waited");
  EXPECT_EQ(rejection({kTrue, 1.0, 0.0, 0.03}, {}), "");
  EXPECT_EQ(rejection({kTrue, 1.1, 0.05}, {}), "");
  EXPECT_EQ(rejection({kTrue, 1.6, 0.5}, {.reject = false}), "");
}

TEST(Protocol, WithoutRejectionEveryRepetitionCounts) {
  std::vector<Repetition> r;
  for (int i = 0; i < 10; ++i) r.push_back({2.7 * kTrue * (1 + jitter(i, 0.01)), 1.6});
  const Estimate e = estimate(r, {.reject = false});
  EXPECT_EQ(e.rejected, 0);
  EXPECT_TRUE(e.converged);  // the protocol before this one: the phase is the answer
  EXPECT_GT(e.seconds, 2 * kTrue);
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

TEST(Protocol, EmptySeriesGivesNoTime) {
  const Estimate e = estimate(std::vector<Repetition>{}, {});
  EXPECT_EQ(e.seconds, 0);
  EXPECT_FALSE(e.converged);
}

}  // namespace
}  // namespace roofbench
