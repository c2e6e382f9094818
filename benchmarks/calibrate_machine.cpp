#include "benchmarks/calibrate_parts.h"

#include <benchmark/benchmark.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/amx_tiles.h"
#include "kernels/core/buffer.h"
#include "benchmarks/calib.h"
#include "benchmarks/doctor.h"
#include "benchmarks/interrupt.h"
#include "benchmarks/latency.h"
#include "benchmarks/measure.h"
#include "predictor/levels.h"
#include "predictor/parallel.h"

namespace roofbench {

// The bandwidth loops of calib.inc (the peak loops are listed in calib_units.cpp).
double read_avx2(const float*, std::int64_t);
double read_avx512(const float*, std::int64_t);
void copy_avx2(const float*, float*, std::int64_t);
void copy_avx512(const float*, float*, std::int64_t);
void stream_avx2(float*, std::int64_t, float);
void stream_avx512(float*, std::int64_t, float);

std::span<const BandwidthLoops> bandwidth_loops() {
  static const BandwidthLoops kLoops[] = {
      {"avx512f", Isa::avx512f, read_avx512, copy_avx512, stream_avx512},
      {"avx2+fma", Isa::avx2_fma, read_avx2, copy_avx2, stream_avx2},
  };
  return kLoops;
}

namespace {

// Waits while the canary says the machine runs slow (measure.h gate), where there is a canary.
void settle(const Settings& s, int threads) {
  if (s.canary) gate(*s.canary, threads, ProtocolRules{});
}

struct Stats {
  double best = 0;    // highest rate
  double spread = 0;  // (best - median) / best
};

// Repeats a timed region and reports the best rate and how far the median falls below it.
// rate(seconds) converts one repetition's time into ops/s or bytes/s.
template <class Run, class Rate>
Stats best_of(int repetitions, Run&& run, Rate&& rate) {
  run();  // warm-up: page faults, frequency ramp, OpenMP pool
  std::vector<double> rates;
  for (int i = 0; i < repetitions; ++i) {
    const auto t0 = Clock::now();
    run();
    rates.push_back(rate(std::chrono::duration<double>(Clock::now() - t0).count()));
  }
  std::sort(rates.begin(), rates.end());
  const double best = rates.back(), median = rates[rates.size() / 2];
  return {best, (best - median) / best};
}

// Doubles `count` until one run of run(count) lasts min_seconds: the timed region must dwarf
// the timer and the OpenMP fork.
template <class Run>
std::int64_t enough(double min_seconds, Run&& run) {
  std::int64_t count = 1;
  for (;;) {
    const auto t0 = Clock::now();
    run(count);
    if (std::chrono::duration<double>(Clock::now() - t0).count() >= min_seconds || count > (std::int64_t{1} << 40))
      return count;
    count *= 2;
  }
}
bool is_amx(Isa isa) { return isa == Isa::amx_tile || isa == Isa::amx_bf16 || isa == Isa::amx_int8; }

PeakEntry measure_peak(const PeakLoop& loop, int threads, const Settings& s, double hz) {
  double sink = 0;
  const auto run = [&](std::int64_t iters) {
    double local = 0;
#pragma omp parallel num_threads(threads) reduction(+ : local)
    local += loop.run(iters);
    sink += local;
  };
  settle(s, threads);
  const std::int64_t iters = enough(s.min_seconds, run);
  const Stats st = best_of(
      s.repetitions, [&] { run(iters); },
      [&](double sec) { return threads * static_cast<double>(iters) * loop.ops_per_iter / sec; });
  benchmark::DoNotOptimize(sink);  // the chains' results stay observable
  // The AMX loops return NaN when a thread's tile configuration did not read back as loaded.
  if (is_amx(loop.isa) && std::isnan(sink))
    throw std::runtime_error(
        fmt::format("{} {}: a thread's AMX tile configuration read back differently from the "
                    "one loaded; {}",
                    loop.dtype, loop.how, kNothingWritten));
  return {.dtype = std::string(loop.dtype),
          .threads = threads,
          .ops_per_s = st.best,
          .isa = std::string(loop.how),
          .spread = st.spread,
          .ops_per_cycle = hz > 0 ? st.best / (threads * hz) : 0,
          .roof = loop.roof};
}

// The core clock, measured: a dependent chain of integer adds retires one add per cycle on
// every x86 core (1 cycle latency), so adds per second is the clock the peak loops ran at,
// turbo included, which /proc/cpuinfo's nominal figure is not. The loop's own counter runs
// on other ALUs beside the chain. One thread: with every core busy the clock can be lower,
// which then shows as fewer ops per cycle at that thread count.
double measure_clock_hz(const Settings& s) {
  constexpr int kAddsPerIter = 200;  // the .rept count below
  const auto run = [](std::int64_t iters) {
    std::uint64_t x = 0;
    for (std::int64_t i = 0; i < iters; ++i) __asm__ volatile(".rept 200\n\taddq $1, %0\n\t.endr" : "+r"(x));
    benchmark::DoNotOptimize(x);
  };
  const std::int64_t iters = enough(s.min_seconds, run);
  return best_of(
             s.repetitions, [&] { run(iters); },
             [&](double sec) { return static_cast<double>(iters) * kAddsPerIter / sec; })
      .best;
}

// Why a unit's loop is not run here: the AMX reason cpu() recorded (CPU, OS, permission,
// ROOFBENCH_DISABLE_ISA), or the ISA's absence.
std::string absent_reason(Isa isa) {
  if (is_amx(isa) && !cpu().amx_absent.empty()) return cpu().amx_absent;
  return fmt::format("this CPU lacks {} (or ROOFBENCH_DISABLE_ISA disables it or what it builds on)", name(isa));
}

// ldtilecfg then sttilecfg once before any AMX loop is timed: a configuration the CPU does not
// hold as written (a store the compiler dropped, a palette it lacks) is an error, not a figure.
void check_amx_tile_config() {
  amx::TileConfig back;
  if (amx_tile_config_matches(&back)) return;
  throw std::runtime_error(
      fmt::format("the AMX tile configuration read back (sttilecfg) differs from the one loaded "
                  "(ldtilecfg): loaded {:02x}, read back {:02x}; {}",
                  fmt::join(amx::tile_config().bytes, ""), fmt::join(back.bytes, ""), kNothingWritten));
}

enum class Traffic { read, copy, stream };
constexpr std::string_view kTrafficNames[] = {"read", "copy", "stream"};

// One sweep of working-set sizes for one kernel and thread count. Each thread owns a slice of
// the buffer and touches it first, so its pages sit on its own NUMA node.
BandwidthCurve sweep(const BandwidthLoops& loops, Traffic kind, int threads, std::int64_t max_bytes,
                     const Settings& s) {
  BandwidthCurve curve{std::string(kTrafficNames[static_cast<int>(kind)]), threads, {}};
  constexpr std::int64_t kGrain = 64;  // floats: one iteration of the widest read loop
  const std::int64_t max_per_thread = (max_bytes / 4 / threads + kGrain - 1) / kGrain * kGrain;
  AlignedBuffer buffer(static_cast<std::size_t>(2 * max_per_thread * threads) * sizeof(float));
  float* base = as<float>(buffer.bytes()).data();
#pragma omp parallel num_threads(threads)
  {
    float* mine = base + 2 * max_per_thread * omp_get_thread_num();
    for (std::int64_t i = 0; i < 2 * max_per_thread; ++i) mine[i] = 1.0f;
  }
  double sink = 0;
  const std::int64_t min_bytes = cpu().l1d.bytes / 4;
  for (double size = static_cast<double>(min_bytes); size <= static_cast<double>(max_bytes) * 1.0001;
       size *= s.size_step) {
    // Floats per thread; copy splits its working set into source and destination halves.
    const std::int64_t per_thread = std::max<std::int64_t>(
        kGrain, static_cast<std::int64_t>(size) / 4 / threads / (kind == Traffic::copy ? 2 : 1) / kGrain * kGrain);
    const auto run = [&](std::int64_t passes) {
      double local = 0;
#pragma omp parallel num_threads(threads) reduction(+ : local)
      {
        float* mine = base + 2 * max_per_thread * omp_get_thread_num();
        for (std::int64_t p = 0; p < passes; ++p) {
          if (kind == Traffic::read) local += loops.read(mine, per_thread);
          if (kind == Traffic::copy) loops.copy(mine, mine + max_per_thread, per_thread);
          if (kind == Traffic::stream) loops.stream(mine, per_thread, float(p));
        }
      }
      sink += local;
    };
    settle(s, threads);
    const std::int64_t passes = enough(s.min_seconds, run);
    // Bytes moved per pass: read reads the set, copy reads half and writes half (STREAM counts
    // no write-allocate traffic), stream writes it.
    const double set_bytes = 4.0 * static_cast<double>(per_thread) * threads * (kind == Traffic::copy ? 2 : 1);
    const Stats st = best_of(
        s.repetitions, [&] { run(passes); }, [&](double sec) { return set_bytes * static_cast<double>(passes) / sec; });
    curve.points.push_back({static_cast<std::int64_t>(set_bytes), st.best, st.spread});
    throw_if_interrupted(kNothingWritten);
  }
  benchmark::DoNotOptimize(sink);
  return curve;
}

// The latency of a dependent load per level, one thread (benchmarks/latency.h). Each working set
// is well inside its level and clear of the one below: half of L1d; for L2 max(4 x L1d, L2 / 4)
// and for L3 max(4 x L2, L3 / 16). At 4x the level below at most a quarter of the lines can
// still hit there (pulling the figure a little towards that level's latency); the fractions of L2
// and L3 leave room for what others keep in a shared cache: a sibling hyperthread in L2, other
// cores (on a VM, other tenants) in L3. On the 2-vCPU reference guest, with the other vCPU busy,
// a chase over half of its 32 MiB L3 measured DRAM latency (130-150 ns) and 4 MiB anything from
// 18 to 110 ns, while 2 MiB held at 17-19 ns; a chase taking only one TLB miss per 64 loads
// jumped at the same sizes, so that is the vCPU's share of L3, not the TLB. Likewise its L2
// plateau (4 ns) ends at about 256 KiB of 512. DRAM: 4x the last-level cache (at least 64 MiB).
// Then a doubling sweep (sqrt(2) steps in the full run) from 4 KiB to the DRAM size for the plot.
// Best of the repetitions, like the peaks and bandwidths: 11 of 10 ms each (--quick: 5 of 5 ms
// and doubling steps, about 2.5 s in all).
void measure_latency(Profile& profile, bool quick, const Settings& s) {
  // Many short repetitions rather than a few long ones: on a shared machine the best of them is
  // likelier to fall in a stretch where no neighbour evicts the set.
  ChaseSettings cs = quick ? ChaseSettings{0.005, 5} : ChaseSettings{0.01, 11};
  cs.before_repetition = [&s] { settle(s, 1); };
  const auto t0 = Clock::now();
  const CpuInfo& c = cpu();
  // A huge last-level cache (hundreds of MiB on big Xeons) must not ask for more than a
  // quarter of the memory free now.
  const std::int64_t dram = std::min(std::max<std::int64_t>(4 * c.last_level_cache_bytes(), std::int64_t{64} << 20),
                                     std::max<std::int64_t>(available_memory_bytes() / 4, std::int64_t{16} << 20));
  std::vector<std::pair<MemoryLevel, std::int64_t>> levels{{MemoryLevel::L1, c.l1d.bytes / 2}};
  if (c.l2.bytes > 8 * c.l1d.bytes) levels.emplace_back(MemoryLevel::L2, std::max(4 * c.l1d.bytes, c.l2.bytes / 4));
  if (c.l3.bytes > 8 * c.l2.bytes) levels.emplace_back(MemoryLevel::L3, std::max(4 * c.l2.bytes, c.l3.bytes / 16));
  if (dram > 2 * c.last_level_cache_bytes()) levels.emplace_back(MemoryLevel::DRAM, dram);
  for (const auto& [level, bytes] : levels) {
    profile.latency.push_back({level, bytes, 1, chase_ns_per_load(bytes, cs)});
    throw_if_interrupted(kNothingWritten);
    fmt::print(stderr, "calibrate: latency {} ({} KiB): {:.1f} ns per load\n", name(level), bytes >> 10,
               profile.latency.back().ns_per_load);
  }
  const double step = quick ? 2.0 : std::sqrt(2.0);
  for (double size = 4096; size <= static_cast<double>(dram) * 1.0001; size *= step) {
    // Whole slots, so the curve's bytes are the working set the chase really walked.
    const std::int64_t bytes = static_cast<std::int64_t>(size) / kChaseSlotBytes * kChaseSlotBytes;
    profile.latency_curve.push_back({bytes, chase_ns_per_load(bytes, cs)});
    throw_if_interrupted(kNothingWritten);
  }
  fmt::print(stderr, "calibrate: latency sweep: {} sizes ({:.1f} s for latency in all)\n", profile.latency_curve.size(),
             std::chrono::duration<double>(Clock::now() - t0).count());
}

// madvise(MADV_HUGEPAGE) only helps when this says [always] or [madvise]: recorded so a DRAM
// latency that includes page walks can be told from one that does not.
std::string transparent_hugepages() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return std::getline(in, line) ? line : std::string("not exposed");
}

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// The nominal clock from /proc/cpuinfo: the base (or TSC) frequency, not the turbo clock.
double nominal_hz() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("cpu MHz", 0) == 0) return std::stod(line.substr(line.find(':') + 1)) * 1e6;
  return 0;
}

nlohmann::json machine_json() {
  const CpuInfo& c = cpu();
  nlohmann::json isa = nlohmann::json::array();
  for (Isa i : {Isa::avx2_fma, Isa::f16c, Isa::avx512f, Isa::avx512_bf16, Isa::avx512_vnni, Isa::avx_vnni,
                Isa::avx512_fp16, Isa::amx_tile, Isa::amx_bf16, Isa::amx_int8})
    if (c.has(i)) isa.push_back(std::string(name(i)));
  const auto level = [](const CacheLevel& l) { return nlohmann::json{{"bytes", l.bytes}, {"shared_by", l.shared_by}}; };
  return {{"cpu", c.model},
          {"logical_cpus", c.logical_cpus},
          {"isa", isa},
          {"caches", {{"L1d", level(c.l1d)}, {"L2", level(c.l2)}, {"L3", level(c.l3)}}},
          {"compiler", fmt::format("GCC {}", __VERSION__)},
          {"date", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)))},
          {"host", host_name()},
          {"transparent_hugepage", transparent_hugepages()}};
}

// Spec-sheet figures: each unit's ops per cycle per core (PeakLoop::spec_intel / spec_amd, by
// the CPU's vendor) times the nominal clock, so a turbo clock measures above it. Units without
// a stated figure (conversion paths, or a vendor without the unit) get no theoretical entry.
nlohmann::json spec_json(const std::vector<PeakEntry>& peaks) {
  const double hz = nominal_hz();
  const std::string& model = cpu().model;
  const bool intel = model.find("Intel") != std::string::npos, amd = model.find("AMD") != std::string::npos;
  nlohmann::json out = {{"nominal_hz", hz},
                        {"fma_pipes_per_core_assumed", 2},
                        {"ops_per_cycle_basis", intel ? "Intel server core (Sapphire Rapids)"
                                                : amd ? "AMD Zen 2-4 (two 256-bit FMA pipes)"
                                                      : "unknown vendor: no theoretical figures"},
                        {"peaks", nlohmann::json::array()}};
  for (const PeakEntry& p : peaks) {
    const auto loop = std::find_if(peak_loops().begin(), peak_loops().end(),
                                   [&](const PeakLoop& l) { return l.dtype == p.dtype && l.how == p.isa; });
    const double per_cycle = loop == peak_loops().end() ? 0 : intel ? loop->spec_intel : amd ? loop->spec_amd : 0;
    if (per_cycle <= 0 || hz <= 0) continue;
    const double theory = p.threads * per_cycle * hz;
    out["peaks"].push_back({{"dtype", p.dtype},
                            {"threads", p.threads},
                            {"isa", p.isa},
                            {"ops_per_cycle", per_cycle},
                            {"ops_per_s", theory},
                            {"measured_ops_per_s", p.ops_per_s},
                            {"measured_over_spec", p.ops_per_s / theory}});
  }
  return out;
}

// Keeps `threads` threads spinning for `seconds`. A quick calibration on the reference guest met its
// 2-thread peaks, right after the 1-thread bandwidth sweeps had left the second vCPU idle, at
// exactly the 1-thread figures for three retries in a row (~0.2 s) and at twice them in the
// second pass: both vCPUs sharing one host core until the host's scheduler moved one, which it
// does for a vCPU that stays busy. Spinning (not sleeping) is what keeps them busy.
void keep_busy(int threads, double seconds) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
#pragma omp parallel num_threads(threads)
  while (Clock::now() < until) {}
}

// Every compute unit is private to a core, so a unit's peak on t threads over t distinct cores
// is t times its one-thread peak. On a KVM guest a vCPU left idle through the 1-thread sweeps
// takes a second or two to run at full speed: the first 2-thread f32 and f64 FMA peaks came out
// at exactly the 1-thread figures (117 and 59 G/s) while the units measured seconds later
// doubled, and every 2-thread f32 fit was then capped at that false roof (training error 57%).
// Such a peak is measured again, up to kPeakRetries times, keeping the best (the next
// calibration's f64 peak: 1x, 1x, then 2x); one that never scales is kept and said so.
constexpr int kPeakRetries = 3;

void remeasure_unless_it_scales(std::vector<PeakEntry>& peaks, const PeakLoop& loop, const Settings& s, double hz) {
  PeakEntry& e = peaks.back();
  const auto one = std::find_if(peaks.begin(), peaks.end(), [&](const PeakEntry& p) {
    return p.threads == 1 && p.dtype == e.dtype && p.isa == e.isa;
  });
  if (e.threads == 1 || one == peaks.end()) return;
  // The hyperthreads of a core share its L1d: the logical CPUs per L1d are the threads per core.
  const double expected = expected_parallel_peak(one->ops_per_s, e.threads, cpu().logical_cpus, cpu().l1d.shared_by);
  const auto cores = static_cast<int>(std::lround(expected / one->ops_per_s));
  if (cores <= 1) return;
  for (int retry = 1; retry <= kPeakRetries && e.ops_per_s < kPeakScalingFloor * expected; ++retry) {
    const double wait = 0.25 * (1 << retry);
    fmt::print(stderr,
               "calibrate: peak {} {} at {} threads: {:.1f} G/s is {:.2f} of {} x its 1-thread figure (a core "
               "busy or descheduled): measuring again after {:.1f} s of every thread spinning ({} of {})\n",
               e.dtype, e.isa, e.threads, e.ops_per_s / 1e9, e.ops_per_s / expected, cores, wait, retry, kPeakRetries);
    keep_busy(e.threads, wait);
    const PeakEntry again = measure_peak(loop, e.threads, s, hz);
    if (again.ops_per_s > e.ops_per_s) e = again;
  }
  if (e.ops_per_s < kPeakScalingFloor * expected)
    fmt::print(stderr,
               "calibrate: warning: peak {} {} at {} threads stays at {:.2f} of {} x its 1-thread figure: kept, "
               "but this machine's cores do not deliver in parallel now\n",
               e.dtype, e.isa, e.threads, e.ops_per_s / expected, cores);
}

constexpr int kPeakRounds = 3;

// One pass over the machine's measured figures: every unit's peak and the bandwidth sweeps at
// each thread count, then the latencies. The first pass names the units this CPU lacks.
void measure_pass(Profile& profile, const CalibrateOptions& opt, const Settings& s, double hz, bool first) {
  const std::int64_t llc = cpu().last_level_cache_bytes();
  for (int t : opt.threads) {
    if (t > 1) keep_busy(t, 1.0);  // every vCPU on a host core of its own before the first t-thread figure
    // Every unit of every dtype the CPU has; the dtype's roof is the fastest that counts
    // (predictor/roofline.h machine_roof).
    std::vector<const PeakLoop*> units;
    for (const std::string_view dtype : {"f64", "f32", "bf16", "f16", "i8"}) {
      const std::size_t before = units.size();
      for (const PeakLoop& loop : peak_loops()) {
        if (loop.dtype != dtype) continue;
        if (cpu().has(loop.isa))
          units.push_back(&loop);
        else if (first && t == opt.threads.front())
          fmt::print(stderr, "calibrate: {} {}: skipped: {}\n", dtype, loop.how, absent_reason(loop.isa));
      }
      if (units.size() == before && first)
        fmt::print(stderr, "roofbench: no {} peak loop this CPU can run; skipped\n", dtype);
    }
    // In kPeakRounds rounds over all units, each round a share of the repetitions, keeping each
    // unit's best: a unit's repetitions then spread over the ~10 s of all units, not the 0.3 s
    // of its own turn. On the Zen 4 guest a slow phase of a second or two took four units in a
    // row 25-40% below themselves (the loops that issue more than their multiply-adds:
    // conversions, vpmaddwd sequences) while the FMA units measured in between were not.
    Settings share = s;
    share.repetitions = (s.repetitions + kPeakRounds - 1) / kPeakRounds;
    std::vector<PeakEntry> best;
    for (int round = 0; round < kPeakRounds; ++round)
      for (std::size_t i = 0; i < units.size(); ++i) {
        PeakEntry e = measure_peak(*units[i], t, share, hz);
        throw_if_interrupted(kNothingWritten);
        if (round == 0)
          best.push_back(std::move(e));
        else if (e.ops_per_s > best[i].ops_per_s)
          best[i] = std::move(e);
      }
    for (std::size_t i = 0; i < units.size(); ++i) {
      profile.peaks.push_back(best[i]);
      remeasure_unless_it_scales(profile.peaks, *units[i], s, hz);
      throw_if_interrupted(kNothingWritten);
      fmt::print(stderr, "calibrate: peak {} {} at {} threads: {:.1f} G/s, {:.1f} per cycle per core\n",
                 units[i]->dtype, units[i]->how, t, profile.peaks.back().ops_per_s / 1e9,
                 profile.peaks.back().ops_per_cycle);
    }
    const auto bw = std::find_if(bandwidth_loops().begin(), bandwidth_loops().end(),
                                 [](const BandwidthLoops& l) { return cpu().has(l.isa); });
    if (bw == bandwidth_loops().end()) throw std::runtime_error("no bandwidth loop this CPU can run (needs AVX2)");
    for (Traffic kind : {Traffic::read, Traffic::copy, Traffic::stream}) {
      // To 8x the last-level cache: DRAM is then the median of several sizes, not one.
      BandwidthCurve curve = sweep(*bw, kind, t, 8 * llc, s);
      fmt::print(stderr, "calibrate: {} sweep at {} threads: {} sizes\n", curve.kernel, t, curve.points.size());
      profile.curves.push_back(std::move(curve));
    }
  }
  measure_latency(profile, opt.quick, s);
}

// The figures that follow from the measured ones: each curve's memory levels, and the spec table.
void derive_levels_and_spec(Profile& profile) {
  profile.bandwidth.clear();
  for (const BandwidthCurve& curve : profile.curves)
    for (const BandwidthEntry& e : detect_levels(curve, cache_capacities(curve.threads)))
      // Non-temporal stores bypass the caches: only their DRAM figure means anything.
      if (curve.kernel != "stream" || e.level == MemoryLevel::DRAM) profile.bandwidth.push_back(e);
  profile.spec = spec_json(profile.peaks);
}

}  // namespace

// The doctor's probes, the clock and the first pass: everything but the kernels' training sweep
// and the second pass.
void measure_machine(Profile& profile, const CalibrateOptions& opt, const Settings& s) {
  const auto t_start = Clock::now();
  profile.machine = machine_json();
  profile.machine["calibration"] = opt.quick ? "quick" : "full";

  // What the machine was like when calibrated (roofbench doctor's probes, no churn): a profile
  // made in slow phases or beside a busy neighbour says so, and the report prints it.
  const int most = opt.threads.empty() ? 0 : *std::max_element(opt.threads.begin(), opt.threads.end());
  const DoctorSummary doctor =
      summarise_rounds(probe({.seconds = opt.quick ? 3.0 : 10.0, .churn_gib = 0, .csv = {}, .threads = most}));
  profile.machine["doctor"] = summary_json(doctor);
  throw_if_interrupted(kNothingWritten);
  for (const auto& line : profile.machine["doctor"]["verdict"])
    fmt::print(stderr, "calibrate: doctor: {}\n", line.get<std::string>());

  // The clock first, on a quiet machine: ops_per_cycle of every peak divides by it.
  const double hz = measure_clock_hz(s);
  profile.machine["measured_hz"] = hz;
  fmt::print(stderr, "calibrate: clock {:.2f} GHz (dependent integer adds)\n", hz / 1e9);
  if (cpu().has(Isa::amx_tile)) check_amx_tile_config();
  measure_pass(profile, opt, s, hz, true);
  derive_levels_and_spec(profile);
  profile.machine["calibration_seconds"] = std::chrono::duration<double>(Clock::now() - t_start).count();
}

// The second pass over the machine (calibrate.h keep_faster), after the training sweep: each
// figure keeps the better of its two measurements, and the profile lists what moved.
void measure_again(Profile& profile, const CalibrateOptions& opt, const Settings& s) {
  const auto t0 = Clock::now();
  fmt::print(stderr, "calibrate: measuring the machine a second time; each figure keeps the better of the two\n");
  Profile again;
  measure_pass(again, opt, s, profile.machine.value("measured_hz", 0.0), false);
  const std::vector<PassDifference> moved = keep_faster(profile, again);
  derive_levels_and_spec(profile);
  nlohmann::json list = nlohmann::json::array();
  for (const PassDifference& d : moved) {
    fmt::print(stderr, "calibrate: second pass: {}: {:.4g} then {:.4g} {} ({:+.1f}%)\n", d.figure, d.first, d.second,
               d.unit, 100 * (d.second / d.first - 1));
    list.push_back({{"figure", d.figure}, {"unit", d.unit}, {"first", d.first}, {"second", d.second}});
  }
  profile.machine["passes"] = 2;
  profile.machine["second_pass"] = std::move(list);
  fmt::print(stderr, "calibrate: second pass: {} figures moved beyond their tolerance ({:.0f} s)\n", moved.size(),
             std::chrono::duration<double>(Clock::now() - t0).count());
}

}  // namespace roofbench
