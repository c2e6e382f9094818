#include "benchmarks/calibrate_parts.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/core/shape_file.h"
#include "benchmarks/interrupt.h"
#include "benchmarks/measure.h"
#include "benchmarks/run.h"
#include "kernels/core/cost.h"
#include "predictor/fit.h"
#include "predictor/parallel.h"
#include "predictor/roofline.h"

namespace roofbench {

namespace {

// The training sweep: every kernel this CPU runs (the variant select() picks), at every
// calibrated thread count, on the shapes of benchmarks/shapes/training.shapes for its op, timed
// with the same method as `run` (benchmarks/measure.h), then fitted (predictor/fit.h). naive is
// timed only on problems of at most a tenth of run's naive limit. --quick times every second shape
// of each (op, class), 2 repetitions of 10 ms, and leaves naive to the classic roofline.
// Repetitions of a training point spread wider than this are taken again (see fit_kernels).
constexpr double kRetimeCv = 0.2;
constexpr int kMinKeptPoint = 3;  // kept repetitions of a training point: its least is then a floor met

// What an interrupted calibration keeps: nothing, or with a journal every timing so far.
std::string what_is_kept(const Journal* journal) {
  if (!journal) return kNothingWritten;
  return fmt::format(
      "no profile written, but the {} timed repetitions so far are kept in {}: the same command picks "
      "up where it stopped",
      journal->repetitions_total(), journal->path());
}

// The adaptive round (nn-Meter's adaptive sampling): where a kernel's fit generalises worst,
// its space needs more points. Each (kernel, threads, class) is fitted on the sweep; its two
// training shapes with the largest held-out error above 10% (predicted by a fit of the other
// folds) each get two neighbours timed, and the final fit uses them all.
std::vector<std::unique_ptr<Job>> adaptive_jobs(const Profile& profile, const std::vector<std::unique_ptr<Job>>& jobs) {
  std::map<std::tuple<const Kernel*, int, std::string_view>, std::vector<const Job*>> groups;
  for (const auto& j : jobs)
    if (!j->seconds.empty()) groups[{j->kernel, j->threads, shape_class(j->run)}].push_back(j.get());
  struct Group {
    const Kernel* kernel;
    int threads;
    std::vector<Sample> samples;
  };
  std::vector<Group> list;
  for (const auto& [key, members] : groups) {
    Group g{std::get<0>(key), std::get<1>(key), {}};
    for (const Job* j : members) g.samples.push_back({j->run, estimate_of(*j).seconds});
    if (g.samples.size() >= 5) list.push_back(std::move(g));
  }
  const std::vector<std::vector<double>> errors = parallel_map(list.size(), [&](std::size_t i) {
    try {
      const Group& g = list[i];
      return held_out_errors(profile, *g.kernel, g.threads, g.samples,
                             fit_kernel(profile, *g.kernel, g.threads, g.samples));
    } catch (const std::exception&) {
      // No peak for this dtype at these threads, or timings no fit can use: no points added
      // around them, and the final fit names the kernel and the reason.
      return std::vector<double>{};
    }
  });
  std::mt19937 rng(20261203);  // drawn in the groups' order, after the parallel part: reproducible
  std::vector<std::unique_ptr<Job>> out;
  for (std::size_t gi = 0; gi < list.size(); ++gi) {
    const Kernel* kernel = list[gi].kernel;
    const int threads = list[gi].threads;
    const std::vector<Sample>& samples = list[gi].samples;
    const std::vector<double>& err = errors[gi];
    if (err.empty()) continue;
    std::vector<std::size_t> order(samples.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return err[a] > err[b]; });
    for (std::size_t i = 0; i < 2 && err[order[i]] > std::log(1.1); ++i)
      for (Shape& n : neighbours(samples[order[i]].run, rng)) {
        if (kernel->impl == Impl::naive && ops(n) > kNaiveMaxOps / 10) continue;
        const std::string job_name = fmt::format("train/{}/{}/{}/threads:{}/{}", name(kernel->op), name(kernel->impl),
                                                 name(kernel->dtype), threads, to_string(n));
        out.push_back(
            std::make_unique<Job>(Job{.kernel = kernel, .run = std::move(n), .threads = threads, .name = job_name}));
      }
  }
  return out;
}
// The sweep's jobs, in registry order: every selected kernel at every thread count on the
// training shapes of its op.
std::vector<std::unique_ptr<Job>> training_jobs(const CalibrateOptions& opt) {
  std::vector<Shape> shapes = load_shapes("training");
  if (opt.quick) {
    // Every second shape of each (op, class): every regime keeps a point or more.
    std::map<std::pair<Op, std::string_view>, int> seen;
    std::erase_if(shapes, [&](const Shape& s) { return seen[{s.op(), shape_class(s)}]++ % 2 == 1; });
  }
  std::vector<std::unique_ptr<Job>> jobs;
  for (const Kernel& k : registry()) {
    if (select(k.op, k.impl, k.dtype) != &k) continue;
    if (opt.quick && k.impl == Impl::naive) continue;  // quick: the reference loops keep the classic roofline
    for (int t : opt.threads)
      for (const Shape& s : shapes) {
        // naive: only small problems (a tenth of what run gives it); its loops behave alike at
        // every size, and at six dtypes the large ones would take most of the calibration.
        if (s.op() != k.op || (k.impl == Impl::naive && ops(s) > kNaiveMaxOps / 10)) continue;
        jobs.push_back(std::make_unique<Job>(Job{.kernel = &k,
                                                 .run = s,
                                                 .threads = t,
                                                 .name = fmt::format("train/{}/{}/{}/threads:{}/{}", name(k.op),
                                                                     name(k.impl), name(k.dtype), t, to_string(s))}));
      }
  }
  return jobs;
}

// On a shared machine a burst of other work can slow every repetition of a point; one such
// point per level is enough to bend a fit. Points whose kept repetitions disagree, or with
// fewer than kMinKeptPoint of them kept (protocol.h rejection), are timed again, up to twice
// (once in --quick, to stay within its minute), and the lower estimate kept: interference
// only ever adds time. Not every point with one rejected repetition: since a repetition whose
// thread waited for its vCPU is rejected too, half of all points had one, and timing 862 of
// 1936 points again, then 740, made a full calibration 2069 s instead of 1465.
void retime_noisy(const std::vector<std::unique_ptr<Job>>& jobs, const CalibrateOptions& opt,
                  const MeasureOptions& mo) {
  for (int round = 0; round < (opt.quick ? 1 : 2); ++round) {
    std::vector<Job*> noisy;
    std::vector<std::unique_ptr<Job>> again;  // again[i] re-times noisy[i]
    std::vector<Job*> again_pointers;
    for (const auto& j : jobs)
      if (const Estimate e = estimate_of(*j); e.cv > kRetimeCv || e.kept < kMinKeptPoint) {
        noisy.push_back(j.get());
        // Its own name: the journal keeps both timings apart.
        again.push_back(std::make_unique<Job>(Job{.kernel = j->kernel,
                                                  .run = j->run,
                                                  .threads = j->threads,
                                                  .name = fmt::format("{} again:{}", j->name, round + 1)}));
        again_pointers.push_back(again.back().get());
      }
    if (again.empty()) break;
    fmt::print(stderr, "calibrate: timing {} noisy training points again\n", again.size());
    measure_jobs(again_pointers, mo);
    throw_if_interrupted(what_is_kept(mo.journal));
    for (std::size_t i = 0; i < again.size(); ++i) {
      const Estimate retimed = estimate_of(*again[i]), first = estimate_of(*noisy[i]);
      if (!again[i]->seconds.empty() && retimed.kept >= first.kept && retimed.seconds < first.seconds) {
        // The retimed repetitions replace the first ones with everything they were judged by.
        noisy[i]->seconds = again[i]->seconds;
        noisy[i]->canary_s = again[i]->canary_s;
        noisy[i]->canary_ratio = again[i]->canary_ratio;
        noisy[i]->others = again[i]->others;
        noisy[i]->waited = again[i]->waited;
      }
    }
  }
}

void time_adaptive_round(const Profile& profile, std::vector<std::unique_ptr<Job>>& jobs, const MeasureOptions& mo) {
  std::vector<std::unique_ptr<Job>> adapt = adaptive_jobs(profile, jobs);
  std::vector<Job*> adapt_pointers;
  for (auto& j : adapt) adapt_pointers.push_back(j.get());
  std::shuffle(adapt_pointers.begin(), adapt_pointers.end(), std::mt19937(20261204));
  fmt::print(stderr, "calibrate: timing {} shapes around the training points predicted worst (adaptive round)\n",
             adapt.size());
  measure_jobs(adapt_pointers, mo);
  throw_if_interrupted(what_is_kept(mo.journal));
  for (auto& j : adapt) jobs.push_back(std::move(j));
}

void record_training(Profile& profile, const std::vector<std::unique_ptr<Job>>& jobs, const Canary& canary) {
  for (const auto& j : jobs) {
    if (j->seconds.empty()) continue;
    profile.training.push_back({{"op", name(j->kernel->op)},
                                {"impl", name(j->kernel->impl)},
                                {"dtype", name(j->kernel->dtype)},
                                {"threads", j->threads},
                                {"shape", to_string(j->run)},
                                {"seconds", estimate_of(*j).seconds},
                                {"cv", estimate_of(*j).cv}});
  }
  for (const auto& [threads, seconds] : canary.bests()) profile.canary.push_back({threads, seconds});
}

}  // namespace

void fit_kernels(Profile& profile, const CalibrateOptions& opt, Journal* journal, Canary& canary) {
  std::vector<std::unique_ptr<Job>> jobs = training_jobs(opt);
  std::vector<Job*> pointers;
  for (auto& j : jobs) pointers.push_back(j.get());
  // Timed in a shuffled order (fixed seed: a resumed calibration meets the same order): this guest
  // runs slow for minutes at a time, and in registry order such a phase took every point of a
  // few fits (a 2-thread compute roof fitted 40% low); shuffled, it takes a few points of every
  // fit, which the fit's absolute log error and the re-timing of noisy points absorb.
  std::shuffle(pointers.begin(), pointers.end(), std::mt19937(20261203));
  fmt::print(stderr, "calibrate: timing the training sweep ({} kernel x shape x thread combinations)\n", jobs.size());
  // The calibration's one canary: its best over the whole calibration is the machine's own
  // speed, which every training point is judged against and which the profile keeps for `run`.
  const MeasureOptions mo{.repetitions = opt.quick ? 2 : 5,
                          .canary = &canary,
                          .min_time = opt.quick ? 0.005 : 0.04,
                          .console = false,
                          .journal = journal};
  measure_jobs(pointers, mo);
  throw_if_interrupted(what_is_kept(journal));
  retime_noisy(jobs, opt, mo);
  if (!opt.quick) time_adaptive_round(profile, jobs, mo);  // --quick keeps its minute: the sweep alone
  record_training(profile, jobs, canary);
}

}  // namespace roofbench
