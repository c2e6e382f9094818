#include "predictor/evaluate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <map>
#include <numeric>
#include <stdexcept>
#include <tuple>

#include "kernels/core/shape_file.h"
#include "kernels/core/text_file.h"
#include "kernels/core/shape.h"
#include "predictor/csv_schema.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"

namespace roofbench {

namespace {

[[noreturn]] void fail_at(const std::string& name, int line, std::string_view what) {
  throw std::runtime_error(fmt::format("{}:{}: {}", name, line, what));
}

}  // namespace

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& name) {
  // Spreadsheets save CSV with a UTF-8 byte order mark; it would otherwise glue onto "op".
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRecord> out;
  const std::size_t n = text.size();
  std::size_t i = 0;
  int line = 1;
  while (i < n) {
    CsvRecord rec{line, {}};
    bool blank = true;
    for (;;) {
      std::string field;
      bool quoted = false;
      if (i < n && text[i] == '"') {
        quoted = true;
        const int start = line;
        for (++i;; ++i) {
          if (i == n) fail_at(name, start, "unterminated quoted field");
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              ++i;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i];
        }
      } else {
        for (; i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r'; ++i) {
          // A lone quote means the writer did not quote the field, so its commas cannot be trusted.
          if (text[i] == '"') fail_at(name, line, "quote inside an unquoted field");
          field += text[i];
        }
      }
      if (quoted || !field.empty()) blank = false;
      rec.fields.push_back(std::move(field));
      if (i == n) break;
      if (text[i] == ',') {
        blank = false;
        ++i;
        continue;
      }
      if (text[i] != '\r' && text[i] != '\n') fail_at(name, line, "text after a closing quote");
      if (text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') ++i;
      ++line;
      break;
    }
    if (!blank) out.push_back(std::move(rec));
  }
  return out;
}

namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Empty cells are "absent" (the writer's convention); anything else must be a finite number.
std::optional<double> number_cell(std::string_view cell, const std::string& name, int line, std::string_view column) {
  const std::string_view s = trimmed(cell);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v))
    fail_at(name, line, fmt::format("{}: '{}' is not a number", column, printable(cell)));
  // No time, rate or spread roofbench writes is negative: one that is means the file was edited.
  if (v < 0) fail_at(name, line, fmt::format("{}: {} is negative", column, printable(cell)));
  return v;
}

long long count_cell(std::string_view cell, const std::string& name, int line, std::string_view column) {
  const std::string_view s = trimmed(cell);
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < 1)
    fail_at(name, line, fmt::format("{}: '{}' is not a positive integer", column, printable(cell)));
  return v;
}

}  // namespace

namespace {

// A file's header, looked up by the schema's columns (predictor/csv_schema.h).
class Columns {
 public:
  explicit Columns(const std::vector<std::string>& header) : header_(header) {}
  std::optional<std::size_t> find(CsvCol c) const {
    const auto it = std::find(header_.begin(), header_.end(), csv_name(c));
    return it == header_.end() ? std::nullopt : std::optional<std::size_t>(it - header_.begin());
  }
  bool has(CsvCol c) const { return find(c).has_value(); }
  std::size_t size() const { return header_.size(); }

 private:
  const std::vector<std::string>& header_;
};

// The columns every row is read from; predicted_s and classic_s only when predictions are required.
void check_columns(const Columns& columns, const std::string& name, bool predictions_required) {
  std::vector<std::string_view> missing;
  for (const CsvCol c : {CsvCol::op, CsvCol::impl, CsvCol::dtype, CsvCol::threads, CsvCol::batch, CsvCol::shape,
                         CsvCol::measured_s, CsvCol::predicted_s, CsvCol::classic_s, CsvCol::status})
    if (!columns.has(c) && (predictions_required || (c != CsvCol::predicted_s && c != CsvCol::classic_s)))
      missing.push_back(csv_name(c));
  if (!missing.empty())
    throw std::runtime_error(fmt::format("{}: missing column{} {} (expected a CSV from `roofbench run --profile`)",
                                         name, missing.size() > 1 ? "s" : "", fmt::join(missing, ", ")));
}

// One data record's cells, by column; numeric cells checked and named by file and line.
struct Record {
  const Columns& columns;
  const CsvRecord& rec;
  const std::string& name;
  const std::string& cell(CsvCol c) const { return rec.fields[*columns.find(c)]; }
  std::string optional_cell(CsvCol c) const { return columns.has(c) ? cell(c) : std::string{}; }
  std::optional<double> number(CsvCol c) const { return number_cell(cell(c), name, rec.line, csv_name(c)); }
  std::optional<double> optional_number(CsvCol c) const { return columns.has(c) ? number(c) : std::nullopt; }
  long long count(CsvCol c) const { return count_cell(cell(c), name, rec.line, csv_name(c)); }
};

// The row's key and figures, measured_s and predicted_s apart: they decide whether the row is
// scored. Every numeric cell is checked, skipped rows too: a corrupt file should not pass as
// "skipped".
struct ReadRow {
  ScoredRow row;
  std::optional<double> measured, predicted;
};

ReadRow read_row(const Record& r) {
  ReadRow out;
  ScoredRow& row = out.row;
  row.line = r.rec.line;
  row.op = r.cell(CsvCol::op);
  row.impl = r.cell(CsvCol::impl);
  row.dtype = r.cell(CsvCol::dtype);
  const long long threads = r.count(CsvCol::threads);
  if (threads > 1 << 20) fail_at(r.name, r.rec.line, fmt::format("threads: {} is out of range", threads));
  row.threads = static_cast<int>(threads);
  row.batch = r.count(CsvCol::batch);
  row.shape = r.cell(CsvCol::shape);
  out.measured = r.number(CsvCol::measured_s);
  out.predicted = r.optional_number(CsvCol::predicted_s);
  row.classic_s = r.optional_number(CsvCol::classic_s);
  if (row.classic_s && *row.classic_s <= 0) row.classic_s.reset();
  if (r.columns.has(CsvCol::cv)) row.cv = r.number(CsvCol::cv);
  if (r.columns.has(CsvCol::measured_first_s) && r.columns.has(CsvCol::measured_second_s)) {
    row.first_s = r.number(CsvCol::measured_first_s);
    row.second_s = r.number(CsvCol::measured_second_s);
  }
  row.model = r.optional_cell(CsvCol::model);
  row.bound = r.optional_cell(CsvCol::bound);
  row.level = r.optional_cell(CsvCol::level);
  row.cache = r.optional_cell(CsvCol::cache);
  return out;
}

// Held to the roof by run: yes / no, empty without a peak. Checked on every row, counted on ok ones.
void count_roof(const Record& r, const ScoredRow& row, EvaluationInput& in) {
  const std::string above_cell = r.optional_cell(CsvCol::above_roof);
  const std::string_view above = trimmed(above_cell);
  if (above != "" && above != "yes" && above != "no")
    fail_at(r.name, r.rec.line, fmt::format("above_roof: '{}' is not yes, no or empty", printable(above_cell)));
  const std::optional<double> ratio = r.optional_number(CsvCol::roof_ratio);
  if (!above.empty() && trimmed(r.cell(CsvCol::status)) == "ok") {
    RoofCount& c = in.roofs[{row.impl, row.dtype}];
    ++c.rows;
    c.above += above == "yes";
    if (ratio) c.worst_ratio = std::max(c.worst_ratio.value_or(0), *ratio);
  }
}

}  // namespace

EvaluationInput read_evaluation(std::string_view text, const std::string& name, bool predictions_required) {
  const std::vector<CsvRecord> records = parse_csv(text, name);
  if (records.empty()) throw std::runtime_error(fmt::format("{}: file is empty", name));
  const Columns columns(records.front().fields);
  check_columns(columns, name, predictions_required);
  if (records.size() == 1) throw std::runtime_error(fmt::format("{}: has a header but no data rows", name));

  EvaluationInput in;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const CsvRecord& rec = records[i];
    if (rec.fields.size() != columns.size())
      fail_at(name, rec.line, fmt::format("{} fields, the header has {}", rec.fields.size(), columns.size()));
    const Record r{columns, rec, name};
    auto [row, measured, predicted] = read_row(r);
    count_roof(r, row, in);
    if (trimmed(r.cell(CsvCol::status)) != "ok") {
      ++in.skipped_failed;
    } else if (!measured || *measured <= 0) {
      ++in.skipped_no_measured;
    } else if (predictions_required && (!predicted || *predicted <= 0)) {
      ++in.skipped_no_prediction;
    } else {
      row.measured_s = *measured;
      row.predicted_s = predicted.value_or(0);
      in.rows.push_back(std::move(row));
    }
  }
  if (in.rows.empty())
    throw std::runtime_error(fmt::format("{}: {}", name,
                                         predictions_required
                                             ? "no row has both measured_s and predicted_s: run with --profile"
                                             : "no row has a measured_s"));
  return in;
}

void repredict(EvaluationInput& in, const Profile& p, const std::string& name) {
  for (ScoredRow& row : in.rows) {
    const auto impl = parse_impl(row.impl);
    const auto d = parse_dtype(row.dtype);
    if (!impl || !d)
      fail_at(name, row.line, fmt::format("unknown impl or dtype '{} {}'", printable(row.impl), printable(row.dtype)));
    Shape run;
    try {
      run = batched(parse_shape(row.shape), row.batch);
    } catch (const ShapeError& e) {
      fail_at(name, row.line, e.what());
    }
    try {
      const Prediction pr = predict(p, run, *impl, *d, row.threads, trimmed(row.cache) == "cold");
      row.predicted_s = pr.seconds;
      row.classic_s = pr.classic_s;
      row.bound = pr.bound;
      row.level = pr.level;
      row.model = pr.fitted ? "fitted" : "classic";
    } catch (const ProfileError& e) {
      fail_at(name, row.line, e.what());
    }
  }
}

Score score_errors(std::span<const double> errors) {
  Score s;
  s.rows = errors.size();
  if (errors.empty()) return s;
  std::vector<double> ape(errors.size());
  std::transform(errors.begin(), errors.end(), ape.begin(), [](double e) { return std::abs(e); });
  std::sort(ape.begin(), ape.end());
  const double rows = static_cast<double>(errors.size());
  const std::size_t mid = ape.size() / 2;
  s.mape_pct = 100 * std::accumulate(ape.begin(), ape.end(), 0.0) / rows;
  s.median_ape_pct = 100 * (ape.size() % 2 ? ape[mid] : (ape[mid - 1] + ape[mid]) / 2);
  // A prediction off by exactly 10 % computes as 0.10000000000000009; it belongs inside.
  const auto within = [&](double limit) {
    return 100 * static_cast<double>(std::upper_bound(ape.begin(), ape.end(), limit + 1e-12) - ape.begin()) / rows;
  };
  s.within_10_pct = within(0.10);
  s.within_25_pct = within(0.25);
  s.bias_pct = 100 * std::accumulate(errors.begin(), errors.end(), 0.0) / rows;
  return s;
}

std::size_t attach_repeat(EvaluationInput& in, std::string_view text, const std::string& name) {
  const std::vector<CsvRecord> records = parse_csv(text, name);
  if (records.empty()) throw std::runtime_error(fmt::format("{}: file is empty", name));
  const Columns columns(records.front().fields);
  for (const CsvCol c : {CsvCol::op, CsvCol::impl, CsvCol::dtype, CsvCol::threads, CsvCol::batch, CsvCol::shape,
                         CsvCol::measured_s, CsvCol::status})
    if (!columns.has(c))
      throw std::runtime_error(
          fmt::format("{}: missing column {} (expected a CSV from `roofbench run`)", name, csv_name(c)));
  using Key = std::tuple<std::string, std::string, std::string, long long, long long, std::string>;
  std::map<Key, double> measured;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const CsvRecord& rec = records[i];
    if (rec.fields.size() != columns.size())
      fail_at(name, rec.line, fmt::format("{} fields, the header has {}", rec.fields.size(), columns.size()));
    const Record r{columns, rec, name};
    const long long threads = r.count(CsvCol::threads);
    const long long batch = r.count(CsvCol::batch);
    const std::optional<double> m = r.number(CsvCol::measured_s);
    if (trimmed(r.cell(CsvCol::status)) == "ok" && m && *m > 0)
      measured[{r.cell(CsvCol::op), r.cell(CsvCol::impl), r.cell(CsvCol::dtype), threads, batch,
                r.cell(CsvCol::shape)}] = *m;
  }
  std::size_t matched = 0;
  for (ScoredRow& row : in.rows) {
    const auto it = measured.find({row.op, row.impl, row.dtype, row.threads, row.batch, row.shape});
    row.repeat_s.reset();
    if (it != measured.end()) {
      row.repeat_s = it->second;
      ++matched;
    }
  }
  return matched;
}

const Score* noise_floor(const GroupScore& g) {
  if (g.repeat.rows) return &g.repeat;
  if (g.halves.rows) return &g.halves;
  return nullptr;
}

std::vector<GroupScore> group_scores(std::span<const ScoredRow> rows) {
  using Key = std::tuple<std::string, std::string, std::string, int>;
  struct Errors {
    std::vector<double> fitted, classic, halves, repeat;
  };
  std::map<Key, Errors> all, by_kernel, by_threads;
  for (const ScoredRow& r : rows) {
    for (auto [groups, key] : {std::pair{&all, Key{}}, std::pair{&by_kernel, Key{r.op, r.impl, r.dtype, 0}},
                               std::pair{&by_threads, Key{r.op, r.impl, r.dtype, r.threads}}}) {
      Errors& e = (*groups)[key];
      e.fitted.push_back(r.fitted_error());
      if (const auto c = r.classic_error()) e.classic.push_back(*c);
      if (const auto h = r.halves_error()) e.halves.push_back(*h);
      if (const auto q = r.repeat_error()) e.repeat.push_back(*q);
    }
  }
  std::vector<GroupScore> out;
  const auto emit = [&](const std::map<Key, Errors>& groups) {
    for (const auto& [key, e] : groups)
      out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), score_errors(e.fitted),
                     score_errors(e.classic), score_errors(e.halves), score_errors(e.repeat)});
  };
  emit(all);
  emit(by_kernel);
  const bool several_thread_counts =
      std::any_of(rows.begin(), rows.end(), [&](const ScoredRow& r) { return r.threads != rows.front().threads; });
  if (several_thread_counts) emit(by_threads);
  return out;
}

}  // namespace roofbench
