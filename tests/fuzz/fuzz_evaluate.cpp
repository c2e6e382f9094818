// libFuzzer target: the run-CSV reader behind `roofbench evaluate` (predictor/evaluate.h).
// Every malformed CSV must end in a one-line std::runtime_error; every row it accepts has a
// positive, finite measurement and prediction, and scoring the rows raises no sanitizer
// report.
// Built with -DROOFBENCH_FUZZ=ON; run with scripts/fuzz.sh.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include "predictor/evaluate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roofbench;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  EvaluationInput input;
  try {
    input = read_evaluation(text, "fuzz.csv");
  } catch (const std::runtime_error& e) {
    if (std::string_view(e.what()).find_first_of("\n\r") != std::string_view::npos) {
      std::fprintf(stderr, "error message is not one line: %s\n", e.what());
      __builtin_trap();
    }
    return 0;
  }
  for (const ScoredRow& r : input.rows) {
    const bool ok = std::isfinite(r.measured_s) && r.measured_s > 0 && std::isfinite(r.predicted_s) &&
                    r.predicted_s > 0 && (!r.classic_s || (std::isfinite(*r.classic_s) && *r.classic_s > 0));
    if (!ok) {
      std::fprintf(stderr, "line %d accepted with measured %g predicted %g\n", r.line, r.measured_s, r.predicted_s);
      __builtin_trap();
    }
  }
  for (const GroupScore& g : group_scores(input.rows))
    if (g.fitted.rows == 0 && !g.op.empty()) {
      std::fprintf(stderr, "empty group %s %s %s\n", g.op.c_str(), g.impl.c_str(), g.dtype.c_str());
      __builtin_trap();
    }
  return 0;
}
