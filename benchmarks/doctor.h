// `roofbench doctor`: what this machine's measurements are good to, and why.
//
// The probe runs no kernel. For the whole duration it repeats short rounds (~0.5 s), each
// taking the probes one after another so they do not disturb each other: steal and busy time
// per vCPU (/proc/stat), a pinned compute spinner per vCPU (rate and longest stall), the clock
// (CLOCK_MONOTONIC against CLOCK_MONOTONIC_RAW, and the cost of one read), the measurement
// canary (benchmarks/canary.h: the signal the protocol rejects slow repetitions by), a streaming
// read over huge-page memory and a TLB-heavy pointer chase over 4 KiB pages, both on buffers
// touched once at start and never freed. Half-way through it may allocate, touch and free a
// large block (the churn that docs/noise.md found slowing rows down for seconds afterwards).
//
// The engine (probe, doctor_probe.cpp) only gathers Rounds. Everything that turns them into
// numbers and words (statistics, slow rounds, phases, the verdict: doctor_verdict.cpp) is a pure
// function below, so it can be tested on synthetic series. The command is commands/doctor.cpp.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace roofbench {

struct DoctorOptions {
  double seconds = 30;   // total probe time, (0, 3600]
  double churn_gib = 2;  // the half-way allocate-touch-free; 0 disables
  std::string csv;       // optional: one row per round
  int threads = 0;       // the canary's threads; 0 = every logical CPU
};

// Throws std::invalid_argument (a one-line message naming the option) for a value doctor
// refuses. physical and available are the machine's memory in bytes (passed in, so a test can
// check the churn limit without a machine of that size).
void check_doctor_options(const DoctorOptions& o, std::int64_t physical, std::int64_t available);

// Runs the probe and prints the summary; returns the exit status (0, or 128 + signal when
// interrupted: the rounds finished so far are still summarised and written).
int doctor_command(const DoctorOptions& options);

// ---- what one round recorded -------------------------------------------------------------
inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

struct CpuRound {
  double steal_pct = kNoValue;     // of the vCPU's time in the round (/proc/stat ticks)
  double busy_pct = kNoValue;      // user+nice+system+irq+softirq, our own probes included
  double chunks_per_s = kNoValue;  // the spinner's fixed compute chunks completed per second
  double stall_ms = kNoValue;      // the spinner's longest gap between consecutive chunk ends
};

struct Round {
  double start_s = 0, end_s = 0;  // since the probe started
  bool after_churn = false;
  std::vector<CpuRound> cpu;  // one per probed vCPU, in the order of Rounds::cpu_ids
  // This process's CPU time over the round, as a share of the probed vCPUs' time: what of
  // busy_pct is our own probes (spinners, canary, memory walks, OpenMP's spin-waiting).
  double own_busy_pct = kNoValue;
  double canary_ms = kNoValue;
  double stream_gbps = kNoValue;
  double tlb_ns_per_hop = kNoValue;
  double drift_ppm = kNoValue;      // CLOCK_MONOTONIC's rate against CLOCK_MONOTONIC_RAW, minus 1
  double clock_read_ns = kNoValue;  // one steady_clock::now()
};

struct Rounds {
  std::vector<int> cpu_ids;  // the logical CPUs probed
  std::vector<Round> rounds;
  double churn_gib = 0;           // 0: no churn
  double churn_end_s = kNoValue;  // when the churn's free finished
  double churn_touch_gbps = kNoValue;
};

// The engine: rounds for o.seconds (the churn half-way when o.churn_gib > 0), progress and
// warnings on stderr, nothing on stdout. Stops early, keeping the rounds so far, when interrupted.
// calibrate runs it for a few seconds so the profile says what the machine was like.
Rounds probe(const DoctorOptions& o);

// Rounds of half a second: long enough for /proc/stat's 10 ms ticks to say something, short
// enough to see the slow phases (seconds) start and end.
inline constexpr double kRoundS = 0.5;

// The CPUs the probe runs on: the ones the command was started with. commands/launch.cpp
// re-executes roofbench with OpenMP binding, which pins this thread to one core and keeps the
// original set in ROOFBENCH_AFFINITY; without it (the user bound threads), every logical CPU.
std::vector<int> probe_cpus();

// ---- the summariser: pure functions --------------------------------------------------------

// How a round counts as "slow" (off its best) for a probe.
enum class Kind {
  higher_is_better,  // slow: below best * (1 - tolerance), best = the highest (rates)
  lower_is_better,   // slow: above best * (1 + tolerance), best = the lowest (times)
  zero_is_best,      // off: above tolerance, an absolute amount (steal %, a stall's ms)
  steady,            // off: more than tolerance (absolute) from the median (clock drift)
  info,              // no rule: statistics only (busy %, which includes our own probes)
};

struct ProbeStats {
  int rounds = 0;  // rounds with a value (a probe that failed in a round records none)
  double median = kNoValue, min = kNoValue, max = kNoValue, p10 = kNoValue, p90 = kNoValue;
  double mean = kNoValue;
  // (p90 - p10) / |median|, for rates and times; absent for amounts whose best is 0 or whose
  // median is near 0 (steal, stalls, drift), where a ratio to the median says nothing.
  double spread = kNoValue;
  double best = kNoValue;         // what "off" is measured from: highest, lowest, 0 or the median
  double slow_median = kNoValue;  // the median of the slow rounds alone
  int slow_rounds = 0;
  double longest_phase_s = 0;  // the longest run of consecutive slow rounds, start to end
  // Medians before the churn, after it, and in the first kSoonAfterChurnS after it (the slowdown
  // docs/noise.md saw lasted seconds, which a median over the whole remainder would dilute).
  double median_before = kNoValue, median_after = kNoValue, median_soon_after = kNoValue;
  // The spread of the rounds that were not slow: what a measurement taken outside a slow phase
  // can expect. repeat_pct = 100 * max(p90 - median, median - p10) / median over those rounds.
  int steady_rounds = 0;
  double repeat_pct = kNoValue;
};

inline constexpr double kSlowTolerance = 0.10;  // "more than 10% off the probe's best"
inline constexpr double kSoonAfterChurnS = 5.0;

// p in [0, 1], linear between order statistics; NaNs are skipped; NaN for no values.
double percentile(std::span<const double> values, double p);

// values[i] belongs to rounds[i] (times, churn flag). NaN values are skipped. Phases do not
// run across the churn: the seconds it took were not probed.
ProbeStats summarise(std::span<const double> values, std::span<const Round> rounds, Kind kind, double tolerance,
                     double churn_end_s = kNoValue);

// Which figure of a round a probe is, so the verdict can find the ones it reasons about.
enum class Role { steal, busy, others, spinner, stall, canary, stream, tlb, drift, clock_read };

struct ProbeSummary {
  Role role;
  int cpu = -1;      // the logical CPU for per-vCPU probes, else -1
  std::string name;  // "steal cpu1", "canary"
  std::string unit;  // "%", "ms", "GB/s"
  Kind kind;
  double tolerance;
  ProbeStats stats;
};

struct DoctorSummary {
  std::vector<ProbeSummary> probes;
  int rounds = 0;
  double seconds = 0;  // from the first round's start to the last one's end
  double churn_gib = 0;
  double churn_touch_gbps = kNoValue;
};

// The tolerances of each probe, as summarise_rounds applies them.
inline constexpr double kStealOffPct = 1.0;       // a round with over 1% steal (one 10 ms tick in 0.5 s is 2%)
inline constexpr double kStealNotablePct = 0.5;   // a vCPU's mean steal the verdict names
inline constexpr double kOthersBusyOffPct = 10;   // other processes holding the vCPUs this busy
inline constexpr double kStallOffMs = 1.0;        // a gap of 50 chunks' worth: the vCPU was taken away
inline constexpr double kDriftOffPpm = 100.0;     // NTP slews at most 500 ppm, steadily; jumps are the problem
inline constexpr double kClockReadSlowNs = 1000;  // a clock read this slow is a trapping clocksource

DoctorSummary summarise_rounds(const Rounds& r);

// The verdict: 1-3 lines, "Measurements on this machine repeat to about ±X% ..." and the main
// reasons found in the data (steal, slow phases seen by the canary, memory slower after the
// churn, stalls, an unstable clock). Each line ends in '\n'.
std::string verdict(const DoctorSummary& s);

// The summary table and the verdict, as printed on stdout.
std::string format_summary(const DoctorSummary& s);

// The summary for a profile (machine.doctor, docs/design.md): seconds, rounds, the verdict's
// lines, and per probe its name, unit, median, p10, p90, best, slow rounds, longest slow phase
// and repeat_pct (null where a probe has no value).
nlohmann::json summary_json(const DoctorSummary& s);

// The per-round CSV: a header and one row per round.
std::string format_rounds_csv(const Rounds& r);

}  // namespace roofbench
