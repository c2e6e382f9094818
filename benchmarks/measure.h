// Timing kernels with Google Benchmark: shared by `run` (the sweep), `calibrate` (the training
// sweep the predictor is fitted on) and `model --measure`, so every measured time in roofbench
// comes from the same method: real time, repetitions of at least min_time each, interleaved in
// random order across jobs, a canary and the machine's CPU accounting around each, judged by
// the protocol (protocol.h: the least kept repetition reported, with its spread).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "benchmarks/canary.h"
#include "benchmarks/journal.h"
#include "benchmarks/protocol.h"
#include "kernels/registry.h"

namespace roofbench {

struct Job {
  const Kernel* kernel = nullptr;
  Shape run;  // batch applied
  int threads = 1;
  std::string name;                      // unique benchmark name, e.g. op/impl/dtype/threads:T/batch:B/<shape>
  std::optional<std::string> failure{};  // set by check_jobs: no time is taken for it
  // Set by check_jobs when a library declines the shape on this CPU (KernelUnavailable): a skip
  // with its reason, like a missing ISA, not a failure; no time is taken for it either.
  std::optional<std::string> skipped{};
  std::vector<double> seconds{};  // one per repetition, filled by measure_jobs
  // Beside each repetition: the slower canary around it over the least canary seen at its
  // thread count (protocol.h, Repetition::canary_ratio); 1 where unknown.
  std::vector<double> canary_ratio{};
  std::vector<double> canary_s{};  // the slower canary around each repetition, s; 0 unknown
  std::vector<double> others{};    // share of the machine others took during each (Repetition)
  std::vector<double> waited{};    // largest share a thread waited for its vCPU during each (Repetition)
};

// The job's repetitions as the protocol judges them, and its estimate under `rules`.
std::vector<Repetition> repetitions_of(const Job& j);
Estimate estimate_of(const Job& j, const ProtocolRules& rules = {});

struct MeasureOptions {
  int repetitions = 5;  // the first round's repetitions per job
  // The cap per job: rows whose estimate has not converged (protocol.h) get more rounds,
  // interleaved, up to this many repetitions in all. Equal to repetitions: no more rounds.
  int max_repetitions = 0;  // 0: the same as repetitions
  ProtocolRules rules{};
  // The canary shared by several calls (calibrate's rounds; run seeded from the profile), or
  // nullptr for one of this call's own.
  Canary* canary = nullptr;
  double min_time = 0.1;                 // seconds per repetition
  bool repetitions_from_gbench = false;  // --benchmark_repetitions given: leave it to Google Benchmark
  bool min_time_from_gbench = false;     // --benchmark_min_time given
  bool cold = false;                     // rotate through operand copies spanning 2x the last-level cache
  bool console = true;                   // print Google Benchmark's table (false: only progress on stderr)
  // The worker's journal (journal.h), or nullptr: each repetition is recorded as it is taken,
  // and a job the journal already holds every repetition of is not timed again.
  Journal* journal = nullptr;
};

// Bytes a job holds at its peak: its operands and workspace, the reference output it is
// checked against, and a reordered copy of the weights a plan may keep (prepare); in cold
// mode, the copies spanning twice the last-level cache besides.
std::int64_t memory_needed(const Job& j, bool cold);
// Above this a problem is not timed: 1e14 ops is over ten minutes per call on a 2-core
// machine, and a row needs the check plus several repetitions. predict has no such limit.
inline constexpr double kMaxTimedOps = 1e14;

// Throws std::runtime_error naming the job when it has more than kMaxTimedOps ops, or when
// memory_needed exceeds `available` bytes (needed vs available). Called before anything is
// allocated, so a sweep that cannot fit stops at once instead of being killed half-way by the
// OOM killer (or swapping for an hour).
void check_timeable(const Job& j, bool cold, std::int64_t available);

// Checks every job against naive once (grouped so each reference is computed once); a
// mismatch or an error sets job.failure, a library declining the shape job.skipped.
// With a journal, each check is recorded (begin, end, outcome) and jobs it already has an
// outcome for are not checked again.
void check_jobs(std::span<Job* const> jobs, Journal* journal = nullptr);

// Times every job without a failure or a skip; fills job.seconds and job.canary_ratio. Rounds
// of repetitions over all unfinished jobs (in random order, Google Benchmark's interleaving)
// until each job's estimate converges or reaches opt.max_repetitions (protocol.h). A canary
// is timed before and after every repetition; before, it waits (up to kGateSeconds) for the
// machine to leave a slow phase, so fewer repetitions are taken only to be rejected.
// Jobs' names must be unique.
void measure_jobs(std::span<Job* const> jobs, const MeasureOptions& opt);

inline constexpr double kGateSeconds = 5.0;

// Times the canary at `threads`; while it runs past the rules' tolerance over its best, waits
// (50 ms steps, at most kGateSeconds, not past an interrupt) and times it again: a slow phase
// lasts seconds, and a measurement taken inside it would only be rejected. Returns the last
// canary time. Before each repetition here, and before each calibration figure.
double gate(Canary& canary, int threads, const ProtocolRules& rules);

}  // namespace roofbench
