#include "predictor/evaluate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "kernels/core/shape_file.h"
#include "kernels/core/text_file.h"
#include "kernels/core/shape.h"
#include "predictor/csv_schema.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"

namespace roofbench {

namespace fs = std::filesystem;

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

namespace {

std::string read_text(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw std::runtime_error(fmt::format("{}: no such file", path));
  if (fs::is_directory(st)) throw std::runtime_error(fmt::format("{}: is a directory, not a CSV file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open for reading", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("{}: read error", path));
  return ss.str();
}

void write_scores_csv(const std::string& path, std::span<const GroupScore> groups) {
  std::string text = "op,impl,dtype,threads,model,rows,mape_pct,median_ape_pct,within_10_pct,within_25_pct,bias_pct\n";
  const auto out = std::back_inserter(text);
  const auto all = [](const std::string& s) { return s.empty() ? std::string("all") : csv_field(s); };
  for (const GroupScore& g : groups) {
    // halves and repeat: the measurement scored against itself (the noise floor), as if a prediction.
    for (const auto& [model, s] : {std::pair{"fitted", &g.fitted}, std::pair{"classic", &g.classic},
                                   std::pair{"halves", &g.halves}, std::pair{"repeat", &g.repeat}}) {
      if (s->rows == 0 && (model == std::string_view("halves") || model == std::string_view("repeat"))) continue;
      fmt::format_to(out, "{},{},{},{},{},{}", all(g.op), all(g.impl), all(g.dtype),
                     g.threads ? std::to_string(g.threads) : "all", model, s->rows);
      // No rows (no classic_s anywhere in the group): empty cells, the run CSV's "absent".
      if (s->rows == 0)
        text += ",,,,,\n";
      else
        fmt::format_to(out, ",{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", s->mape_pct, s->median_ape_pct, s->within_10_pct,
                       s->within_25_pct, s->bias_pct);
    }
  }
  write_text_atomically(path, text);
}

std::string seconds(double s) {
  // The unit is picked on the rounded figure, so 0.99997 s reads "1.000 s" and not "1000. ms".
  const auto at_least = [&](double scale) { return s >= scale * (1 - 5e-5); };
  if (at_least(1)) return fmt::format("{:#.4g} s", s);
  if (at_least(1e-3)) return fmt::format("{:#.4g} ms", s * 1e3);
  if (at_least(1e-6)) return fmt::format("{:#.4g} us", s * 1e6);
  return fmt::format("{:#.4g} ns", s * 1e9);
}

std::string group_label(const GroupScore& g) {
  if (g.op.empty()) return "all";
  const std::string kernel = fmt::format("{} {} {}", g.op, g.impl, g.dtype);
  return g.threads ? fmt::format("{}, {} thr", kernel, g.threads) : kernel;
}

std::string score_cells(const Score& s) {
  if (s.rows == 0) return fmt::format("{:>5} {:>7} {:>7} {:>7} {:>7} {:>7}", 0, "-", "-", "-", "-", "-");
  return fmt::format("{:>5} {:>7.1f} {:>7.1f} {:>7.1f} {:>7.1f} {:>+7.1f}", s.rows, s.mape_pct, s.median_ape_pct,
                     s.within_10_pct, s.within_25_pct, s.bias_pct);
}

void print_scores(std::span<const GroupScore> groups) {
  std::size_t width = 5;
  for (const GroupScore& g : groups) width = std::max(width, group_label(g).size());
  const std::string block =
      fmt::format("{:>5} {:>7} {:>7} {:>7} {:>7} {:>7}", "rows", "MAPE%", "median%", "<=10%", "<=25%", "bias%");
  fmt::print("{:<{}}   {:<{}}   {}\n", "", width, "fitted (predicted_s)", block.size(), "classic roofline (classic_s)");
  fmt::print("{:<{}}   {}   {}\n", "group", width, block, block);
  bool kernels = false, threads = false;
  for (const GroupScore& g : groups) {
    // A blank line between the overall row, the per-kernel rows and the per-thread-count rows.
    if ((!g.op.empty() && !kernels) || (g.threads && !threads)) fmt::print("\n");
    kernels = kernels || !g.op.empty();
    threads = threads || g.threads;
    fmt::print("{:<{}}   {}   {}\n", group_label(g), width, score_cells(g.fitted), score_cells(g.classic));
  }
}

// The measurement's agreement with itself per group, beside the fitted score: a prediction can
// be judged to ±10 % only where the machine repeats itself to ±10 % on nearly every row.
void print_floor(std::span<const GroupScore> groups) {
  const bool halves = std::any_of(groups.begin(), groups.end(), [](const GroupScore& g) { return g.halves.rows > 0; });
  const bool repeat = std::any_of(groups.begin(), groups.end(), [](const GroupScore& g) { return g.repeat.rows > 0; });
  if (!halves && !repeat) {
    fmt::print(
        "\nnoise floor: not measured (this CSV has no measured_first_s/measured_second_s columns and no --repeat "
        "run was given): the scores above cannot be told from the machine's own noise\n");
    return;
  }
  std::size_t width = 5;
  for (const GroupScore& g : groups) width = std::max(width, group_label(g).size());
  fmt::print("\nnoise floor: the measurement against itself (error = second / first - 1){}{}\n",
             halves ? "; halves: the last half of each row's repetitions against the first" : "",
             repeat ? "; runs: the --repeat run against this one" : "");
  const auto cells = [](const Score& s) {
    return s.rows ? fmt::format("{:>5} {:>7.1f} {:>7.1f}", s.rows, s.median_ape_pct, s.within_10_pct)
                  : fmt::format("{:>5} {:>7} {:>7}", 0, "-", "-");
  };
  fmt::print("{:<{}}   {:<21}   {:<21}   {:>7} {:>9}\n", "", width, "halves", "runs", "fitted", "fitted /");
  fmt::print("{:<{}}   {:>5} {:>7} {:>7}   {:>5} {:>7} {:>7}   {:>7} {:>9}\n", "group", width, "rows", "median%",
             "<=10%", "rows", "median%", "<=10%", "<=10%", "floor");
  bool kernels = false, threads = false;
  for (const GroupScore& g : groups) {
    if ((!g.op.empty() && !kernels) || (g.threads && !threads)) fmt::print("\n");
    kernels = kernels || !g.op.empty();
    threads = threads || g.threads;
    const Score* floor = noise_floor(g);
    fmt::print("{:<{}}   {}   {}   {:>7.1f} {:>9}\n", group_label(g), width, cells(g.halves), cells(g.repeat),
               g.fitted.within_10_pct,
               floor && floor->within_10_pct > 0 ? fmt::format("{:.2f}", g.fitted.within_10_pct / floor->within_10_pct)
                                                 : std::string("-"));
  }
  const Score* floor = noise_floor(groups.front());
  if (!floor) return;
  const char* what = floor == &groups.front().repeat ? "two runs" : "two halves of one run";
  if (floor->within_10_pct < kJudgeableWithin10Pct)
    fmt::print(
        "verdict: the machine repeats itself within 10% on only {:.1f}% of rows ({}), below {:.0f}%: too noisy "
        "for a 10% prediction score to mean anything here; fitted reaches {:.1f}% ({:.2f} of the floor)\n",
        floor->within_10_pct, what, kJudgeableWithin10Pct, groups.front().fitted.within_10_pct,
        floor->within_10_pct > 0 ? groups.front().fitted.within_10_pct / floor->within_10_pct : 0.0);
  else
    fmt::print(
        "verdict: the machine repeats itself within 10% on {:.1f}% of rows ({}): the prediction scores above "
        "can be judged; fitted reaches {:.1f}% within 10% ({:.2f} of the floor)\n",
        floor->within_10_pct, what, groups.front().fitted.within_10_pct,
        groups.front().fitted.within_10_pct / floor->within_10_pct);
}

// Rows that beat their dtype's calibrated peak, per (impl, dtype): a profile whose roof does not
// hold makes every prediction from it suspect, so they are counted before the worst rows.
void print_roofs(const std::map<std::pair<std::string, std::string>, RoofCount>& roofs) {
  if (roofs.empty()) return;  // a CSV from before the above_roof column, or run without --profile
  int rows = 0, above = 0;
  for (const auto& [key, c] : roofs) {
    rows += c.rows;
    above += c.above;
  }
  fmt::print(
      "\nrows above the roof (achieved ops/s more than {:.0f}% over the dtype's calibrated peak, column "
      "above_roof): {} of {}{}\n",
      100 * kAboveRoofTolerance, above, rows, above ? ": a calibration bug, the peaks do not bound these kernels" : "");
  for (const auto& [key, c] : roofs)
    fmt::print("  {:<8} {:<5} {:>5} of {:>5} rows{}\n", key.first, key.second, c.above, c.rows,
               c.worst_ratio ? fmt::format("   highest achieved/peak {:.2f}", *c.worst_ratio) : std::string());
}

void print_worst(std::span<const ScoredRow> rows, int worst) {
  std::vector<const ScoredRow*> order;
  for (const ScoredRow& r : rows) order.push_back(&r);
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(worst), order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
      [](const ScoredRow* a, const ScoredRow* b) { return std::abs(a->fitted_error()) > std::abs(b->fitted_error()); });
  order.resize(n);

  std::size_t w_op = 2, w_impl = 4, w_dtype = 5, w_where = 11;
  const auto where = [](const ScoredRow& r) {
    if (r.level.empty() || r.level == r.bound) return r.bound.empty() ? std::string("-") : r.bound;
    return fmt::format("{}/{}", r.bound.empty() ? "-" : r.bound, r.level);
  };
  for (const ScoredRow* r : order) {
    w_op = std::max(w_op, r->op.size());
    w_impl = std::max(w_impl, r->impl.size());
    w_dtype = std::max(w_dtype, r->dtype.size());
    w_where = std::max(w_where, where(*r).size());
  }
  // The shape goes last: descriptors are long and would push every other column off-screen.
  fmt::print("\nworst {} row{} by |fitted error|\n", n, n == 1 ? "" : "s");
  fmt::print("{:<{}}  {:<{}}  {:<{}}  {:>7}  {:>5}  {:>10}  {:>10}  {:>8}  {:>10}  {:>8}  {:>6}  {:<{}}  {}\n", "op",
             w_op, "impl", w_impl, "dtype", w_dtype, "threads", "batch", "measured", "predicted", "error", "classic",
             "error", "cv", "bound/level", w_where, "shape");
  for (const ScoredRow* r : order) {
    const auto ce = r->classic_error();
    fmt::print("{:<{}}  {:<{}}  {:<{}}  {:>7}  {:>5}  {:>10}  {:>10}  {:>8}  {:>10}  {:>8}  {:>6}  {:<{}}  {}\n", r->op,
               w_op, r->impl, w_impl, r->dtype, w_dtype, r->threads, r->batch, seconds(r->measured_s),
               seconds(r->predicted_s), fmt::format("{:+.1f}%", 100 * r->fitted_error()),
               r->classic_s ? seconds(*r->classic_s) : "-", ce ? fmt::format("{:+.1f}%", 100 * *ce) : "-",
               r->cv ? fmt::format("{:.1f}%", 100 * *r->cv) : "-", where(*r), w_where, r->shape);
  }
}

}  // namespace

int evaluate_command(const EvaluateOptions& opt) {
  if (!opt.out_csv.empty()) check_writable(opt.out_csv);  // before the input is read: a typo in --csv costs nothing
  EvaluationInput in = read_evaluation(read_text(opt.csv), opt.csv, opt.profile.empty());
  if (!opt.profile.empty()) repredict(in, read_profile(opt.profile), opt.csv);
  std::size_t matched = 0;
  if (!opt.repeat.empty()) {
    matched = attach_repeat(in, read_text(opt.repeat), opt.repeat);
    if (matched == 0)
      throw std::runtime_error(
          fmt::format("{}: no row matches a scored row of {} (same op, impl, dtype, threads, batch "
                      "and shape): not a second run of the same rows",
                      opt.repeat, opt.csv));
  }
  const std::vector<GroupScore> groups = group_scores(in.rows);

  std::vector<std::string> reasons;
  if (in.skipped_failed) reasons.push_back(fmt::format("{} with status other than ok", in.skipped_failed));
  if (in.skipped_no_measured) reasons.push_back(fmt::format("{} without measured_s", in.skipped_no_measured));
  if (in.skipped_no_prediction) reasons.push_back(fmt::format("{} without predicted_s", in.skipped_no_prediction));
  fmt::print("{}: scored {} row{}, skipped {}{}\n", opt.csv, in.rows.size(), in.rows.size() == 1 ? "" : "s",
             in.skipped(), reasons.empty() ? "" : fmt::format(" ({})", fmt::join(reasons, ", ")));
  if (!opt.profile.empty()) fmt::print("predictions: made again from {}, not the CSV's\n", opt.profile);
  const auto unfitted =
      std::count_if(in.rows.begin(), in.rows.end(), [](const ScoredRow& r) { return r.model == "classic"; });
  if (unfitted)
    fmt::print(
        "note: {} scored row{} had no fit in the profile (model=classic): there predicted_s is the classic "
        "roofline\n",
        unfitted, unfitted == 1 ? "" : "s");
  fmt::print(
      "error = predicted / measured - 1, in %; bias > 0: predicts too slow; <=10%: share of rows within 10 %\n\n");
  if (!opt.repeat.empty())
    fmt::print("{}: {} of the {} scored rows matched for the noise floor\n", opt.repeat, matched, in.rows.size());
  print_scores(groups);
  print_floor(groups);
  print_roofs(in.roofs);
  if (opt.worst > 0) print_worst(in.rows, opt.worst);
  if (!opt.out_csv.empty()) {
    write_scores_csv(opt.out_csv, groups);
    fmt::print("\nscores written to {}\n", opt.out_csv);
  }
  return 0;
}

}  // namespace roofbench
