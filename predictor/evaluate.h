// How good the predictions in a run CSV are, for the fitted and the classic roofline side by
// side (`roofbench evaluate`, benchmarks/commands/evaluate.h). The pieces below are pure (text
// in, numbers out) so the tests can check them without files.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roofbench {

// One CSV record and the (1-based) line it starts on, for file:line messages.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

// RFC 4180: quoted fields with "" escapes and embedded commas or newlines, CRLF or LF, optional
// trailing newline; blank lines are skipped. `name` prefixes error messages.
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& name);

// A row that has both a measurement and a prediction.
struct ScoredRow {
  int line = 0;
  std::string op, impl, dtype;
  int threads = 0;
  long long batch = 0;
  std::string shape;
  double measured_s = 0, predicted_s = 0;
  std::optional<double> classic_s;  // absent: the row counts for the fitted scores only
  std::optional<double> cv;
  std::string model, bound, level;  // empty when the column is absent
  std::string cache;                // warm or cold; empty (warm) when the column is absent
  // The measurement against itself: medians of the first and the second half of the
  // repetitions (columns measured_first_s, measured_second_s), and the same row's measured_s in
  // a second run (evaluate --repeat). Absent when the CSV or the run lacks them.
  std::optional<double> first_s, second_s, repeat_s;

  double fitted_error() const { return predicted_s / measured_s - 1; }
  std::optional<double> halves_error() const {
    return first_s && second_s && *first_s > 0 ? std::optional<double>(*second_s / *first_s - 1) : std::nullopt;
  }
  std::optional<double> repeat_error() const {
    return repeat_s ? std::optional<double>(*repeat_s / measured_s - 1) : std::nullopt;
  }
  std::optional<double> classic_error() const {
    return classic_s ? std::optional<double>(*classic_s / measured_s - 1) : std::nullopt;
  }
};

// Rows of one (impl, dtype) held to their dtype's calibrated peak by `roofbench run` (columns
// above_roof and roof_ratio): how many had a roof, how many beat it by more than the tolerance
// (a calibration bug), and the highest achieved/peak ratio among them.
struct RoofCount {
  int rows = 0;
  int above = 0;
  std::optional<double> worst_ratio;  // absent when the CSV has no roof_ratio column
  bool operator==(const RoofCount&) const = default;
};

struct EvaluationInput {
  std::vector<ScoredRow> rows;
  // Per (impl, dtype), over every ok row with an above_roof cell; empty for a CSV written before
  // the column existed.
  std::map<std::pair<std::string, std::string>, RoofCount> roofs;
  int skipped_failed = 0;         // status other than "ok"
  int skipped_no_measured = 0;    // status ok but measured_s empty or not positive
  int skipped_no_prediction = 0;  // measured, but predicted_s empty or not positive
  int skipped() const { return skipped_failed + skipped_no_measured + skipped_no_prediction; }
};

// Reads a run CSV's text: columns by header name, every numeric cell checked. Throws
// std::runtime_error (one line, "name:line: ..." for a bad row) on malformed input or when no
// row can be scored.
// With predictions_required false (evaluate --profile), a measured row without predicted_s is
// kept with predicted_s 0, for repredict to fill.
EvaluationInput read_evaluation(std::string_view text, const std::string& name, bool predictions_required = true);

// Every row predicted again from `p` (predictor/roofline.h predict(), as `run --profile` does):
// predicted_s, classic_s, bound, level and model replaced. Throws std::runtime_error naming
// the CSV line of a row whose shape, impl or dtype does not parse, or whose figures the profile
// lacks.
struct Profile;
void repredict(EvaluationInput& in, const Profile& p, const std::string& name);

// Scores of one model over a set of rows; errors are predicted / measured - 1.
struct Score {
  std::size_t rows = 0;
  double mape_pct = 0;        // mean |error|, %
  double median_ape_pct = 0;  // median |error|, %
  double within_10_pct = 0;   // share of rows with |error| <= 10 %, in %
  double within_25_pct = 0;   // share of rows with |error| <= 25 %, in %
  double bias_pct = 0;        // mean signed error, %: positive = predicts too slow
};

Score score_errors(std::span<const double> errors);

// A group of rows and both models' scores, beside the measurement's agreement with itself
// (the noise floor: the "error" of the second half of the repetitions against the first, and
// of a second run against this one; rows 0 when the CSV has no halves or no --repeat was given).
// An empty field means "all" (the overall group has op, impl, dtype empty); threads == 0 means
// every thread count.
struct GroupScore {
  std::string op, impl, dtype;
  int threads = 0;
  Score fitted, classic, halves, repeat;
};

// The share of rows within 10 % that the floor must reach before a prediction's ±10 % score can
// be judged on this machine: below it, the machine disagrees with itself more often than the
// prediction is allowed to.
inline constexpr double kJudgeableWithin10Pct = 90;

// The floor of a group: the two runs when there are (a second run sees every disturbance a
// user's run would), else the two halves of one run; nullptr when neither was measured.
const Score* noise_floor(const GroupScore& g);

// measured_s of a second run CSV, matched to `in`'s rows by (op, impl, dtype, threads, batch,
// shape); returns how many rows found their match. Throws like read_evaluation on a bad file.
std::size_t attach_repeat(EvaluationInput& in, std::string_view text, const std::string& name);

// The overall group first, then per (op, impl, dtype), then per (op, impl, dtype, threads)
// when the rows hold more than one thread count; each level sorted by its key.
std::vector<GroupScore> group_scores(std::span<const ScoredRow> rows);

}  // namespace roofbench
