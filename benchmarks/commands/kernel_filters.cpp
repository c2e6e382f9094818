#include "benchmarks/commands/kernel_filters.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "kernels/core/cpu.h"

namespace roofbench {

namespace {

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

}  // namespace

void add_kernel_filters(CLI::App& cmd, KernelFilters& f) {
  f.dtypes = implemented_dtypes();
  f.threads = {cpu().logical_cpus};
  f.run.shapes = "default";
  cmd.add_option("--shapes", f.run.shapes, "Shape file, or a built-in set in benchmarks/shapes/")
      ->capture_default_str();
  cmd.add_option("--ops", f.ops, "Ops (mv, gemm, conv2d)")->delimiter(',')->capture_default_str();
  f.impls_option = cmd.add_option("--impls", f.impls,
                                  "Implementations (naive, opt, blas, onednn); naive runs only on small problems "
                                  "unless named here")
                       ->delimiter(',')
                       ->capture_default_str();
  cmd.add_option("--dtypes", f.dtypes, "Data types (f64, f32, bf16, f16, i8, i4)")
      ->delimiter(',')
      ->capture_default_str();
  cmd.add_option("--batch", f.run.batches, "Batch sizes")
      ->delimiter(',')
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 20))
      ->capture_default_str();
  cmd.add_option("--threads", f.threads, "Thread counts (OpenMP and OpenBLAS alike)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd.add_option("--csv", f.run.csv, "Output CSV")->required();
  cmd.add_option("--cache", f.run.cache, "warm: operands reused; cold: rotated through twice the last-level cache")
      ->check(CLI::IsMember({"warm", "cold"}))
      ->capture_default_str();
}

RunOptions parsed_run_options(KernelFilters& f, const Invocation& invocation) {
  RunOptions run = f.run;
  run.ops = parse_names<Op>(f.ops, parse_op, "ops");
  run.impls = parse_names<Impl>(f.impls, parse_impl, "impls");
  run.naive_everywhere =
      f.impls_option->count() > 0 && std::find(f.impls.begin(), f.impls.end(), "naive") != f.impls.end();
  run.dtypes = parse_names<DType>(f.dtypes, parse_dtype, "dtypes");
  run.threads = f.threads;
  run.args = invocation.args;
  run.gbench_sets_repetitions = invocation.gbench.sets_repetitions;
  run.gbench_sets_min_time = invocation.gbench.sets_min_time;
  run.filter = invocation.gbench.filter;
  // Google Benchmark's flag wins over --repetitions; the rows count against what it asks.
  if (run.gbench_sets_repetitions) run.repetitions = std::max(1, std::atoi(invocation.gbench.repetitions.c_str()));
  return run;
}

}  // namespace roofbench
