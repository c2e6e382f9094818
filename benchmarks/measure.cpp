#include "benchmarks/measure.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

#include "benchmarks/canary.h"
#include "benchmarks/interrupt.h"
#include "kernels/check.h"
#include "kernels/core/cost.h"

namespace roofbench {
namespace {

// Operands of the jobs being timed in one round. Google Benchmark calls a benchmark several
// times (iteration estimation, repetitions), and with random interleaving every repetition of a
// job comes after some other job. Within a round each job's operands are therefore allocated
// and filled once and kept while they fit a budget (a quarter of physical memory): reallocating
// on every visit gave each repetition fresh pages and measurably more spread. Past the budget,
// the oldest are released.
//
// Across rounds they are not kept: each round takes its rows' operands afresh, on other
// physical pages (the previous round's are held, budget permitting, until the next one ends,
// so the allocator cannot hand the same pages back). Some rows' speed follows where their operands
// landed: a depthwise convolution whose working set sits at the L2's edge ran 0.23 ms in most
// processes and 0.27-0.43 ms in some, each process steady within itself. With the least
// repetition as the estimate, a row that meets two or more placements keeps the better one's
// time (docs/noise.md, "Placement").
//
// Warm: one set of operands, reused, so whatever fits in cache stays there. Cold: enough
// copies that together they span twice the last-level cache, used in turn, so every call
// finds its operands evicted by the calls before it.
struct Buffers {
  bool cold = false;
  struct Held {
    const Job* job;
    int round;
    std::int64_t bytes;
    std::vector<ProblemBuffers> copies;
  };
  std::deque<Held> held{};  // allocation order, oldest first: this round's and the one before's
  std::int64_t held_bytes = 0;
  int round = 0;

  static std::int64_t budget() { return physical_memory_bytes() / 4; }

  // The next round takes fresh operands; the round before this one lets go of its own.
  void next_round() {
    ++round;
    while (!held.empty() && held.front().round < round - 1) release_oldest();
  }

  void release_oldest() {
    held_bytes -= held.front().bytes;
    held.pop_front();
  }

  std::span<ProblemBuffers> for_job(const Job& j) {
    for (Held& h : held)
      if (h.job == &j && h.round == round) return h.copies;
    const std::int64_t footprint = std::max<std::int64_t>(1, footprint_bytes(j.run, j.kernel->dtype));
    const std::int64_t llc = cpu().last_level_cache_bytes();
    const std::int64_t n = cold ? std::clamp<std::int64_t>(2 * llc / footprint + 1, 1, 4096) : 1;
    const std::int64_t bytes = n * (footprint + static_cast<std::int64_t>(j.kernel->workspace_bytes(j.run, j.threads)));
    while (!held.empty() && held_bytes + bytes > budget()) release_oldest();
    // Each copy gets its own plan (prepare, outside timing): a plan may hold reordered weights,
    // which in cold mode must rotate with the copy they came from.
    std::vector<ProblemBuffers> copies;
    for (std::int64_t i = 0; i < n; ++i) {
      copies.push_back(make_buffers(j.run, j.kernel->dtype, *j.kernel, j.threads));
      copies.back().prepare(*j.kernel, j.run, j.threads);
    }
    held_bytes += bytes;
    return held.emplace_back(Held{&j, round, bytes, std::move(copies)}).copies;
  }
};

// How long one kernel call (or one repetition of min_time) may take before the supervisor calls
// it hung: generous (a minute or two beyond 50 MOP/s, slower than any kernel roofbench times),
// since a false alarm costs a good row. ROOFBENCH_HANG_SECONDS sets it instead (tests).
double hang_limit_s(const Job& j, double min_time) {
  if (const char* v = std::getenv("ROOFBENCH_HANG_SECONDS"); v && std::atof(v) > 0) return std::atof(v);
  return 120 + 10 * min_time + static_cast<double>(ops(j.run)) / 5e7;
}

// CPU time of the whole machine (every vCPU's busy and steal time, /proc/stat) and of this
// process (getrusage, every thread), so a repetition can tell how much of the machine went to
// others: a neighbour process on one vCPU, or the host (steal). /proc/stat counts in clock
// ticks (10 ms), getrusage in microseconds.
struct CpuTimes {
  double busy = 0, steal = 0, self = 0;
};

CpuTimes cpu_times() {
  CpuTimes t;
  if (std::FILE* f = std::fopen("/proc/stat", "r")) {
    unsigned long long v[8] = {};
    if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                    &v[7]) == 8) {
      const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
      t.busy = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6]) * tick;
      t.steal = static_cast<double>(v[7]) * tick;
    }
    std::fclose(f);
  }
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) == 0) {
    t.self = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  return t;
}

// The run-queue delay of each of this process's threads, in seconds, by thread id: the time it was
// runnable but another task had its vCPU (/proc/self/task/TID/schedstat, second field, which the
// kernel keeps with or without scheduler statistics). Nanosecond counts: a neighbour's burst of a
// millisecond shows, where /proc/stat's ticks are 10 ms.
std::map<long, double> run_queue_waits() {
  std::map<long, double> waits;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(entry.path() / "schedstat");
    double on_cpu_ns = 0, waiting_ns = 0;
    if (in >> on_cpu_ns >> waiting_ns) waits[std::atol(entry.path().filename().c_str())] = 1e-9 * waiting_ns;
  }
  return waits;
}

// The largest share of `wall` one thread spent waiting between two snapshots; a thread born
// in between counts from zero.
double largest_wait_share(const std::map<long, double>& before, const std::map<long, double>& after, double wall) {
  double most = 0;
  for (const auto& [tid, waited] : after) {
    const auto it = before.find(tid);
    most = std::max(most, waited - (it == before.end() ? 0.0 : it->second));
  }
  return wall > 0 ? most / wall : 0;
}

void time_job(benchmark::State& state, const Job& j, Buffers& buffers, Canary& canary, const MeasureOptions& opt) {
  if (opt.journal) opt.journal->begin(j.name, "time", hang_limit_s(j, opt.min_time));
  struct End {
    Journal* journal;
    const std::string& name;
    ~End() {
      if (journal) journal->end(name);
    }
  } end{opt.journal, j.name};
  // After Ctrl-C every remaining repetition ends here, before allocating anything, so Google
  // Benchmark walks through the rest in moments and the caller keeps what was finished. The
  // skip happens inside the loop: a repetition skipped before it reports zero iterations, and
  // Google Benchmark's statistics abort when a job's repetitions report different counts.
  if (interrupted()) {
    for (auto _ : state) {
      state.SkipWithError("interrupted");
      break;
    }
    return;
  }
  set_library_threads(j.threads);
  std::span<ProblemBuffers> copies;
  try {
    test_fault_hook(j.name);
    copies = buffers.for_job(j);
  } catch (const std::exception& e) {  // a plan that cannot be built: the row fails, the run goes on
    state.SkipWithError(e.what());
    return;
  }
  std::size_t next = 0;
  const double before = gate(canary, j.threads, opt.rules);
  const CpuTimes cpu0 = cpu_times();
  const std::map<long, double> waits0 = run_queue_waits();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (interrupted()) {  // one load of a flag per call: nothing beside a kernel call
      state.SkipWithError("interrupted");
      break;
    }
    j.kernel->run(j.run, copies[next].operands(), j.threads);
    next = next + 1 == copies.size() ? 0 : next + 1;
    benchmark::ClobberMemory();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const CpuTimes cpu1 = cpu_times();
  state.counters["waited"] = largest_wait_share(waits0, run_queue_waits(), wall);
  // The slower of the two canaries: a slow phase that began during the repetition shows after.
  state.counters["canary_s"] = std::max(before, canary.time(j.threads));
  // The share of the machine's CPU time others took during the loop (other processes, and the
  // host as steal): one 10 ms tick of /proc/stat is the resolution.
  const double capacity = wall * static_cast<double>(std::max(1, cpu().logical_cpus));
  state.counters["others"] =
      capacity > 0
          ? std::max(0.0, (cpu1.busy - cpu0.busy) - (cpu1.self - cpu0.self) + (cpu1.steal - cpu0.steal)) / capacity
          : 0.0;

  const double ops_count = static_cast<double>(ops(j.run)),
               byte_count = static_cast<double>(bytes(j.run, j.kernel->dtype));
  using benchmark::Counter;
  state.counters["ops/s"] = Counter(ops_count, Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = Counter(byte_count, Counter::kIsIterationInvariantRate, Counter::kIs1024);
  state.counters["intensity"] = Counter(ops_count / byte_count);
}

// Keeps every repetition's time for our own median and CV, and shows the console only the
// aggregates (or the single run) so long sweeps stay readable; with console off, only the
// progress lines on stderr.
class Collector : public benchmark::ConsoleReporter {
 public:
  Collector(std::map<std::string, Job*> jobs, std::size_t total, bool console, Journal* journal)
      : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular),
        jobs_(std::move(jobs)),
        total_(total),
        console_(console),
        journal_(journal) {}

  // Google Benchmark's context (CPU, caches, load) goes to stdout with the table; stderr keeps
  // only progress and errors. Debian's libbenchmark is a debug build of the *library*, which
  // says nothing about our kernels' flags, so its warning is dropped.
  bool ReportContext(const Context& context) override {
    if (!console_) return true;
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
      if (r.error_occurred && interrupted()) continue;  // hundreds of "interrupted" lines say nothing
      auto it = jobs_.find(r.run_name.function_name);
      if (r.run_type == Run::RT_Iteration && it != jobs_.end() && !r.error_occurred) {
        Job& job = *it->second;
        job.seconds.push_back(r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit));
        const auto c = r.counters.find("canary_s");
        job.canary_s.push_back(c == r.counters.end() ? 0.0 : c->second.value);
        const auto o = r.counters.find("others");
        job.others.push_back(o == r.counters.end() ? 0.0 : o->second.value);
        const auto w = r.counters.find("waited");
        job.waited.push_back(w == r.counters.end() ? 0.0 : w->second.value);
        if (journal_)
          journal_->repetition(it->first, job.seconds.back(), job.canary_s.back(), job.others.back(),
                               job.waited.back());
      }
      if (r.run_type == Run::RT_Aggregate || r.error_occurred || r.repetitions <= 1) shown.push_back(r);
      if (r.run_type == Run::RT_Iteration) progress(r.run_name.function_name);
    }
    if (console_ && !shown.empty()) ConsoleReporter::ReportRuns(shown);
  }

 private:
  // One line on stderr per repetition done, at most one a second: n/N, elapsed and time left.
  void progress(const std::string& last) {
    ++done_;
    const auto now = std::chrono::steady_clock::now();
    if (done_ != total_ && now - last_print_ < std::chrono::seconds(1)) return;
    last_print_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double left = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - std::min(done_, total_));
    fmt::print(stderr, "[{}/{} repetitions, {:.0f} s, ~{:.0f} s left] {}\n", done_, total_, elapsed, left, last);
  }

  std::map<std::string, Job*> jobs_;
  std::size_t total_;  // repetitions of all benchmarks
  bool console_;
  Journal* journal_;
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_print_{};
};

}  // namespace

std::int64_t memory_needed(const Job& j, bool cold) {
  const DType d = j.kernel->dtype;
  const std::int64_t llc = cpu().last_level_cache_bytes();
  // In double: an im2col workspace can be far larger than the operands the shape check bounded.
  const double need = static_cast<double>(footprint_bytes(j.run, d)) +
                      static_cast<double>(j.kernel->workspace_bytes(j.run, j.threads)) +
                      static_cast<double>(output_bytes(j.run, d)) + static_cast<double>(weight_bytes(j.run, d)) +
                      (cold ? 2.0 * static_cast<double>(llc) : 0.0);
  return need >= 0x1p62 ? std::int64_t{1} << 62 : static_cast<std::int64_t>(need);
}

void check_timeable(const Job& j, bool cold, std::int64_t available) {
  if (const auto n = static_cast<double>(ops(j.run)); n > kMaxTimedOps)
    throw std::runtime_error(
        fmt::format("{}: {:.3g} ops per call is over the limit of {:.0e} for timing (minutes to "
                    "hours per call); `roofbench predict` estimates it without running it",
                    j.name, n, kMaxTimedOps));
  const std::int64_t need = memory_needed(j, cold);
  if (need > available)
    throw std::runtime_error(fmt::format(
        "{}: needs {:.2f} GiB (operands, workspace, reference output, reordered weights) but {:.2f} GiB of memory "
        "is available",
        j.name, static_cast<double>(need) / (1 << 30), static_cast<double>(available) / (1 << 30)));
}

void check_jobs(std::span<Job* const> jobs, Journal* journal) {
  std::vector<Job*> order(jobs.begin(), jobs.end());
  // The descriptor does not print an mv's vector count, so it is part of the key.
  const auto key = [](const Job* j) {
    const auto* mv = std::get_if<MvShape>(&j->run.dims);
    return std::make_tuple(to_string(Shape{j->run.dims, {}, 1}), mv ? mv->b : 0, static_cast<int>(j->kernel->dtype));
  };
  std::stable_sort(order.begin(), order.end(), [&](const Job* a, const Job* b) { return key(a) < key(b); });
  AlignedBuffer expected;
  std::optional<decltype(key(order[0]))> expected_for;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < order.size() && !interrupted(); ++i) {
    Job& j = *order[i];
    if (const auto o = journal ? journal->outcome(j.name) : std::nullopt) {  // a worker before this one checked it
      if (o->kind == Journal::Outcome::skipped) j.skipped = o->reason;
      if (o->kind == Journal::Outcome::failed) j.failure = o->reason;
      continue;
    }
    if (expected_for != key(&j)) {
      expected = naive_output(check_slice(j.run), j.kernel->dtype, j.threads);
      expected_for = key(&j);
    }
    set_library_threads(j.threads);
    if (journal) journal->begin(j.name, "check", hang_limit_s(j, 0));
    try {
      test_fault_hook(j.name);
      const Agreement a = check_against(*j.kernel, j.run, j.threads, expected.bytes());
      if (!a.ok) j.failure = fmt::format("mismatch against naive: {}", a.message());
    } catch (const KernelUnavailable& e) {
      j.skipped = e.what();
    } catch (const std::exception& e) {  // e.g. a library that cannot build this kernel here
      j.failure = e.what();
    }
    if (journal && !interrupted()) {
      journal->end(j.name);
      if (j.failure)
        journal->failed(j.name, *j.failure);
      else if (j.skipped)
        journal->skipped(j.name, *j.skipped);
      else
        journal->checked(j.name);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > 2 && (i + 1) % 16 == 0)
      fmt::print(stderr, "[checked {}/{} against naive, {:.0f} s]\n", i + 1, order.size(), elapsed);
  }
}

namespace {

// One round: `wanted` more repetitions of each job in it, every job's repetitions interleaved
// with every other's in random order (Google Benchmark's --benchmark_enable_random_interleaving,
// which commands/launch.cpp turns on).
void run_round(const std::map<Job*, int>& wanted, Buffers& buffers, Canary& canary, const MeasureOptions& opt) {
  benchmark::ClearRegisteredBenchmarks();
  std::map<std::string, Job*> by_name;
  std::size_t total = 0;
  for (const auto& [j, n] : wanted) {
    auto* bm = benchmark::RegisterBenchmark(j->name.c_str(), [j, &buffers, &canary, &opt](benchmark::State& st) {
      time_job(st, *j, buffers, canary, opt);
    });
    // OpenMP workers are invisible to the CPU timer of the main thread.
    bm->UseRealTime()->Unit(benchmark::kMicrosecond);
    // The least repetition beside Google Benchmark's mean, median and stddev in its table.
    bm->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
    if (!opt.repetitions_from_gbench) bm->Repetitions(n);
    if (!opt.min_time_from_gbench) {
      // After the first round the iterations that fill min_time are known from the row's least
      // repetition, so Google Benchmark is told them instead of finding them again (it runs 1,
      // 10, 100... iterations first, which took about as long as the repetition itself).
      const double least = j->seconds.empty() ? 0 : *std::min_element(j->seconds.begin(), j->seconds.end());
      if (least > 0)
        bm->Iterations(static_cast<benchmark::IterationCount>(std::clamp(std::ceil(opt.min_time / least), 1.0, 1e9)));
      else
        bm->MinTime(opt.min_time);
    }
    by_name.emplace(j->name, j);
    total += static_cast<std::size_t>(std::max(1, n));
  }
  Collector collector(by_name, opt.repetitions_from_gbench ? 0 : total, opt.console, opt.journal);
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::ClearRegisteredBenchmarks();
}

// canary_ratio from canary_s against the least canary seen at the job's threads.
void judge(Job& j, const Canary& canary) {
  j.canary_ratio.assign(j.seconds.size(), 1.0);
  const double best = canary.best(j.threads);
  for (std::size_t i = 0; i < j.seconds.size() && i < j.canary_s.size(); ++i)
    if (j.canary_s[i] > 0 && best > 0) j.canary_ratio[i] = j.canary_s[i] / best;
}

}  // namespace

double gate(Canary& canary, int threads, const ProtocolRules& rules) {
  double t = canary.time(threads);
  if (!rules.reject) return t;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kGateSeconds);
  while (t > (1 + rules.canary_tolerance) * canary.best(threads) && std::chrono::steady_clock::now() < deadline &&
         !interrupted()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    t = canary.time(threads);
  }
  return t;
}

std::vector<Repetition> repetitions_of(const Job& j) {
  std::vector<Repetition> r;
  for (std::size_t i = 0; i < j.seconds.size(); ++i)
    r.push_back({j.seconds[i], i < j.canary_ratio.size() ? j.canary_ratio[i] : 1.0,
                 i < j.others.size() ? j.others[i] : 0.0, i < j.waited.size() ? j.waited[i] : 0.0});
  return r;
}

Estimate estimate_of(const Job& j, const ProtocolRules& rules) {
  const std::vector<Repetition> r = repetitions_of(j);
  return estimate(r, rules);
}

void measure_jobs(std::span<Job* const> jobs, const MeasureOptions& opt) {
  Buffers buffers{.cold = opt.cold};
  Canary own;
  Canary& canary = opt.canary ? *opt.canary : own;
  std::map<Job*, int> wanted;
  for (Job* j : jobs) {
    if (j->failure || j->skipped) continue;
    if (opt.journal) {
      // Timed by a worker before this one: its repetitions are this job's, and the round goes
      // on from there.
      j->seconds = opt.journal->repetitions(j->name);
      j->canary_s = opt.journal->canaries(j->name);
      j->canary_s.resize(j->seconds.size(), 0.0);
      j->others = opt.journal->others(j->name);
      j->others.resize(j->seconds.size(), 0.0);
      j->waited = opt.journal->waited(j->name);
      j->waited.resize(j->seconds.size(), 0.0);
    }
    const int more = opt.repetitions - static_cast<int>(j->seconds.size());
    if (more > 0 || opt.repetitions_from_gbench) wanted.emplace(j, std::max(1, more));
  }
  // The canary's best at each thread count before anything is timed, so the first repetitions
  // are judged too.
  std::set<int> thread_counts;
  for (const auto& [j, n] : wanted) thread_counts.insert(j->threads);
  for (int t : thread_counts) canary.time(t, 5);
  const int cap = std::max(opt.repetitions, opt.max_repetitions);
  while (!wanted.empty() && !interrupted()) {
    run_round(wanted, buffers, canary, opt);
    buffers.next_round();
    if (opt.repetitions_from_gbench) break;  // Google Benchmark's flags decide the repetitions
    std::map<Job*, int> again;
    for (Job* j : jobs) {
      if (j->failure || j->skipped || j->seconds.empty()) continue;
      judge(*j, canary);
      const int add = repetitions_to_add(estimate_of(*j, opt.rules), static_cast<int>(j->seconds.size()),
                                         opt.repetitions, cap, opt.rules);
      if (add > 0) again.emplace(j, add);
    }
    if (!again.empty())
      fmt::print(stderr, "[{} of {} rows not yet within ±{:.0f}% (or with slowed repetitions): another round]\n",
                 again.size(), jobs.size(), 100 * opt.rules.target_halfwidth);
    wanted = std::move(again);
  }
  for (Job* j : jobs) judge(*j, canary);
}

}  // namespace roofbench
