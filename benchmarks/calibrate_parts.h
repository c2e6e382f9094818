// The pieces `roofbench calibrate` puts together (commands/calibrate.cpp): the machine's
// figures (calibrate_machine.cpp), the kernels' training sweep and fits (calibrate_training.cpp)
// and the text it prints (calibrate_report.cpp).
#pragma once

#include <chrono>
#include <cmath>

#include "benchmarks/calibrate.h"
#include "benchmarks/canary.h"
#include "benchmarks/journal.h"
#include "predictor/profile.h"

namespace roofbench {

using Clock = std::chrono::steady_clock;

struct Settings {
  double min_seconds;  // one timed repetition lasts at least this long
  int repetitions;     // best of these is the roof; the median gives the spread
  double size_step;    // geometric step of the working-set sweep
  // The measurement canary (canary.h), shared with the training sweep: before each figure the
  // calibration waits while it says the machine runs slow, so a peak or a bandwidth is not
  // the best of repetitions that all fell in a slow phase (they last seconds; a figure's
  // repetitions take a fraction of one).
  Canary* canary = nullptr;
};

inline Settings settings(bool quick, Canary* canary) {
  return quick ? Settings{0.004, 5, 2.0, canary} : Settings{0.02, 11, std::sqrt(2.0), canary};
}

inline constexpr const char* kNothingWritten =
    "no profile written: a partial calibration would mislead every prediction made from it";

// The doctor's probes, the clock and the first pass: everything but the kernels' training sweep
// and the second pass.
void measure_machine(Profile& profile, const CalibrateOptions& opt, const Settings& s);

// The second pass over the machine (calibrate.h keep_faster), after the training sweep: each
// figure keeps the better of its two measurements, and the profile lists what moved.
void measure_again(Profile& profile, const CalibrateOptions& opt, const Settings& s);

// Times the training sweep into profile.training (and the canary's bests into profile.canary);
// fit_training (predictor/fit.h) then fits them.
void fit_kernels(Profile& profile, const CalibrateOptions& opt, Journal* journal, Canary& canary);

// Every unit measured, with its ops per cycle, and the memory levels.
void print_summary(const Profile& p);

// One line per fit, every term with its unit.
void print_fits(const Profile& p);

}  // namespace roofbench
