#include "benchmarks/run.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <regex>
#include <sstream>
#include <tuple>
#include <stdexcept>

#include "benchmarks/csv.h"
#include "kernels/check.h"
#include "kernels/cost.h"
#include "predictor/profile.h"

extern "C" {
char* openblas_get_config(void);
int openblas_get_parallel(void);
int openblas_get_num_threads(void);
}

namespace roofbench {
namespace {

// One timed combination. Buffers live only while its benchmark runs (see Buffers below).
struct Case {
  const Kernel* kernel = nullptr;
  Shape shape;  // as in the file
  Shape run;    // batch applied
  std::int64_t batch = 1;
  int threads = 1;
  std::string name;  // op/impl/dtype/threads:T/batch:B/<shape>
  std::optional<std::string> failure{};  // set by check_all() before anything is timed
  std::vector<double> seconds{};  // one per repetition
};

// Operands of the case being timed. Google Benchmark calls a benchmark several times (iteration
// estimation, repetitions); allocating once per case keeps fills out of the way, and releasing
// the previous case's buffers keeps memory at one problem's worth (times the cold copies).
//
// Warm: one set of operands, reused, so whatever fits in cache stays there. Cold: enough
// copies that together they span twice the last-level cache, used in turn, so every call
// finds its operands evicted by the calls before it.
struct Buffers {
  bool cold = false;
  const Case* owner = nullptr;
  std::vector<ProblemBuffers> copies{};
  std::span<ProblemBuffers> for_case(const Case& c) {
    if (owner != &c) {
      copies.clear();
      const std::int64_t footprint = std::max<std::int64_t>(1, footprint_bytes(c.run, c.kernel->dtype));
      const std::int64_t llc = std::max(cpu().l3.bytes, cpu().l2.bytes);
      const std::int64_t n = cold ? std::clamp<std::int64_t>(2 * llc / footprint + 1, 1, 4096) : 1;
      for (std::int64_t i = 0; i < n; ++i) copies.push_back(make_buffers(c.run, c.kernel->dtype, *c.kernel, c.threads));
      owner = &c;
    }
    return copies;
  }
};

void time_case(benchmark::State& state, Case& c, Buffers& buffers) {
  set_library_threads(c.threads);
  if (c.failure) {
    state.SkipWithError(c.failure->c_str());
    for (auto _ : state) {
    }
    return;
  }
  const std::span<ProblemBuffers> copies = buffers.for_case(c);
  std::size_t next = 0;
  for (auto _ : state) {
    c.kernel->run(c.run, copies[next].operands(), c.threads);
    next = next + 1 == copies.size() ? 0 : next + 1;
    benchmark::ClobberMemory();
  }
  const double ops_count = static_cast<double>(ops(c.run)), byte_count = static_cast<double>(bytes(c.run, c.kernel->dtype));
  using benchmark::Counter;
  state.counters["ops/s"] = Counter(ops_count, Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = Counter(byte_count, Counter::kIsIterationInvariantRate, Counter::kIs1024);
  state.counters["intensity"] = Counter(ops_count / byte_count);
}

// Keeps every repetition's time for our own median and CV, and shows the console only the
// aggregates (or the single run) so long sweeps stay readable.
class Collector : public benchmark::ConsoleReporter {
 public:
  Collector(std::map<std::string, Case*> cases, std::size_t total)
      : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular),
        cases_(std::move(cases)),
        total_(total) {}

  // Google Benchmark's context (CPU, caches, load) goes to stdout with the table; stderr keeps
  // only progress and errors. Debian's libbenchmark is a debug build of the *library*, which
  // says nothing about our kernels' flags, so its warning is dropped.
  bool ReportContext(const Context& context) override {
    std::ostringstream sink;
    std::ostream& err = GetErrorStream();
    SetErrorStream(&sink);
    const bool ok = ConsoleReporter::ReportContext(context);
    SetErrorStream(&err);
    std::istringstream lines(sink.str());
    for (std::string line; std::getline(lines, line);)
      if (line.find("Library was built as DEBUG") == std::string::npos) GetOutputStream() << line << '\n';
    return ok;
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> shown;
    for (const Run& r : runs) {
      auto it = cases_.find(r.run_name.function_name);
      if (r.run_type == Run::RT_Iteration && it != cases_.end() && !r.error_occurred)
        it->second->seconds.push_back(r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit));
      if (r.run_type == Run::RT_Aggregate || r.error_occurred || r.repetitions <= 1) shown.push_back(r);
      if (r.run_type == Run::RT_Iteration) progress(r.run_name.function_name);
    }
    if (!shown.empty()) ConsoleReporter::ReportRuns(shown);
  }

 private:
  // One line on stderr per repetition done, at most one a second: n/N, elapsed and time left.
  void progress(const std::string& last) {
    ++done_;
    const auto now = std::chrono::steady_clock::now();
    if (done_ != total_ && now - last_print_ < std::chrono::seconds(1)) return;
    last_print_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double left = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_);
    fmt::print(stderr, "[{}/{} repetitions, {:.0f} s, ~{:.0f} s left] {}\n", done_, total_, elapsed, left, last);
  }

  std::map<std::string, Case*> cases_;
  std::size_t total_;  // repetitions of all benchmarks
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_print_{};
};

std::string dims_string(const Shape& s) { return to_string(Shape{s.dims, {}, 1}); }

// Checks every case against naive once, before anything is timed. Cases are visited grouped by
// problem and dtype so each naive reference is computed once and shared by every impl and
// thread count.
void check_all(std::vector<std::unique_ptr<Case>>& cases) {
  std::vector<Case*> order;
  for (auto& c : cases) order.push_back(c.get());
  // The descriptor does not print an mv's vector count, so the batch is part of the key.
  const auto key = [](const Case* c) {
    return std::make_tuple(dims_string(c->shape), c->batch, static_cast<int>(c->kernel->dtype));
  };
  std::stable_sort(order.begin(), order.end(), [&](const Case* a, const Case* b) { return key(a) < key(b); });
  AlignedBuffer expected;
  std::optional<decltype(key(order[0]))> expected_for;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < order.size(); ++i) {
    Case& c = *order[i];
    if (expected_for != key(&c)) {
      expected = naive_output(c.run, c.kernel->dtype, c.threads);
      expected_for = key(&c);
    }
    set_library_threads(c.threads);
    const Agreement a = check_against(*c.kernel, c.run, c.threads, expected.bytes());
    if (!a.ok) c.failure = fmt::format("mismatch against naive: {}", a.message());
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > 2 && (i + 1) % 16 == 0)
      fmt::print(stderr, "[checked {}/{} against naive, {:.0f} s]\n", i + 1, order.size(), elapsed);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double coefficient_of_variation(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1)) / mean;
}

// Identical problems under different labels (Q, K and V projections) are timed once.
std::vector<Shape> distinct(const std::vector<Shape>& shapes) {
  std::vector<Shape> out;
  for (const Shape& s : shapes)
    if (std::none_of(out.begin(), out.end(), [&](const Shape& o) { return o.dims == s.dims; })) out.push_back(s);
  return out;
}


void add_context(const RunOptions& opt, const std::optional<Profile>& profile) {
  const auto env = [](const char* k) {
    const char* v = std::getenv(k);
    return std::string(v ? v : "(unset)");
  };
  benchmark::AddCustomContext("roofbench_cpu", cpu().model);
  benchmark::AddCustomContext("roofbench_shapes", opt.shapes);
  benchmark::AddCustomContext("roofbench_cache", opt.cache);
  benchmark::AddCustomContext("OMP_PLACES", env("OMP_PLACES"));
  benchmark::AddCustomContext("OMP_PROC_BIND", env("OMP_PROC_BIND"));
  benchmark::AddCustomContext("openblas", openblas_description());
  benchmark::AddCustomContext("roofbench_threads", fmt::format("{} (OpenMP and OpenBLAS alike, per benchmark)",
                                                               fmt::join(opt.threads, ",")));
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : std::string("?"); };
  benchmark::AddCustomContext(
      "roofbench_profile",
      profile ? fmt::format("{} (calibrated {} on {}, {})", opt.profile, text(profile->machine.value("date", nlohmann::json())),
                            text(profile->machine.value("host", nlohmann::json())),
                            text(profile->machine.value("cpu", nlohmann::json())))
              : std::string("(none: predicted_s left empty)"));
}

}  // namespace

std::string openblas_description() {
  static const char* const kinds[] = {"sequential", "pthreads", "openmp"};
  const int p = openblas_get_parallel();
  return fmt::format("{} ({} threading)", openblas_get_config(), p >= 0 && p <= 2 ? kinds[p] : "unknown");
}

void require_openmp_openblas() {
  if (openblas_get_parallel() != 2)
    throw std::runtime_error(fmt::format("the loaded OpenBLAS is not the OpenMP build: {}; install "
                                         "libopenblas0-openmp",
                                         openblas_description()));
}

int run_command(const RunOptions& opt) {
  require_openmp_openblas();
  check_writable(opt.csv);
  std::optional<Profile> profile;
  if (!opt.profile.empty()) profile = read_profile(opt.profile);  // a bad profile stops the run before any timing
  const std::vector<Shape> shapes = distinct(load_shapes(opt.shapes));

  std::vector<std::unique_ptr<Case>> cases;
  std::map<std::string, std::string> skipped;  // (op impl dtype) -> reason, printed once
  int naive_skipped = 0;
  // --benchmark_filter applied here too, so filtered-out cases are neither checked nor built
  // (Google Benchmark's syntax: a regex, or "-regex" for everything else).
  std::optional<std::regex> filter;
  const bool negate_filter = !opt.filter.empty() && opt.filter[0] == '-';
  if (!opt.filter.empty()) {
    try {
      filter.emplace(negate_filter ? opt.filter.substr(1) : opt.filter, std::regex::extended);
    } catch (const std::regex_error&) {
      throw std::runtime_error(fmt::format("--benchmark_filter={}: not a regular expression", opt.filter));
    }
  }
  for (int t : opt.threads)
    for (std::int64_t b : opt.batches)
      for (const Shape& s : shapes) {
        if (std::find(opt.ops.begin(), opt.ops.end(), s.op()) == opt.ops.end()) continue;
        Shape run = batched(s, b);
        try {
          check_size(run);
        } catch (const ShapeError& e) {
          throw ShapeError(fmt::format("{} at batch {}: {}", to_string(s), b, e.what()));
        }
        for (Impl impl : opt.impls)
          for (DType d : opt.dtypes) {
            if (impl == Impl::naive && !opt.naive_everywhere && ops(run) > kNaiveMaxOps) {
              ++naive_skipped;
              continue;
            }
            const Kernel* k = select(s.op(), impl, d);
            if (!k) {
              skipped.emplace(fmt::format("{} {} {}", name(s.op()), name(impl), name(d)), why_not(s.op(), impl, d));
              continue;
            }
            auto c = std::make_unique<Case>();
            *c = {.kernel = k, .shape = s, .run = run, .batch = b, .threads = t,
                  .name = fmt::format("{}/{}/{}/threads:{}/batch:{}/{}", name(s.op()), name(impl), name(d), t, b,
                                      dims_string(s))};
            if (filter && std::regex_search(c->name, *filter) == negate_filter) continue;
            cases.push_back(std::move(c));
          }
      }
  for (const auto& [what, why] : skipped) fmt::print(stderr, "roofbench: skipping {}: {}\n", what, why);
  if (naive_skipped)
    fmt::print(stderr, "roofbench: skipping naive on {} problems above {:.0e} ops (name naive in --impls to run it)\n",
               naive_skipped, static_cast<double>(kNaiveMaxOps));
  if (cases.empty()) throw std::runtime_error("nothing to run: no kernel matches the filters");
  check_all(cases);

  add_context(opt, profile);
  Buffers buffers{.cold = opt.cache == "cold"};
  std::map<std::string, Case*> by_name;
  for (auto& c : cases) {
    Case* cp = c.get();
    auto* bm = benchmark::RegisterBenchmark(cp->name.c_str(), [cp, &buffers](benchmark::State& st) {
      time_case(st, *cp, buffers);
    });
    // OpenMP workers are invisible to the CPU timer of the main thread.
    bm->UseRealTime()->Unit(benchmark::kMicrosecond);
    if (!opt.gbench_sets_repetitions) bm->Repetitions(opt.repetitions);
    if (!opt.gbench_sets_min_time) bm->MinTime(opt.min_time);
    by_name.emplace(cp->name, cp);
  }

  const std::size_t repetitions = opt.gbench_sets_repetitions ? 0 : static_cast<std::size_t>(opt.repetitions);
  Collector collector(by_name, cases.size() * std::max<std::size_t>(1, repetitions));
  benchmark::RunSpecifiedBenchmarks(&collector);

  std::vector<CsvRow> rows;
  for (const auto& c : cases) {
    if (c->seconds.empty() && !c->failure) continue;  // filtered out by --benchmark_filter
    CsvRow r;
    r.op = name(c->shape.op());
    r.impl = name(c->kernel->impl);
    r.dtype = name(c->kernel->dtype);
    r.threads = c->threads;
    r.batch = c->batch;
    r.shape = to_string(c->shape);
    r.ops = ops(c->run);
    r.bytes = bytes(c->run, c->kernel->dtype);
    r.variant = c->kernel->variant;
    r.cache = opt.cache;
    r.repetitions = static_cast<int>(c->seconds.size());
    if (c->failure) {
      r.status = *c->failure;
    } else {
      r.measured_s = median(c->seconds);
      r.cv = coefficient_of_variation(c->seconds);
      r.status = "ok";
    }
    rows.push_back(std::move(r));
  }
  write_csv(opt.csv, rows);
  const auto failed = std::count_if(rows.begin(), rows.end(), [](const CsvRow& r) { return r.status != "ok"; });
  fmt::print(stderr, "roofbench: wrote {} rows to {}{}\n", rows.size(), opt.csv,
             failed ? fmt::format(" ({} failed the check against naive)", failed) : "");
  return failed ? 1 : 0;
}

}  // namespace roofbench
