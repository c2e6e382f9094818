// `roofbench predict`: the rows run would time, predicted from a profile alone (benchmarks/run.h).
#include <memory>

#include "benchmarks/commands/command.h"
#include "benchmarks/commands/kernel_filters.h"
#include "benchmarks/run.h"

namespace roofbench {

Handler define_predict(CLI::App& cmd, const Invocation& invocation) {
  auto f = std::make_shared<KernelFilters>();
  add_kernel_filters(cmd, *f);
  cmd.add_option("--profile", f->run.profile, "Hardware profile from `roofbench calibrate`")->required();
  return [f, invocation] { return predict_command(parsed_run_options(*f, invocation)); };
}

}  // namespace roofbench
