// `roofbench model`: whole-model metrics per layer and in total (benchmarks/model_measure.h).
#include <memory>

#include "benchmarks/commands/command.h"
#include "benchmarks/model_measure.h"
#include "kernels/core/cpu.h"

namespace roofbench {

Handler define_model(CLI::App& cmd, const Invocation&) {
  auto model = std::make_shared<ModelOptions>();
  cmd.add_option("model", model->model,
                 "Model file, or a built-in model (resnet18, mobilenetv2, bert-base, "
                 "llama-7b-decode)")
      ->required();
  cmd.add_option("--profile", model->profile, "Hardware profile from `roofbench calibrate`")->required();
  cmd.add_option("--batch", model->batch, "Batch size")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
      ->capture_default_str();
  cmd.add_option("--dtype", model->dtype, "Data type")->capture_default_str();
  cmd.add_option("--impl", model->impl, "Implementation")->capture_default_str();
  cmd.add_option("--threads", model->threads, "Threads (default: every logical CPU)")->check(CLI::Range(1, 1024));
  cmd.add_flag("--measure", model->measure, "Time every layer and print measured beside predicted");
  cmd.add_option("--csv", model->csv, "Write the per-layer table to this CSV");
  return [model] {
    if (model->threads == 0) model->threads = cpu().logical_cpus;
    if (model->measure) warn_oversubscribed({model->threads});
    return model_command(*model);
  };
}

}  // namespace roofbench
