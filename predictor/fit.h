// Fitting a kernel's roofline to timings (`roofbench calibrate` times a training sweep, then
// calls fit_kernel per (op, impl, dtype, threads)).
//
// Parameters, each physical and printed with its unit: the achieved compute roof (ops/s), the
// achieved bandwidth per memory level (bytes/s) and a fixed overhead per call (s). They
// minimise the absolute log error sum |log(predicted / measured)|, so a 10% miss on a 5 us
// call weighs as much as one on a 5 s call, and one disturbed timing no more than any other. The blend of the compute and memory terms is not
// chosen by taste: every form in kBlendForms is fitted and the one with the least error kept.
#pragma once

#include <span>

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

// Mean |predicted / measured - 1| of a fit over samples.
double mean_abs_error(const Profile& machine, const KernelFit& k, std::span<const Sample> samples);

}  // namespace roofbench
