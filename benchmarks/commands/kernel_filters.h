// The options run and predict share, so a predict CSV lines up row by row with a run CSV.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "benchmarks/commands/command.h"
#include "benchmarks/run.h"

namespace roofbench {

// The filters as given, until parsed into `run`'s enums once CLI11 is done.
struct KernelFilters {
  RunOptions run;
  std::vector<std::string> ops{"mv", "gemm", "conv2d"}, impls{"naive", "opt", "blas", "onednn"}, dtypes;
  std::vector<int> threads;
  CLI::Option* impls_option = nullptr;
};

// Adds --shapes, --ops, --impls, --dtypes, --batch, --threads, --csv and --cache to `cmd`.
void add_kernel_filters(CLI::App& cmd, KernelFilters& f);

// The RunOptions the parsed filters say (throws CLI::ValidationError on an unknown name).
RunOptions parsed_run_options(KernelFilters& f, const Invocation& invocation);

}  // namespace roofbench
