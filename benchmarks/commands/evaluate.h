// `roofbench evaluate RUN.csv`: scores the predictions in a run CSV (predictor/evaluate.h).
#pragma once

#include <string>

namespace roofbench {

struct EvaluateOptions {
  std::string csv;      // a CSV written by `roofbench run --profile`
  int worst = 5;        // rows listed as the worst predictions (by |fitted error|), overall
  std::string out_csv;  // optional: the per-group scores as CSV
  std::string repeat;   // optional: a second run CSV of the same rows, for the noise floor
  // optional: predict every measured row again from this profile (predicted_s and classic_s
  // replaced), so a refitted or changed model is scored on measurements taken before it.
  std::string profile;
};

int evaluate_command(const EvaluateOptions& opt);

}  // namespace roofbench
