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
#include <vector>

#include "kernels/registry.h"
#include "predictor/profile.h"

namespace roofbench {

struct Sample {
  Shape run;       // batch applied
  double seconds;  // measured median
};

// 0 is the hard max(Tc, Tm); 1 adds them (no overlap); 2 and 4 are smooth maxima in between.
inline constexpr double kBlendForms[] = {0, 1, 2, 4};

// Fits one kernel. Levels with no training point bound by them inherit the machine's
// bandwidth there scaled by the efficiency of the nearest fitted level (a kernel that reaches
// 80% of L3 bandwidth is assumed to reach 80% of DRAM bandwidth if it was never seen there).
// Throws std::invalid_argument on no samples or a non-positive time.
// All samples must be of one shape_class (predictor/roofline.h), which the fit records.
KernelFit fit_kernel(const Profile& machine, const Kernel& k, int threads, std::span<const Sample> samples);

// Each sample's |log(predicted / measured)| when predicted by a fit, of `fit`'s form, to the
// folds it is not in (all 0 under 5 samples): where the model generalises worst, which is where
// the calibration's adaptive round adds training shapes.
std::vector<double> held_out_errors(const Profile& machine, const Kernel& k, int threads, std::span<const Sample> samples,
                                    const KernelFit& fit);

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
