// The columns of the CSV that `run` and `predict` write and `evaluate` reads (design.md,
// "Command line"): one table, so that the writer (benchmarks/csv.cpp) and the readers
// (predictor/evaluate.cpp, scripts/columns.py through the header the binary writes) cannot
// drift apart. The contract columns come first, in their order, then roofbench's additions; the
// contract changes only by extending, so new columns go at the end.
// It lives in the predictor, not beside the writer in benchmarks/: the predictor reads these
// files and must not depend on the timing code, while the benchmarks already link the predictor.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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

bool above_roof(const CsvRow& r);  // roof_ratio > 1 + kAboveRoofTolerance

// Every column, in the order written. A reader names a column by this enum, never by a string
// of its own, so a column it wants is one the writer writes.
enum class CsvCol : std::size_t {
  op,
  impl,
  dtype,
  threads,
  batch,
  shape,
  ops,
  bytes,
  measured_s,
  predicted_s,
  bound,
  variant,
  repetitions,
  cv,
  achieved_ops_per_s,
  achieved_bytes_per_s,
  intensity,
  status,
  cache,
  classic_s,
  classic_bound,
  t_compute_s,
  t_memory_s,
  overhead_s,
  level,
  model,
  measured_over_predicted,
  predicted_throughput_per_s,
  measured_throughput_per_s,
  predicted_ops_per_s,
  noisy,
  above_roof,
  roof_ratio,
  measured_first_s,
  measured_second_s,
  measured_lo_s,
  measured_hi_s,
  repetitions_rejected,
  converged,
  lived_s,
  slowdown,
};

struct CsvColumn {
  CsvCol id;
  const char* name;
  const char* meaning;                   // unit and meaning, for people reading the file
  std::string (*cell)(const CsvRow& r);  // the cell as written, already quoted where needed
};

std::span<const CsvColumn> csv_columns();  // in CsvCol order
std::string_view csv_name(CsvCol c);
const std::string& csv_header();  // the names joined by commas, no newline
std::string csv_line(const CsvRow& r);

}  // namespace roofbench
