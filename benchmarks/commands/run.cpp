// `roofbench run`: times kernels over a shape set (benchmarks/run.h).
#include <memory>

#include "benchmarks/commands/command.h"
#include "benchmarks/commands/kernel_filters.h"
#include "benchmarks/journal.h"
#include "benchmarks/run.h"

namespace roofbench {

Handler define_run(CLI::App& cmd, const Invocation& invocation) {
  auto f = std::make_shared<KernelFilters>();
  RunOptions& run = f->run;
  add_kernel_filters(cmd, *f);
  cmd.footer("Google Benchmark's --benchmark_* flags are accepted too: roofbench help gbench lists them.");
  cmd.add_option("--profile", run.profile, "Hardware profile from `roofbench calibrate`: fills predicted_s");
  cmd.add_option("--repetitions", run.repetitions,
                 "Timed repetitions per row in the first round (the least of those kept reported)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd.add_option("--max-repetitions", run.max_repetitions,
                 "Cap on repetitions per row: rows whose floor was not yet met three times within ±2% get more "
                 "rounds up to it (default: 3x --repetitions; equal to --repetitions: no more rounds)")
      ->check(CLI::Range(1, 10000));
  cmd.add_option("--repetitions-csv", run.repetitions_csv,
                 "Also write every repetition (time, canary ratio, share of the machine others took, kept or "
                 "why not) to this CSV");
  cmd.add_flag("--no-reject", run.no_reject,
               "Count every repetition, also those the canary says were taken while the machine ran slow");
  cmd.add_option("--min-time", run.min_time, "Minimum seconds per repetition")
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
  cmd.add_option("--noise-threshold", run.noise_threshold,
                 "Flag rows (column noisy) whose repetitions' coefficient of variation exceeds this")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  return [f, invocation] {
    const RunOptions opt = parsed_run_options(*f, invocation);
    if (!is_supervised_worker()) warn_oversubscribed(opt.threads);
    return run_command(opt);
  };
}

}  // namespace roofbench
