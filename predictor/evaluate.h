// `roofbench evaluate RUN.csv`: how good the predictions in a run CSV are, for the fitted and
// the classic roofline side by side. The pieces below are pure (text in, numbers out) so the
// tests can check them without files.
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

struct EvaluateOptions {
  std::string csv;      // a CSV written by `roofbench run --profile`
  int worst = 5;        // rows listed as the worst predictions (by |fitted error|), overall
  std::string out_csv;  // optional: the per-group scores as CSV
};

int evaluate_command(const EvaluateOptions& opt);

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

  double fitted_error() const { return predicted_s / measured_s - 1; }
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
EvaluationInput read_evaluation(std::string_view text, const std::string& name);

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

// A group of rows and both models' scores. An empty field means "all" (the overall group has
// op, impl, dtype empty); threads == 0 means every thread count.
struct GroupScore {
  std::string op, impl, dtype;
  int threads = 0;
  Score fitted, classic;
};

// The overall group first, then per (op, impl, dtype), then per (op, impl, dtype, threads)
// when the rows hold more than one thread count; each level sorted by its key.
std::vector<GroupScore> group_scores(std::span<const ScoredRow> rows);

}  // namespace roofbench
