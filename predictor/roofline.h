// Latency predictions from a profile, with no kernel run: the classic roofline from the
// machine's measured peaks and bandwidths, and the fitted roofline from the kernel's own
// achieved roofs and overhead (profile.kernels, fitted by predictor/fit.h).
//
//   classic:  t = max(ops / peak(dtype, threads), bytes / bandwidth(level, threads))
//   fitted:   t = overhead + blend(ops / compute, bytes / bandwidth_kernel(level))
//
// `level` is the memory level that holds the working set (all operands): the smallest cache
// whose capacity for `threads` threads holds it, DRAM when none does or when the cache is cold.
// Capacities come from the profile, so a profile copied from another machine predicts that
// machine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernels/registry.h"
#include "predictor/profile.h"

namespace roofbench {

struct Prediction {
  double seconds = 0;        // fitted when `fitted`, else the classic figure
  double t_compute = 0;      // ops / compute roof
  double t_memory = 0;       // bytes / bandwidth of `level`
  double overhead = 0;       // fixed per-call cost (fitted only)
  std::string level;         // memory level of the working set: L1, L2, L3, DRAM
  std::string bound;         // "compute" or the memory level, whichever term is larger
  double classic_s = 0;      // the classic roofline's figure, always computed
  std::string classic_bound;
  bool fitted = false;       // the profile had a fit for this kernel
};

// The level that holds `working_set` bytes for `threads` threads, by the capacities in the
// profile's read bandwidth entries (cold: always DRAM).
std::string memory_level(const Profile& p, std::int64_t working_set, int threads, bool cold);

// blend(a, b) of the fitted roofline: max(a, b) when p == 0, else (a^p + b^p)^(1/p).
double blend(double a, double b, double p);

// The fitted roofline of one kernel on a batched shape (the shape as run).
Prediction predict_fitted(const KernelFit& k, const Shape& run, DType d, std::string_view level);

// Both rooflines for one row. Throws ProfileError when the profile lacks the machine figures
// (peak of the dtype at these threads, bandwidth of the level), naming what is missing.
Prediction predict(const Profile& p, const Shape& run, Impl impl, DType d, int threads, bool cold);

// The fit for (op, impl, dtype, threads), or nullptr.
const KernelFit* find_fit(const Profile& p, Op op, Impl impl, DType d, int threads);

}  // namespace roofbench
