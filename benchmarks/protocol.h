// The measurement protocol's rules, as pure functions of a row's repetitions: which repetitions
// count (rejection), what time a row reports (the estimator, with its spread), and when a row
// has enough (the stopping rule). measure.cpp takes the repetitions; this file only judges them,
// so the rules are tested on synthetic series (tests/test_protocol.cpp).
//
// Why these rules (docs/noise.md has the measurements): on a shared VM the machine runs for
// seconds at a time up to ~3x slower with nothing reported as steal, a whole repetition then
// sits inside the slow phase with a small spread, and between minutes the machine drifts by
// several % more. The canary (canary.h), timed on every thread before and after each
// repetition, moves with the slow phases; /proc/stat says when others took the CPU. So:
//   - rejection: a repetition whose canary ran more than `canary_tolerance` slower than the
//     least canary seen at its thread count was taken in a slow phase, and one during which
//     other processes or the host took more than `others_tolerance` of the machine's CPU time,
//     or while one of its threads waited for its vCPU more than `waited_tolerance` of the
//     repetition, was disturbed; none of them counts;
//   - estimator: the least of the kept repetitions — noise only ever adds time, so the floor
//     the kernel reaches is its time at the machine's own speed. Applied to the same
//     repetitions of eleven pairs of runs on the Zen 4 guest (held-out and unseen rows, f32 and
//     bf16+i8, 1 and 2 threads, two beside the noisy neighbour; docs/noise.md) it agreed within
//     5% on 68-95% of rows (mean 80%); the median of the kept on 21-87% (mean 64%), the lower
//     quartile on 25-92% (69%), the median scaled by each repetition's canary on 53-91% (77%);
//   - stopping: a row is done once it has `min_kept` kept repetitions and its floor was met
//     three times: the third-least kept repetition within ±`target_halfwidth` of the midpoint
//     between it and the least. Else it gets more, up to a cap, in a round interleaved with
//     every other unfinished row, so a retake lands in another moment. Ten, not five: the
//     least of a row's first k repetitions, in the same pairs of runs, agreed within 5% on
//     46-92% of rows at k = 5, 85-95% at k = 8, 89-95% at k = 10 and 91-95% at k = 15 (with the
//     profile's canary); five repetitions whose floor looked met ended rows in one moment's
//     speed (a landed pair with min_kept 5: 77%).
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace roofbench {

struct Repetition {
  double seconds = 0;
  // The slower of the canaries around the repetition, over the least canary seen at its thread
  // count (the profile's, or the process's); 1 when unknown (read back from an old journal).
  double canary_ratio = 1;
  // The share of the machine's CPU time (all vCPUs) that other processes and the host (steal)
  // took while the repetition ran; 0 when unknown.
  double others = 0;
  // The largest share of the repetition any of this process's threads spent runnable but
  // waiting for its vCPU while another task ran there (the kernel's run-queue delay, in ns);
  // 0 when unknown.
  double waited = 0;
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
  // One of the kernel's threads waited for its vCPU more than this share of the repetition: a
  // disturbed repetition. The others share above cannot see this: /proc/stat samples in 10 ms
  // ticks, and a neighbour taking 15% of one vCPU stretches a 2-thread kernel by up to 15%
  // (its threads meet at barriers) while being 7.5% of a 2-vCPU machine, under that tolerance,
  // or no tick at all. Quiet, the share's median was 0.16%, its 95th percentile 3.9%; beside the
  // noisy neighbour its 90th percentile was 51%. At 2% the rule cost 1-4 points of agreement
  // between runs (it rejected rows' fastest repetitions, a thread having waited at a barrier it
  // would have waited at anyway); at 5% agreement equals no rule's in six comparisons
  // (docs/noise.md), and the repetitions it rejects are the plainly disturbed ones.
  double waited_tolerance = 0.05;
  double target_halfwidth = 0.02;  // the floor met three times within ±2%
  int min_kept = 10;               // ... with at least this many kept repetitions (two rounds of 5)
  bool reject = true;              // false: every repetition counts (the protocol before this)
};

struct Estimate {
  // The least kept repetition. When none was kept (the machine ran slow throughout), the least
  // of those with the row's least canary (within the tolerance), and never converged.
  double seconds = 0;
  // The spread of the floor: the least and the third-least kept repetition (the second-least,
  // or the least, when fewer were kept).
  double lo = 0, hi = 0;
  int kept = 0, rejected = 0;
  bool converged = false;  // the stopping rule's verdict
  // What the run lived through: the median of every repetition, kept or not, and its ratio to
  // the estimate (1.1: a typical repetition ran 10% over the kernel's floor; 2.5: slow phases).
  double lived_seconds = 0;
  double slowdown = 1;
  double cv = 0;  // of the kept repetitions
};

double median(std::vector<double> v);                           // 0 for none
double coefficient_of_variation(const std::vector<double>& v);  // sample stddev / mean; 0 below 2 values

bool slowed(const Repetition& r, const ProtocolRules& rules);
// Why a repetition does not count: "canary", "others", "waited", or "" when it counts.
std::string_view rejection(const Repetition& r, const ProtocolRules& rules);

// The kept repetitions' times, in the order taken.
std::vector<double> kept_seconds(std::span<const Repetition> reps, const ProtocolRules& rules);

// The row's estimate from every repetition taken so far. Deterministic.
Estimate estimate(std::span<const Repetition> reps, const ProtocolRules& rules);

// How many more repetitions the row should get in the next round: 0 when converged or when
// `taken` has reached `max_repetitions`; else enough to reach min_kept kept ones, and never
// fewer than `step` (a round's worth) nor past the cap.
int repetitions_to_add(const Estimate& e, int taken, int step, int max_repetitions, const ProtocolRules& rules);

}  // namespace roofbench
