// `roofbench run`: times the registry over a shape set with Google Benchmark.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "predictor/profile.h"

namespace roofbench {

struct RunOptions {
  std::string shapes;  // file or built-in set
  std::vector<Op> ops;
  std::vector<Impl> impls;
  std::vector<DType> dtypes;
  std::vector<std::int64_t> batches{1};
  std::vector<int> threads;
  std::string csv;
  std::string profile;         // --profile: fills predicted_s; recorded in the benchmark context
  std::string cache = "warm";  // warm: operands reused; cold: rotated through 2x the last-level cache
  int repetitions = 5;         // ignored when --benchmark_repetitions is given
  // Seconds per repetition; ignored when --benchmark_min_time is given. 0.05: the protocol takes up
  // to three rounds, and more short repetitions judged one by one repeat better than a few long
  // ones (two runs of the held-out f32 rows: 81% within 5% at 15 x 0.05 s, against 60% for the
  // median of 5).
  double min_time = 0.05;
  double noise_threshold = 0.15;  // rows whose repetitions' CV exceeds it are flagged noisy
  // The measurement protocol (protocol.h): more rounds for rows not yet within ±2%, up to
  // max_repetitions (0: three times --repetitions); no_reject counts every repetition.
  int max_repetitions = 0;
  bool no_reject = false;
  std::string repetitions_csv;  // --repetitions-csv: every repetition, kept or not, and why
  bool gbench_sets_repetitions = false;
  bool gbench_sets_min_time = false;
  std::string filter;             // --benchmark_filter, also applied before checking
  bool naive_everywhere = false;  // naive was named in --impls: run it even on large problems
  // This process's command line (argv[1..]): run starts it again as a supervised worker
  // (benchmarks/journal.h). Empty: no supervisor, the work is done in this process.
  std::vector<std::string> args;
};

// naive runs by default only on problems this small (about 0.1-0.5 s per call on one core).
inline constexpr std::int64_t kNaiveMaxOps = 200'000'000;

// Return the process exit status. predict takes the same options (profile required) and
// writes the rows run would time, predicted from the profile with no kernel run.
int run_command(const RunOptions& opt);
int predict_command(const RunOptions& opt);

// read_profile for a command that predicts on this machine (run --profile, predict, model):
// a profile calibrated elsewhere is used as given, with one warning line on stderr saying so.
Profile read_profile_for_this_machine(const std::string& path);

// Fails (throws std::runtime_error) unless the loaded OpenBLAS is the OpenMP build: a pthread
// OpenBLAS would start its own threads beside our OpenMP pool and oversubscribe the cores.
void require_openmp_openblas();
std::string openblas_description();

}  // namespace roofbench
