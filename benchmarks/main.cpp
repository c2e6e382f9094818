// roofbench: the command line of design.md. Google Benchmark takes its own --benchmark_* flags
// first; CLI11 parses the rest. Every error ends as one line on stderr and a non-zero exit.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "benchmarks/calibrate.h"
#include "benchmarks/doctor.h"
#include "benchmarks/interrupt.h"
#include "benchmarks/journal.h"
#include "benchmarks/model.h"
#include "benchmarks/run.h"
#include "kernels/core/text_file.h"
#include "predictor/evaluate.h"

namespace {

using namespace roofbench;

// Every error is one line: a message quoting a file's bytes is escaped and kept this short.
constexpr std::size_t kMessageBytes = 600;

template <class T>
std::vector<T> parse_names(const std::vector<std::string>& names, std::optional<T> (*parse)(std::string_view),
                           std::string_view what) {
  std::vector<T> out;
  for (const std::string& n : names) {
    const auto v = parse(n);
    if (!v) throw CLI::ValidationError(fmt::format("--{}: unknown value '{}'", what, n));
    if (std::find(out.begin(), out.end(), *v) == out.end()) out.push_back(*v);
  }
  return out;
}

bool has_flag(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]).rfind(flag, 0) == 0) return true;
  return false;
}

// The value of --flag=value (the last one wins, as in Google Benchmark), or "".
std::string flag_value(int argc, char** argv, std::string_view flag) {
  std::string value;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a.size() > flag.size() && a.rfind(flag, 0) == 0 && a[flag.size()] == '=') value = a.substr(flag.size() + 1);
  }
  return value;
}

// More threads than logical CPUs is allowed (oversubscription is something to measure too),
// but rarely meant: said once, on stderr.
void warn_oversubscribed(const std::vector<int>& threads) {
  const int most = threads.empty() ? 0 : *std::max_element(threads.begin(), threads.end());
  if (most > cpu().logical_cpus)
    fmt::print(stderr, "roofbench: warning: {} threads on {} logical CPUs: threads will share cores\n", most,
               cpu().logical_cpus);
}

// The dtypes some registry kernel implements: the default of --dtypes.
std::vector<std::string> implemented_dtypes() {
  std::vector<std::string> out;
  for (DType d : kAllDTypes)
    for (const Kernel& k : registry())
      if (k.dtype == d) {
        out.emplace_back(name(d));
        break;
      }
  return out;
}

// The subcommands and their one-line descriptions: the front door's usage and CLI11's own help
// both print these, so the two cannot drift apart.
struct Subcommand {
  const char* name;
  const char* description;
};
constexpr Subcommand kSubcommands[] = {
    {"run", "Time kernels over a shape set and write one CSV row per combination"},
    {"predict", "Predict every row `run` would time, from a profile alone (no kernel runs)"},
    {"evaluate", "Score the predictions in a run CSV: fitted and classic roofline side by side"},
    {"model", "Whole-model metrics per layer and in total: parameters, size, MACs, activations, latency, energy"},
    {"calibrate", "Measure peak ops/s per dtype, bandwidth and latency per memory level; write a profile"},
    {"doctor", "Probe this machine's noise over time: what its measurements are good to, and why"},
};

const char* description(std::string_view subcommand) {
  for (const Subcommand& s : kSubcommands)
    if (subcommand == s.name) return s.description;
  return "";
}

constexpr const char* kTagline =
    "roofbench: how long should a layer take on this machine, how long does it take, and why";

// The front door: `roofbench`, `roofbench --help`, `-h` and `help` print this.
void print_usage(std::FILE* to) {
  fmt::print(to, "{}\n\nusage: roofbench SUBCOMMAND [options]\n\n", kTagline);
  for (const Subcommand& s : kSubcommands) fmt::print(to, "  {:<10} {}\n", s.name, s.description);
  fmt::print(to,
             "\nroofbench SUBCOMMAND --help for its options (or roofbench help SUBCOMMAND).\n"
             "run also accepts Google Benchmark's --benchmark_* flags (e.g. --benchmark_filter=gemm, "
             "--benchmark_repetitions=N);\nroofbench help gbench (or roofbench --help-gbench) lists them.\n");
}

// Google Benchmark's own flag list, which its Initialize would otherwise print for any --help.
void print_gbench_help() {
  fmt::print("Google Benchmark's flags, accepted by `roofbench run` (read `benchmark` below as `roofbench run`):\n\n");
  std::fflush(stdout);  // PrintDefaultHelp writes with printf, after ours
  benchmark::PrintDefaultHelp();
}

}  // namespace

// OpenMP reads OMP_PLACES and OMP_PROC_BIND once, when the runtime loads, so they are set by
// re-executing the binary. Unbound threads let the scheduler stack both of a 2-core machine's
// threads on one core for a while: a 2-thread FMA peak measured 1x the 1-thread one.
void bind_threads_unless_user_chose(char** argv) {
  if (std::getenv("OMP_PROC_BIND") || std::getenv("OMP_PLACES") || std::getenv("ROOFBENCH_REEXEC")) return;
  setenv("OMP_PROC_BIND", "close", 1);
  setenv("OMP_PLACES", "cores", 1);
  setenv("ROOFBENCH_REEXEC", "1", 1);
  // With OMP_PROC_BIND set, libgomp pins the initial thread to the first place as it loads, so
  // the re-executed process runs on one core; the CPUs allowed now are kept for the worker that
  // run and calibrate start from it (journal.cpp), which would otherwise inherit that one core.
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    std::string list;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &allowed)) list += (list.empty() ? "" : ",") + std::to_string(c);
    setenv("ROOFBENCH_AFFINITY", list.c_str(), 1);
  }
  execv("/proc/self/exe", argv);  // returns only on failure: then run unbound
}

int main(int argc, char** argv) {
  // The command line as given, for the supervised worker of run and calibrate (journal.h).
  const std::vector<std::string> original_args(argv + 1, argv + argc);
  // The front door, before anything else: help needs no CPU, no re-exec and no Google Benchmark.
  const std::string_view first = argc > 1 ? argv[1] : "";
  if (argc == 1) {
    print_usage(stderr);  // a command line that does nothing is a usage error
    return 2;
  }
  if (first == "--help" || first == "-h" || (first == "help" && argc == 2)) {
    print_usage(stdout);
    return 0;
  }
  if (first == "--help-gbench" || (first == "help" && std::string_view(argv[2]) == "gbench")) {
    print_gbench_help();
    return 0;
  }
  // `roofbench help SUBCOMMAND` is `roofbench SUBCOMMAND --help`.
  std::string help_flag = "--help";
  std::vector<char*> help_args;
  if (first == "help") {
    if (std::string_view(description(argv[2])).empty()) {
      std::vector<std::string_view> names;
      for (const Subcommand& s : kSubcommands) names.push_back(s.name);
      fmt::print(stderr, "roofbench: error: help: unknown command '{}' (commands: {}, or gbench)\n",
                 printable(argv[2], kMessageBytes), fmt::join(names, ", "));
      return 2;
    }
    help_args = {argv[0], argv[2], help_flag.data(), nullptr};
    argc = 3;
    argv = help_args.data();
  }
  try {
    cpu();  // reads ROOFBENCH_DISABLE_ISA: a bad value is an error before anything starts
  } catch (const std::exception& e) {
    fmt::print(stderr, "roofbench: error: {}\n", printable(e.what(), kMessageBytes));
    return 2;
  }
  // Google Benchmark reports a bad value of its own flags on a line of its own and leaves the
  // flag for CLI11 to reject again: checked here first, so the error stays one line.
  for (const auto& [flag, value] :
       {std::pair{"--benchmark_repetitions", flag_value(argc, argv, "--benchmark_repetitions")},
        std::pair{"--benchmark_min_time", flag_value(argc, argv, "--benchmark_min_time")}}) {
    if (!has_flag(argc, argv, flag)) continue;
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    const bool integer = std::string_view(flag) == "--benchmark_repetitions";
    if (value.empty() || *end != '\0' || !(v > 0) || v > 1e6 || (integer && v != std::floor(v))) {
      fmt::print(stderr, "roofbench: error: {}={}: expected a positive {}\n", flag, printable(value),
                 integer ? "integer" : "number of seconds");
      return 2;
    }
  }
  bind_threads_unless_user_chose(argv);
  RunOptions run;
  run.gbench_sets_repetitions = has_flag(argc, argv, "--benchmark_repetitions");
  const std::string gbench_repetitions = flag_value(argc, argv, "--benchmark_repetitions");
  run.gbench_sets_min_time = has_flag(argc, argv, "--benchmark_min_time");
  run.filter = flag_value(argc, argv, "--benchmark_filter");
  // Repetitions of different benchmarks are interleaved in random order unless the user says
  // otherwise: on a shared, noisy machine a slow minute then hits every implementation alike,
  // which is what makes ratios within one run meaningful. Not in calibrate: its points are
  // fitted one by one (a disturbed one is timed again), and its sweep of over a thousand
  // problems, many of 100 MB, would otherwise rebuild their buffers at nearly every visit.
  std::vector<char*> args(argv, argv + argc);
  // Google Benchmark's Initialize prints its own flag list and exits on --help anywhere on the
  // command line, which hid every subcommand's options. It ignores -h, which CLI11 takes as
  // --help: the subcommand's own help wins, and `roofbench help gbench` still shows Google's.
  std::string short_help = "-h";
  for (char*& a : args)
    if (std::string_view(a) == "--help") a = short_help.data();
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  const bool calibrating = argc > 1 && std::string_view(argv[1]) == "calibrate";
  if (!calibrating && !has_flag(argc, argv, "--benchmark_enable_random_interleaving"))
    args.insert(args.begin() + 1, interleave.data());
  int args_count = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&args_count, args.data());
  argc = args_count;
  argv = args.data();

  CLI::App app{kTagline};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  std::vector<std::string> ops{"mv", "gemm", "conv2d"}, impls{"naive", "opt", "blas", "onednn"},
      dtypes = implemented_dtypes();
  std::vector<int> threads{cpu().logical_cpus};
  CLI::App* run_cmd = app.add_subcommand("run", description("run"));
  CLI::App* predict_cmd = app.add_subcommand("predict", description("predict"));
  run.shapes = "default";
  CLI::Option* impls_opt = nullptr;
  // run and predict take the same filters, so a predict CSV lines up row by row with a run CSV.
  for (CLI::App* cmd : {run_cmd, predict_cmd}) {
    cmd->add_option("--shapes", run.shapes, "Shape file, or a built-in set in benchmarks/shapes/")
        ->capture_default_str();
    cmd->add_option("--ops", ops, "Ops (mv, gemm, conv2d)")->delimiter(',')->capture_default_str();
    CLI::Option* o = cmd->add_option("--impls", impls,
                                     "Implementations (naive, opt, blas, onednn); naive runs only on small problems "
                                     "unless named here")
                         ->delimiter(',')
                         ->capture_default_str();
    if (cmd == run_cmd) impls_opt = o;
    cmd->add_option("--dtypes", dtypes, "Data types (f64, f32, bf16, f16, i8, i4)")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--batch", run.batches, "Batch sizes")
        ->delimiter(',')
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
        ->capture_default_str();
    cmd->add_option("--threads", threads, "Thread counts (OpenMP and OpenBLAS alike)")
        ->delimiter(',')
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    cmd->add_option("--csv", run.csv, "Output CSV")->required();
    cmd->add_option("--cache", run.cache, "warm: operands reused; cold: rotated through twice the last-level cache")
        ->check(CLI::IsMember({"warm", "cold"}))
        ->capture_default_str();
  }
  run_cmd->footer("Google Benchmark's --benchmark_* flags are accepted too: roofbench help gbench lists them.");
  run_cmd->add_option("--profile", run.profile, "Hardware profile from `roofbench calibrate`: fills predicted_s");
  predict_cmd->add_option("--profile", run.profile, "Hardware profile from `roofbench calibrate`")->required();
  run_cmd
      ->add_option("--repetitions", run.repetitions,
                   "Timed repetitions per row in the first round (the least of those kept reported)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  run_cmd
      ->add_option("--max-repetitions", run.max_repetitions,
                   "Cap on repetitions per row: rows whose floor was not yet met three times within ±2% get more "
                   "rounds up to it (default: 3x --repetitions; equal to --repetitions: no more rounds)")
      ->check(CLI::Range(1, 10000));
  run_cmd->add_option("--repetitions-csv", run.repetitions_csv,
                      "Also write every repetition (time, canary ratio, share of the machine others took, kept or "
                      "why not) to this CSV");
  run_cmd->add_flag("--no-reject", run.no_reject,
                    "Count every repetition, also those the canary says were taken while the machine ran slow");
  run_cmd->add_option("--min-time", run.min_time, "Minimum seconds per repetition")
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
  run_cmd
      ->add_option("--noise-threshold", run.noise_threshold,
                   "Flag rows (column noisy) whose repetitions' coefficient of variation exceeds this")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();

  EvaluateOptions eval;
  CLI::App* eval_cmd = app.add_subcommand("evaluate", description("evaluate"));
  eval_cmd->add_option("csv", eval.csv, "CSV written by `roofbench run --profile`")->required();
  eval_cmd->add_option("--worst", eval.worst, "Worst rows to list")->check(CLI::Range(0, 1000))->capture_default_str();
  eval_cmd->add_option("--csv", eval.out_csv, "Write the per-group scores to this CSV");
  eval_cmd->add_option("--repeat", eval.repeat,
                       "A second run CSV of the same rows: the noise floor scores the two runs against each other");
  eval_cmd->add_option(
      "--profile", eval.profile,
      "Predict every measured row again from this profile (score a refitted model on old measurements)");

  ModelOptions model;
  CLI::App* model_cmd = app.add_subcommand("model", description("model"));
  model_cmd
      ->add_option("model", model.model,
                   "Model file, or a built-in model (resnet18, mobilenetv2, bert-base, "
                   "llama-7b-decode)")
      ->required();
  model_cmd->add_option("--profile", model.profile, "Hardware profile from `roofbench calibrate`")->required();
  model_cmd->add_option("--batch", model.batch, "Batch size")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
      ->capture_default_str();
  model_cmd->add_option("--dtype", model.dtype, "Data type")->capture_default_str();
  model_cmd->add_option("--impl", model.impl, "Implementation")->capture_default_str();
  model_cmd->add_option("--threads", model.threads, "Threads (default: every logical CPU)")->check(CLI::Range(1, 1024));
  model_cmd->add_flag("--measure", model.measure, "Time every layer and print measured beside predicted");
  model_cmd->add_option("--csv", model.csv, "Write the per-layer table to this CSV");

  CalibrateOptions calib;
  std::vector<int> calib_threads{1, cpu().logical_cpus};
  CLI::App* calib_cmd = app.add_subcommand("calibrate", description("calibrate"));
  calib_cmd->add_flag("--quick", calib.quick, "Fewer repetitions and a coarser sweep (under a minute)");
  calib_cmd->add_flag("--no-fit", calib.no_fit,
                      "Measure the machine only; skip the training sweep that fits each kernel's roofline");
  calib_cmd
      ->add_option("--refit", calib.refit,
                   "Measure nothing: refit the kernels from the training timings stored in this profile")
      ->check(CLI::ExistingFile);
  calib_cmd->add_option("--threads", calib_threads, "Thread counts")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  calib_cmd->add_option("--out", calib.out, "Profile JSON to write")->required();

  DoctorOptions doctor;  // ranges checked by doctor_command, which knows the machine's memory
  CLI::App* doctor_cmd = app.add_subcommand("doctor", description("doctor"));
  doctor_cmd->add_option("--seconds", doctor.seconds, "Total probe time, in rounds of 0.5 s (at most 3600)")
      ->capture_default_str();
  doctor_cmd->add_option("--churn-gib", doctor.churn_gib, "GiB allocated, touched and freed half-way (0: none)")
      ->capture_default_str();
  doctor_cmd->add_option("--csv", doctor.csv, "Write the per-round time series to this CSV");
  doctor_cmd->add_option("--threads", doctor.threads, "The canary's threads (default: every logical CPU)")
      ->check(CLI::Range(1, 1024));

  try {
    if (argc > 1 && argv[1][0] != '-') {
      std::vector<std::string> names;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
      if (std::find(names.begin(), names.end(), argv[1]) == names.end())
        throw CLI::ValidationError(fmt::format("unknown command '{}' (commands: {})", argv[1], fmt::join(names, ", ")));
    }
    app.parse(argc, argv);
    if (run_cmd->parsed() || predict_cmd->parsed()) {
      run.ops = parse_names<Op>(ops, parse_op, "ops");
      run.impls = parse_names<Impl>(impls, parse_impl, "impls");
      run.naive_everywhere = impls_opt->count() > 0 && std::find(impls.begin(), impls.end(), "naive") != impls.end();
      run.dtypes = parse_names<DType>(dtypes, parse_dtype, "dtypes");
      run.threads = threads;
      run.args = original_args;
      if (run_cmd->parsed() && !is_supervised_worker()) warn_oversubscribed(threads);
      // Google Benchmark's flag wins over --repetitions; the rows count against what it asks.
      if (run.gbench_sets_repetitions) run.repetitions = std::max(1, std::atoi(gbench_repetitions.c_str()));
      return run_cmd->parsed() ? run_command(run) : predict_command(run);
    }
    if (eval_cmd->parsed()) return evaluate_command(eval);
    if (doctor_cmd->parsed()) return doctor_command(doctor);
    if (model_cmd->parsed()) {
      if (model.threads == 0) model.threads = cpu().logical_cpus;
      if (model.measure) warn_oversubscribed({model.threads});
      return model_command(model);
    }
    if (calib_cmd->parsed()) {
      std::sort(calib_threads.begin(), calib_threads.end());
      calib_threads.erase(std::unique(calib_threads.begin(), calib_threads.end()), calib_threads.end());
      calib.threads = calib_threads;
      calib.args = original_args;
      if (!is_supervised_worker()) warn_oversubscribed(calib_threads);
      return calibrate_command(calib);
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "roofbench: error: {}\n", printable(e.what(), kMessageBytes));
    return 2;
  } catch (const Interrupted& e) {
    fmt::print(stderr, "roofbench: {}\n", printable(e.what(), kMessageBytes));
    return e.exit_status();
  } catch (const std::exception& e) {
    fmt::print(stderr, "roofbench: error: {}\n", printable(e.what(), kMessageBytes));
    return 1;
  }
  return 0;
}
