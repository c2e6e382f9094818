#include "benchmarks/evaluate_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "kernels/core/text_file.h"
#include "predictor/roofline.h"

namespace roofbench {

namespace fs = std::filesystem;

namespace {

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

}  // namespace

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

}  // namespace roofbench
