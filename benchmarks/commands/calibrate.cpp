// `roofbench calibrate`: measures the machine and fits the kernels; writes a profile
// (benchmarks/calibrate.h).
#include <algorithm>
#include <memory>

#include "benchmarks/calibrate.h"
#include "benchmarks/commands/command.h"
#include "benchmarks/journal.h"
#include "kernels/core/cpu.h"

namespace roofbench {

namespace {

struct CalibrateArgs {
  CalibrateOptions options;
  std::vector<int> threads{1, cpu().logical_cpus};
};

}  // namespace

Handler define_calibrate(CLI::App& cmd, const Invocation& invocation) {
  auto c = std::make_shared<CalibrateArgs>();
  CalibrateOptions& calib = c->options;
  cmd.add_flag("--quick", calib.quick, "Fewer repetitions and a coarser sweep (under a minute)");
  cmd.add_flag("--no-fit", calib.no_fit,
               "Measure the machine only; skip the training sweep that fits each kernel's roofline");
  cmd.add_option("--refit", calib.refit,
                 "Measure nothing: refit the kernels from the training timings stored in this profile")
      ->check(CLI::ExistingFile);
  cmd.add_option("--threads", c->threads, "Thread counts")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd.add_option("--out", calib.out, "Profile JSON to write")->required();
  return [c, invocation] {
    std::vector<int> threads = c->threads;
    std::sort(threads.begin(), threads.end());
    threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
    c->options.threads = threads;
    c->options.args = invocation.args;
    if (!is_supervised_worker()) warn_oversubscribed(threads);
    return calibrate_command(c->options);
  };
}

}  // namespace roofbench
