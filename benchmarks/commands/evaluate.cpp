#include "benchmarks/commands/evaluate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include "benchmarks/commands/command.h"
#include "benchmarks/evaluate_report.h"
#include "kernels/core/text_file.h"
#include "predictor/evaluate.h"
#include "predictor/profile.h"

namespace roofbench {

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

Handler define_evaluate(CLI::App& cmd, const Invocation&) {
  auto eval = std::make_shared<EvaluateOptions>();
  cmd.add_option("csv", eval->csv, "CSV written by `roofbench run --profile`")->required();
  cmd.add_option("--worst", eval->worst, "Worst rows to list")->check(CLI::Range(0, 1000))->capture_default_str();
  cmd.add_option("--csv", eval->out_csv, "Write the per-group scores to this CSV");
  cmd.add_option("--repeat", eval->repeat,
                 "A second run CSV of the same rows: the noise floor scores the two runs against each other");
  cmd.add_option("--profile", eval->profile,
                 "Predict every measured row again from this profile (score a refitted model on old measurements)");
  return [eval] { return evaluate_command(*eval); };
}

}  // namespace roofbench
