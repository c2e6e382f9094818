// `roofbench model FILE|SET --profile P` (commands/model.cpp) over predictor/model.h: the
// lecture's metrics for a whole model, per layer and in total, with predicted (and with
// --measure, measured) latency, each layer timed here.
#pragma once

#include <cstdint>
#include <string>

namespace roofbench {

struct ModelOptions {
  std::string model;    // model file, or a built-in model name (benchmarks/models/NAME.model)
  std::string profile;  // hardware profile (required)
  std::int64_t batch = 1;
  std::string dtype = "f32";
  std::string impl = "opt";
  int threads = 0;       // 0: every logical CPU
  bool measure = false;  // time every layer too
  std::string csv;       // optional per-layer CSV
};

int model_command(const ModelOptions& opt);

}  // namespace roofbench
