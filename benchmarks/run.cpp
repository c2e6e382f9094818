#include "benchmarks/run.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <tuple>
#include <memory>
#include <numeric>
#include <optional>
#include <regex>
#include <sstream>
#include <tuple>
#include <utility>
#include <stdexcept>

#include "kernels/core/shape_file.h"
#include "benchmarks/csv.h"
#include "benchmarks/interrupt.h"
#include "benchmarks/journal.h"
#include "benchmarks/supervisor.h"
#include "benchmarks/measure.h"
#include "kernels/check.h"
#include "kernels/core/cost.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"

extern "C" {
char* openblas_get_config(void);
int openblas_get_parallel(void);
int openblas_get_num_threads(void);
}

namespace roofbench {
namespace {

// What the kernel's cpufreq interface says about clock changes, for the benchmark context:
// a governor other than "performance", or turbo boost, lets the clock (and the timings) move.
std::string frequency_scaling() {
  const auto read = [](const char* path) {
    std::ifstream in(path);
    std::string line;
    return std::getline(in, line) ? line : std::string("not exposed");
  };
  return fmt::format("governor {}, boost {}", read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
                     read("/sys/devices/system/cpu/cpufreq/boost"));
}

// One row: a timed job plus the shape as written in the file and the batch applied to it.
struct Case {
  Job job;
  Shape shape;  // as in the file
  std::int64_t batch = 1;
};

std::string dims_string(const Shape& s) { return to_string(Shape{s.dims, {}, 1}); }

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
  benchmark::AddCustomContext("ROOFBENCH_DISABLE_ISA", env("ROOFBENCH_DISABLE_ISA"));
  benchmark::AddCustomContext("frequency_scaling", frequency_scaling());
  benchmark::AddCustomContext("openblas", openblas_description());
  benchmark::AddCustomContext(
      "roofbench_threads", fmt::format("{} (OpenMP and OpenBLAS alike, per benchmark)", fmt::join(opt.threads, ",")));
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : std::string("?"); };
  benchmark::AddCustomContext("roofbench_profile",
                              profile ? fmt::format("{} (calibrated {} on {}, {})", opt.profile,
                                                    text(profile->machine.value("date", nlohmann::json())),
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
    throw std::runtime_error(
        fmt::format("the loaded OpenBLAS is not the OpenMP build: {}; install "
                    "libopenblas0-openmp",
                    openblas_description()));
}

namespace {

// Every (threads, batch, shape, impl, dtype) combination the options select, in that order.
// `timing`: run leaves naive out of large problems (unless named) and applies
// --benchmark_filter here too, so filtered-out cases are neither checked nor built; predict
// predicts everything.
std::vector<std::unique_ptr<Case>> build_cases(const RunOptions& opt, bool timing, bool verbose = true) {
  const std::vector<Shape> shapes = distinct(load_shapes(opt.shapes));
  std::vector<std::unique_ptr<Case>> cases;
  std::map<std::string, std::string> skipped;  // (op impl dtype) -> reason, printed once
  int naive_skipped = 0;
  // Google Benchmark's syntax: a regex, or "-regex" for everything else.
  std::optional<std::regex> filter;
  const bool negate_filter = !opt.filter.empty() && opt.filter[0] == '-';
  if (timing && !opt.filter.empty()) {
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
            if (timing && impl == Impl::naive && !opt.naive_everywhere && ops(run) > kNaiveMaxOps) {
              ++naive_skipped;
              continue;
            }
            const Kernel* k = select(s.op(), impl, d);
            if (!k) {
              skipped.emplace(fmt::format("{} {} {}", name(s.op()), name(impl), name(d)), why_not(s.op(), impl, d));
              continue;
            }
            auto c = std::make_unique<Case>();
            c->job = {.kernel = k,
                      .run = run,
                      .threads = t,
                      .name = fmt::format("{}/{}/{}/threads:{}/batch:{}/{}", name(s.op()), name(impl), name(d), t, b,
                                          dims_string(s))};
            c->shape = s;
            c->batch = b;
            if (filter && std::regex_search(c->job.name, *filter) == negate_filter) continue;
            cases.push_back(std::move(c));
          }
      }
  if (verbose)
    for (const auto& [what, why] : skipped) fmt::print(stderr, "roofbench: skipping {}: {}\n", what, why);
  if (naive_skipped && verbose)
    fmt::print(stderr, "roofbench: skipping naive on {} problems above {:.0e} ops (name naive in --impls to run it)\n",
               naive_skipped, static_cast<double>(kNaiveMaxOps));
  if (cases.empty()) throw std::runtime_error("nothing to run: no kernel matches the filters");
  if (timing) {
    const std::int64_t available = available_memory_bytes();
    for (const auto& c : cases) check_timeable(c->job, opt.cache == "cold", available);
  }
  return cases;
}

CsvRow row_of(const Case& c, const RunOptions& opt, const std::optional<Profile>& profile) {
  const Job& j = c.job;
  CsvRow r;
  r.op = name(c.shape.op());
  r.impl = name(j.kernel->impl);
  r.dtype = name(j.kernel->dtype);
  r.threads = j.threads;
  r.batch = c.batch;
  r.shape = to_string(c.shape);
  r.ops = ops(j.run);
  r.bytes = bytes(j.run, j.kernel->dtype);
  r.variant = j.kernel->variant;
  r.cache = opt.cache;
  if (profile) {
    // The one prediction function, called the same way by run and predict: same shape, same
    // profile, same predicted_s.
    const Prediction p = predict(*profile, j.run, j.kernel->impl, j.kernel->dtype, j.threads, opt.cache == "cold");
    r.predicted_s = p.seconds;
    r.bound = p.bound;
    r.classic_s = p.classic_s;
    r.classic_bound = p.classic_bound;
    r.t_compute_s = p.t_compute;
    r.t_memory_s = p.t_memory;
    r.overhead_s = p.overhead;
    r.level = p.level;
    r.model = p.fitted ? "fitted" : "classic";
  }
  return r;
}

// Predictions need every machine figure the rows ask for; a missing one is reported before
// anything is timed, not after the sweep.
void check_predictable(const std::vector<std::unique_ptr<Case>>& cases, const RunOptions& opt,
                       const std::optional<Profile>& profile) {
  if (!profile) return;
  for (const auto& c : cases) {
    try {
      (void)row_of(*c, opt, profile);
    } catch (const ProfileError& e) {
      throw ProfileError(fmt::format("{}: {}", opt.profile, e.what()));
    }
  }
}

// Achieved ops/s over the calibrated peak of the row's dtype at its thread count (i4: i8's, as
// machine_peak decides); nullopt without a profile, a time or such a peak.
std::optional<double> roof_ratio(const CsvRow& r, const Kernel& k, const std::optional<Profile>& profile) {
  if (!profile || !r.measured_s || !(*r.measured_s > 0)) return std::nullopt;
  try {
    return static_cast<double>(r.ops) / *r.measured_s / machine_peak(*profile, k.dtype, r.threads);
  } catch (const ProfileError&) {
    return std::nullopt;  // no peak for this dtype and thread count: nothing to hold the row to
  }
}

// Rows faster than their roof mean the roof is wrong: said once, with the worst of them.
void warn_above_roof(const std::vector<CsvRow>& rows) {
  const CsvRow* worst = nullptr;
  std::size_t above = 0;
  for (const CsvRow& r : rows)
    if (above_roof(r)) {
      ++above;
      if (!worst || *r.roof_ratio > *worst->roof_ratio) worst = &r;
    }
  if (!worst) return;
  fmt::print(stderr,
             "roofbench: {} of {} rows beat their dtype's calibrated peak by more than {:.0f}% (column above_roof): a "
             "calibration bug (a faster unit the peak loops miss, or a clock that was lower while calibrating); "
             "worst: {} {} {} threads:{} batch:{} {} at {:.2f}x its peak\n",
             above, rows.size(), 100 * kAboveRoofTolerance, worst->op, worst->impl, worst->dtype, worst->threads,
             worst->batch, worst->shape, *worst->roof_ratio);
}

ProtocolRules rules_of(const RunOptions& opt) { return {.reject = !opt.no_reject}; }

// What the machine did during the run, from the rows' repetitions: the run summary's lines.
void print_machine_state(const std::vector<CsvRow>& rows, const RunOptions& opt) {
  int timed = 0, retaken = 0, unconverged = 0, slowed_rows = 0, rejected = 0, kept = 0, never = 0;
  std::vector<double> slowdowns;
  for (const CsvRow& r : rows) {
    if (!r.measured_s) continue;
    ++timed;
    kept += r.repetitions;
    rejected += r.repetitions_rejected;
    if (r.repetitions + r.repetitions_rejected > opt.repetitions) ++retaken;
    if (!r.converged) ++unconverged;
    if (r.repetitions_rejected > 0) ++slowed_rows;
    if (r.repetitions == 0) ++never;
    if (r.slowdown) slowdowns.push_back(*r.slowdown);
  }
  if (timed == 0) return;
  fmt::print(
      stderr,
      "roofbench: measurement: {} rows; {} of {} repetitions rejected as taken while the machine ran slow (on {} "
      "rows); {} rows needed more rounds; {} never came within ±2% (column converged)\n",
      timed, rejected, kept + rejected, slowed_rows, retaken, unconverged);
  if (never > 0)
    fmt::print(stderr,
               "roofbench: warning: {} rows never ran at the machine's own speed (repetitions 0): their "
               "measured_s comes from the least slowed repetitions\n",
               never);
  std::sort(slowdowns.begin(), slowdowns.end());
  fmt::print(stderr,
             "roofbench: the machine ran the rows {:.2f}x slower than its own speed (median; worst {:.2f}x): "
             "measured_s is the kernel's time at its own speed, lived_s what this run lived through\n",
             median(slowdowns), slowdowns.back());
}

// Every repetition of every timed row, in the order taken: its time, the canary's ratio to its
// best, the share of the machine others took, whether it counted (and if not, why), and the
// largest share of it one of the kernel's threads waited for its vCPU (appended last: readers of
// the first columns keep working).
void write_repetitions_csv(const std::string& path, const std::vector<std::unique_ptr<Case>>& cases,
                           const RunOptions& opt) {
  std::string text =
      "op,impl,dtype,threads,batch,shape,index,seconds,canary_s,canary_ratio,others,kept,rejected_by,waited\n";
  for (const auto& c : cases) {
    const Job& j = c->job;
    const std::vector<Repetition> reps = repetitions_of(j);
    for (std::size_t i = 0; i < reps.size(); ++i) {
      const std::string_view why = rejection(reps[i], rules_of(opt));
      text +=
          fmt::format("{},{},{},{},{},{},{},{},{},{:.4f},{:.4f},{},{},{:.4f}\n", name(j.kernel->op),
                      name(j.kernel->impl), name(j.kernel->dtype), j.threads, c->batch, csv_field(to_string(c->shape)),
                      i, reps[i].seconds, i < j.canary_s.size() ? j.canary_s[i] : 0.0, reps[i].canary_ratio,
                      reps[i].others, why.empty() ? "yes" : "no", why, reps[i].waited);
    }
  }
  write_text_atomically(path, text);
}

void warn_unfitted(const std::vector<CsvRow>& rows) {
  std::map<std::string, int> unfitted;
  for (const CsvRow& r : rows)
    if (r.model == "classic") ++unfitted[fmt::format("{} {} {} threads:{}", r.op, r.impl, r.dtype, r.threads)];
  for (const auto& [what, n] : unfitted)
    fmt::print(stderr, "roofbench: the profile has no fit for {}: {} rows predicted by the classic roofline\n", what,
               n);
}

// The CSV row of one timed case: its estimate, or why it has none.
CsvRow measured_row(const Case& c, const RunOptions& opt, const std::optional<Profile>& profile) {
  const Job& j = c.job;
  CsvRow r = row_of(c, opt, profile);
  const Estimate e = estimate_of(j, rules_of(opt));
  r.repetitions = e.kept;
  r.repetitions_rejected = e.rejected;
  if (j.failure) {
    r.status = *j.failure;
    return r;
  }
  if (j.skipped) {
    r.status = "skipped: " + *j.skipped;
    return r;
  }
  const std::vector<double> kept = kept_seconds(repetitions_of(j), rules_of(opt));
  if (e.seconds > 0) {
    r.measured_s = e.seconds;
    r.measured_lo_s = e.lo;
    r.measured_hi_s = e.hi;
    r.slowdown = e.slowdown;
  }
  r.lived_s = e.lived_seconds;
  r.converged = e.converged;
  r.cv = e.cv;
  std::tie(r.measured_first_s, r.measured_second_s) = half_medians(kept);
  r.noisy = *r.cv > opt.noise_threshold;
  r.roof_ratio = roof_ratio(r, *j.kernel, profile);
  // Interrupted with some repetitions done: their median is kept, and the status says it
  // rests on fewer repetitions than asked, so nothing that wants "ok" rows takes it.
  r.status = std::cmp_less(j.seconds.size(), opt.repetitions)
                 ? fmt::format("interrupted after {} of {} repetitions", j.seconds.size(), opt.repetitions)
                 : "ok";
  return r;
}

// The profile's canary (the least a whole calibration saw) is the machine's own speed, so a
// run that starts inside a slow phase still knows it; a profile from elsewhere is not.
void remember_profile_canary(Canary& canary, const std::optional<Profile>& profile, const RunOptions& opt) {
  if (profile && !other_machine_warning(*profile, opt.profile))
    for (const CanaryEntry& c : profile->canary) canary.remember(c.threads, c.seconds);
}

void time_cases(const std::vector<Job*>& jobs, const RunOptions& opt, Canary& canary, Journal* journal) {
  if (interrupted()) return;
  measure_jobs(jobs, {.repetitions = opt.repetitions,
                      .max_repetitions = opt.max_repetitions > 0 ? opt.max_repetitions : 3 * opt.repetitions,
                      .rules = rules_of(opt),
                      .canary = &canary,
                      .min_time = opt.min_time,
                      .repetitions_from_gbench = opt.gbench_sets_repetitions,
                      .min_time_from_gbench = opt.gbench_sets_min_time,
                      .cold = opt.cache == "cold",
                      .console = true,
                      .journal = journal});
}

int report_interrupted(const std::vector<CsvRow>& rows, std::size_t planned, const RunOptions& opt) {
  const auto complete = std::count_if(rows.begin(), rows.end(), [](const CsvRow& r) { return r.status == "ok"; });
  fmt::print(stderr,
             "roofbench: interrupted by {}: wrote {} complete rows and {} with fewer repetitions (of {} "
             "planned) to {}\n",
             signal_name(interrupt_signal()), complete, static_cast<std::ptrdiff_t>(rows.size()) - complete, planned,
             opt.csv);
  return 128 + interrupt_signal();
}

// What a finished run says on stderr; returns its exit status (1 when a row failed).
int report_finished(const std::vector<CsvRow>& rows, const RunOptions& opt) {
  warn_unfitted(rows);
  print_machine_state(rows, opt);
  const auto is_skip = [](const CsvRow& r) { return r.status.starts_with("skipped: "); };
  const auto skipped = std::count_if(rows.begin(), rows.end(), is_skip);
  const auto failed =
      std::count_if(rows.begin(), rows.end(), [&](const CsvRow& r) { return r.status != "ok" && !is_skip(r); });
  for (const CsvRow& r : rows)
    if (is_skip(r)) fmt::print(stderr, "roofbench: {}\n", r.status);
  warn_above_roof(rows);
  if (const auto noisy = std::count_if(rows.begin(), rows.end(), [](const CsvRow& r) { return r.noisy; }))
    fmt::print(stderr,
               "roofbench: {} of {} rows vary by more than {:.0f}% between repetitions (column noisy): the machine was "
               "busy or its clock moved; compare them only within this run, or run them again\n",
               noisy, rows.size(), 100 * opt.noise_threshold);
  fmt::print(stderr, "roofbench: wrote {} rows to {}{}{}\n", rows.size(), opt.csv,
             skipped ? fmt::format(" ({} skipped: the library has no fast exact implementation here)", skipped) : "",
             failed ? fmt::format(" ({} failed: an error, or a mismatch against naive)", failed) : "");
  return failed ? 1 : 0;
}

}  // namespace

int run_command(const RunOptions& opt) {
  require_openmp_openblas();
  check_writable(opt.csv);
  if (!opt.repetitions_csv.empty()) check_writable(opt.repetitions_csv);
  const bool supervisor = !opt.args.empty() && !is_supervised_worker();
  std::optional<Profile> profile;
  // A bad profile or shape file stops the run before any timing (in the supervisor, which
  // reads both too: its errors are then the usual one line, with no worker and no journal).
  if (!opt.profile.empty())
    profile = supervisor ? read_profile(opt.profile) : read_profile_for_this_machine(opt.profile);
  // The skips are reported once, by the process the user started.
  std::vector<std::unique_ptr<Case>> cases = build_cases(opt, true, !is_supervised_worker());
  check_predictable(cases, opt, profile);
  // A library that crashes or hangs must cost one row, not the run: the work happens in a
  // worker process watched by this one (supervisor.h).
  if (supervisor) return supervise(opt.args, journal_path(opt.csv));
  std::optional<Journal> journal = Journal::for_this_worker();
  Journal* const jp = journal ? &*journal : nullptr;
  catch_interrupts();
  std::vector<Job*> jobs;
  for (auto& c : cases) jobs.push_back(&c->job);
  check_jobs(jobs, jp);

  add_context(opt, profile);
  Canary canary;
  remember_profile_canary(canary, profile, opt);
  time_cases(jobs, opt, canary, jp);

  std::vector<CsvRow> rows;
  for (const auto& c : cases) {
    const Job& j = c->job;
    if (j.seconds.empty() && !j.failure && !j.skipped) continue;  // filtered out by --benchmark_filter
    rows.push_back(measured_row(*c, opt, profile));
  }
  write_csv(opt.csv, rows);
  if (!opt.repetitions_csv.empty()) write_repetitions_csv(opt.repetitions_csv, cases, opt);
  if (journal) journal->remove();  // the CSV holds everything it recorded
  if (interrupted()) return report_interrupted(rows, cases.size(), opt);
  return report_finished(rows, opt);
}

Profile read_profile_for_this_machine(const std::string& path) {
  Profile profile = read_profile(path);
  if (const auto warning = other_machine_warning(profile, path))
    fmt::print(stderr, "roofbench: warning: {}\n", *warning);
  return profile;
}

int predict_command(const RunOptions& opt) {
  check_writable(opt.csv);
  // An optional from the start: row_of takes one, and handing it a Profile made a temporary
  // optional, a copy of the whole profile with its training timings, per row (1.4 s for the
  // held-out set's 816 rows, nearly all of it in copying JSON).
  const std::optional<Profile> profile = read_profile_for_this_machine(opt.profile);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::unique_ptr<Case>> cases = build_cases(opt, false);
  std::vector<CsvRow> rows;
  for (const auto& c : cases) {
    try {
      rows.push_back(row_of(*c, opt, profile));
    } catch (const ProfileError& e) {
      throw ProfileError(fmt::format("{}: {}", opt.profile, e.what()));
    }
    rows.back().status = "predicted";
  }
  write_csv(opt.csv, rows);
  warn_unfitted(rows);
  fmt::print(stderr, "roofbench: predicted {} rows in {:.3f} s, wrote {}\n", rows.size(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), opt.csv);
  return 0;
}

}  // namespace roofbench
