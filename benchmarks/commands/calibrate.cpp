// `roofbench calibrate`: measures the machine and fits the kernels; writes a profile
// (benchmarks/calibrate.h).
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "benchmarks/calibrate.h"
#include "benchmarks/calibrate_parts.h"
#include "benchmarks/commands/command.h"
#include "benchmarks/interrupt.h"
#include "benchmarks/journal.h"
#include "benchmarks/supervisor.h"
#include "kernels/core/cpu.h"
#include "kernels/core/text_file.h"
#include "predictor/fit.h"

namespace roofbench {

int calibrate_command(const CalibrateOptions& opt) {
  check_writable(opt.out);  // fail before a minute of measuring, not after
  if (!opt.refit.empty()) {
    Profile profile = read_profile(opt.refit);
    for (const std::string& w : fit_training(profile, opt.refit)) fmt::print(stderr, "calibrate: warning: {}\n", w);
    write_profile(opt.out, profile);
    print_fits(profile);
    fmt::print(stderr, "roofbench: refitted {} kernels from the {} training timings of {}; wrote {}\n",
               profile.kernels.size(), profile.training.size(), opt.refit, opt.out);
    return 0;
  }
  // A library that crashes or hangs in the training sweep must cost one timing, and a kill no
  // more than the timing under way: the work happens in a worker process (journal.h).
  if (!opt.args.empty() && !is_supervised_worker()) return supervise(opt.args, journal_path(opt.out));
  std::optional<Journal> journal = Journal::for_this_worker();
  Journal* const jp = journal ? &*journal : nullptr;
  catch_interrupts();
  Canary canary;
  const Settings s = settings(opt.quick, &canary);
  const auto t_start = Clock::now();
  Profile profile;
  // The seconds an earlier worker spent on the machine part this one keeps; a fresh machine
  // part is timed from t_start below with the rest (counting its own figure too had added
  // it twice: 1251 s reported for a 1149 s calibration).
  double earlier = 0;
  if (const auto kept = jp ? jp->recorded("machine") : std::nullopt) {
    profile = profile_from_json(*kept, jp->path());
    earlier = profile.machine.value("calibration_seconds", 0.0);
    fmt::print(stderr, "calibrate: peaks and bandwidths kept from {} (measured {})\n", jp->path(),
               profile.machine.value("date", std::string("?")));
  } else {
    measure_machine(profile, opt, s);
    if (jp) jp->record("machine", to_json(profile));
  }
  if (!opt.no_fit) fit_kernels(profile, opt, jp, canary);
  measure_again(profile, opt, s);
  if (!opt.no_fit)
    for (const std::string& w : fit_training(profile, opt.out)) fmt::print(stderr, "calibrate: warning: {}\n", w);
  profile.machine["calibration_seconds"] = earlier + std::chrono::duration<double>(Clock::now() - t_start).count();
  write_profile(opt.out, profile);
  if (jp) jp->remove();  // the profile holds everything it recorded
  print_summary(profile);
  print_fits(profile);
  fmt::print(stderr, "roofbench: wrote {} ({:.0f} s)\n", opt.out, profile.machine["calibration_seconds"].get<double>());
  return 0;
}

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
