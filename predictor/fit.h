// Fitting a kernel's roofline to timings (`roofbench calibrate` times a training sweep, then
// calls fit_kernel per (op, impl, dtype, threads, shape class)).
//
// Parameters, each physical and printed with its unit: the achieved compute roof (ops/s), the
// achieved bandwidth per memory level (bytes/s), a fixed overhead per call (s), and where the
// shapes call for them an overhead per (sample, group) (s) or, for kernels that report their
// own blocking (registry.h Work: opt), per parallel region and barrier (s). A kernel with
// Work is charged its busiest thread's padded tiles; one without (a library) gets the op's MACs
// stretched by a half-length per GEMM dimension (roofline.h stretch) when that predicts better.
// They minimise the absolute log error sum |log(predicted / measured)|, so a 10% miss on a 5 us
// call weighs as much as one on a 5 s call, and one disturbed timing no more than any other.
//
// The model's form is chosen on points it was not fitted on: every blend form in kBlendForms,
// with and without the half-lengths, is scored by 5-fold cross-validation and the best refitted
// on all points (the half-lengths must beat the simpler model by 2%); KernelFit::cv_mape keeps
// that held-out error beside the training error. Under 5 points, the training error decides.
#pragma once

#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/registry.h"
#include "predictor/profile.h"

namespace roofbench {

struct Sample {
  Shape run;       // batch applied
  double seconds;  // measured median
};

// Bounds. No fitted parameter is ever non-finite or unphysical: the simplex searches freely,
// then every parameter that ended at or past one of these bounds is dropped or pinned there
// (below) and the rest refitted, so every fitted figure lies within them.
//   compute roof   <= compute_roof(): the fastest unit the kernel could use, as calibrated
//   bandwidth[l]   <= bandwidth_ceiling(): kBandwidthMargin x the machine's read rate at l
//   overhead       <= the fastest training timing (an overhead no longer than a call)
//   per group      <= the least time per group of any point (per region: per region)
//   half-length    <= kHalfLengthMargin x the longest extent along its dimension
//   packing rate   <= bandwidth_ceiling(L1) / threads elements/s (an element is at least a
//                     byte), and its pass no longer than any timing it is part of
// The floors keep the simplex on finite numbers: a rate 100x below the best the timings show,
// an overhead a millionth of the fastest timing, an optional term a thousandth of its ceiling
// (at most 0.1% of any timing). An optional term (per group, per region, half-lengths,
// packing) that ends at a bound is dropped and the fit redone without it; the roofs and the
// overhead are pinned at theirs.
// The bandwidth margin: a kernel reads a level faster than the calibration's read loop where
// the working set sits partly in the nearer level (a 64 MiB MV streamed at 2x the calibrated
// DRAM rate on a Zen 4 guest), so the ceiling leaves room beyond that.
inline constexpr double kBandwidthMargin = 4;
inline constexpr double kHalfLengthMargin = 16;
// A training time outside these is not a timing (a corrupt journal, a unit slip): the kernel's
// fit fails and it falls back to the classic roofline.
inline constexpr double kMinSeconds = 1e-9, kMaxSeconds = 86400;

double compute_roof(const Profile& machine, DType d, int threads);
// Throws ProfileError when the machine has no read bandwidth at all at `threads`.
double bandwidth_ceiling(const Profile& machine, std::size_t level, int threads);

// 0 is the hard max(Tc, Tm); 1 adds them (no overlap); 2 and 4 are smooth maxima in between.
inline constexpr double kBlendForms[] = {0, 1, 2, 4};

// Fits one kernel. Levels with no training point bound by them inherit the machine's
// bandwidth there scaled by the efficiency of the nearest fitted level (a kernel that reaches
// 80% of L3 bandwidth is assumed to reach 80% of DRAM bandwidth if it was never seen there).
// Throws std::invalid_argument on no samples or a non-positive time.
// All samples must be of one shape_class (predictor/roofline.h), which the fit records.
KernelFit fit_kernel(const Profile& machine, const Kernel& k, int threads, std::span<const Sample> samples);

// Fits every (op, impl, dtype, threads, class) with timings in profile.training (calibrate's
// last step, and calibrate --refit) into profile.kernels. A kernel whose fit fails (no peak
// for its dtype at those threads, a training time that is no timing, a figure the profile's
// rules refuse) gets no fit: it predicts with the classic roofline, is listed in
// profile.unfitted with the reason, and named in the returned one-line warnings. Throws
// ProfileError, naming `source`, only for a malformed training entry.
std::vector<std::string> fit_training(Profile& profile, std::string_view source);

// Each sample's |log(predicted / measured)| when predicted by a fit, of `fit`'s form, to the
// folds it is not in (all 0 under 5 samples): where the model generalises worst, which is where
// the calibration's adaptive round adds training shapes.
std::vector<double> held_out_errors(const Profile& machine, const Kernel& k, int threads,
                                    std::span<const Sample> samples, const KernelFit& fit);

// Two shapes around `s` for calibrate's adaptive round (nn-Meter's adaptive sampling: more
// training points where the fit generalises worst): every dimension scaled by its own factor
// from 0.6 to 1.6 (log-uniform from rng: a fixed seed times the same shapes, and a resumed
// calibration finds them in its journal), channels in whole groups so a conv2d stays in its
// shape class, never more than 4x the ops of `s`, each named adapt:<name of s>. Fewer than two
// when the draws keep leaving the shape parser's limits.
std::vector<Shape> neighbours(const Shape& s, std::mt19937& rng);

// Mean |predicted / measured - 1| of a fit over samples.
double mean_abs_error(const Profile& machine, const KernelFit& k, std::span<const Sample> samples);

}  // namespace roofbench
