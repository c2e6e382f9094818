// The CSV of `run` and `predict` (design.md, "Command line"): the contract columns first, in
// their order, then roofbench's additions. Written to a temporary file and renamed, so a
// reader never sees half a file.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/core/text_file.h"  // check_writable: callers check the CSV path before timing
#include "predictor/roofline.h"      // kAboveRoofTolerance

namespace roofbench {

struct CsvRow {
  // contract columns
  std::string op, impl, dtype;
  int threads = 1;
  long long batch = 1;
  std::string shape;  // the descriptor as in the shape file (batch not applied)
  long long ops = 0, bytes = 0;
  std::optional<double> measured_s, predicted_s;  // empty cells when absent
  std::string bound;
  // additions
  std::string variant;         // registry variant that ran, e.g. gemm_f32_6x16__avx2_fma
  int repetitions = 0;         // timed repetitions behind measured_s
  std::optional<double> cv;    // coefficient of variation of the repetitions (stddev / mean)
  bool noisy = false;          // cv above --noise-threshold: the median is less certain than usual
  std::string status;          // ok, or why there is no time (mismatch against naive, error)
  std::string cache = "warm";  // warm or cold operands (--cache)
  // the prediction behind predicted_s (predictor/roofline.h); empty cells without a profile
  std::optional<double> classic_s;  // classic roofline: max(ops / peak, bytes / bandwidth)
  std::string classic_bound;
  std::optional<double> t_compute_s, t_memory_s, overhead_s;  // the terms of predicted_s
  std::string level;                                          // memory level holding the working set
  std::string model;                                          // "fitted", or "classic" when the profile has no fit
  // achieved ops/s over the dtype's calibrated peak at these threads (predictor/roofline.h
  // machine_peak); empty without a profile, a peak or a time. Written as roof_ratio, and as
  // above_roof = yes/no against kAboveRoofTolerance.
  std::optional<double> roof_ratio;
  // Medians of the first and the last half of the repetitions, in the order they were taken
  // (the middle one of an odd count left out): `evaluate` scores one against the other as the
  // run's own noise floor. Empty with fewer than 2 repetitions.
  std::optional<double> measured_first_s, measured_second_s;
  // The measurement protocol (benchmarks/protocol.h): measured_s is the least kept repetition;
  // the least and third-least kept (the floor's spread); repetitions rejected (the canary
  // around them ran slow, or others took the CPU); whether the floor was met three times within
  // ±2% before the cap; what the run lived through (median of every repetition) and its ratio.
  std::optional<double> measured_lo_s, measured_hi_s;
  int repetitions_rejected = 0;
  bool converged = false;
  std::optional<double> lived_s, slowdown;
};

// The two halves of a row's repetitions (CsvRow::measured_first_s, measured_second_s).
std::pair<std::optional<double>, std::optional<double>> half_medians(const std::vector<double>& seconds);

bool above_roof(const CsvRow& r);  // roof_ratio > 1 + kAboveRoofTolerance

extern const char* const kCsvHeader;

std::string csv_line(const CsvRow& r);
void write_csv(const std::string& path, const std::vector<CsvRow>& rows);  // throws on I/O error

}  // namespace roofbench
