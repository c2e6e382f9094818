// The measurement protocol's rules, as pure functions of a row's repetitions: which repetitions
// count (rejection), what time a row reports (the estimator, with its confidence interval), and
// when a row has enough (the stopping rule). measure.cpp takes the repetitions; this file only
// judges them, so the rules are tested on synthetic series (tests/test_protocol.cpp).
//
// Why these rules (docs/noise.md has the measurements): on a shared VM the machine runs for
// seconds at a time up to ~3x slower with nothing reported as steal, and a whole repetition
// then sits inside the slow phase with a small spread — no statistic of the repetitions alone
// can tell it from the kernel. The canary (canary.h), timed on every thread before and after
// each repetition, moves with those phases. So:
//   - rejection: a repetition whose canary ran more than `canary_tolerance` slower than the
//     least canary seen at its thread count was taken in a slow phase, and one during which
//     other processes or the host took more than `others_tolerance` of the machine's CPU time
//     was disturbed; neither counts;
//   - estimator: the median of the repetitions kept (the contract's measured_s), each divided
//     by its canary ratio (the machine's speed then, against its own best), with a 95%
//     bootstrap interval;
//   - stopping: a row is done once it has `min_kept` kept repetitions and its interval is
//     within ±`target_halfwidth` of the estimate; else it gets more, up to a cap, interleaved
//     with every other unfinished row so a retake lands in another moment.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace roofbench {

struct Repetition {
  double seconds = 0;
  // The slower of the canaries around the repetition, over the least canary seen at its thread
  // count in the process (≥ 1); 1 when unknown (a repetition read back from a journal).
  double canary_ratio = 1;
  // The share of the machine's CPU time (all vCPUs) that other processes and the host (steal)
  // took while the repetition ran; 0 when unknown.
  double others = 0;
};

struct ProtocolRules {
  // Canary more than 25% over its best: a slowed repetition. On the Zen 4 guest, quiet, the
  // canary's ratio to its process best had quartiles 1.07 and 1.09 and a 90th percentile of
  // 1.12 (the best is a lucky minimum); the slow phases put it at 1.4-2.2.
  double canary_tolerance = 0.25;
  // Others took more than this share of the machine's CPU time: a disturbed repetition. Quiet,
  // the share's median was 0.5% and its 90th percentile 4.7% (one 10 ms tick of /proc/stat is
  // 10% of a 0.05 s repetition on 2 vCPUs); a neighbour's burst showed as 22-58%.
  double others_tolerance = 0.10;
  double target_halfwidth = 0.02;  // stop at a 95% interval within ±2% of the estimate
  int min_kept = 5;                // ... and at least this many kept repetitions
  int bootstrap_samples = 1000;
  bool reject = true;              // false: every repetition counts (the protocol before this)
  // Each kept repetition's time divided by its canary ratio: the time it would have taken at the
  // machine's own speed, as far as the canary tracks the kernel. Inside the tolerance the
  // machine still drifts by a few % between minutes (two runs of the held-out bf16 and i8 rows,
  // five minutes apart: every group 3-5% faster in the second), and the canary moves with it.
  bool normalise = true;
};

struct Estimate {
  // Median of the kept repetitions, each scaled by its canary (ProtocolRules::normalise). When
  // none was kept (the machine ran slow throughout), the median of those with the row's least
  // canary (within the tolerance), unscaled, and never converged.
  double seconds = 0;
  double lo = 0, hi = 0;      // its 95% bootstrap interval
  int kept = 0, rejected = 0;
  bool converged = false;     // the stopping rule's verdict
  // What the run lived through: the median of every repetition, kept or not, and its ratio to
  // the estimate (1: the machine ran at its own speed; 2.5: a slow phase stretched the row).
  double lived_seconds = 0;
  double slowdown = 1;
  double cv = 0;              // of the kept repetitions
};

bool slowed(const Repetition& r, const ProtocolRules& rules);
// The kept repetitions' times, in the order taken, each scaled by its canary when the rules
// normalise: what the estimate is the median of.
std::vector<double> kept_seconds(std::span<const Repetition> reps, const ProtocolRules& rules);

// Why a repetition does not count: "canary", "others", or "" when it counts.
std::string_view rejection(const Repetition& r, const ProtocolRules& rules);

// The row's estimate from every repetition taken so far, in the order taken. Deterministic:
// the bootstrap draws from a generator seeded by the repetitions' count.
Estimate estimate(std::span<const Repetition> reps, const ProtocolRules& rules);

// How many more repetitions the row should get in the next round: 0 when converged or when
// `taken` has reached `max_repetitions`; else enough to reach min_kept kept ones, and never
// fewer than `step` (a round's worth) nor past the cap.
int repetitions_to_add(const Estimate& e, int taken, int step, int max_repetitions, const ProtocolRules& rules);

}  // namespace roofbench
