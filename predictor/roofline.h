// Latency predictions from a profile, with no kernel run: the classic roofline from the
// machine's measured peaks and bandwidths, and the fitted roofline from the kernel's own
// achieved roofs and overhead (profile.kernels, fitted by predictor/fit.h).
//
//   classic:  t = max(ops / peak(dtype, threads), bytes / bandwidth(level, threads))
//   fitted:   t = overhead + groups * group_overhead + blend(ops / compute, bytes / bandwidth_kernel(level))
//
// `level` is the memory level that holds the working set (all operands): the smallest cache
// whose capacity for `threads` threads holds it, DRAM when none does or when the cache is cold.
// Capacities come from the profile, so a profile copied from another machine predicts that
// machine.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "kernels/registry.h"
#include "predictor/profile.h"

namespace roofbench {

struct Prediction {
  double seconds = 0;    // fitted when `fitted`, else the classic figure
  double t_compute = 0;  // ops / compute roof (fitted: the kernel's work, stretched)
  double t_memory = 0;   // bytes / bandwidth of `level` (at the working set's size, when fitted)
  double overhead = 0;   // fixed cost of the call, per-group and per-region costs included (fitted only)
  std::string level;     // memory level of the working set: L1, L2, L3, DRAM
  std::string bound;     // "compute" or the memory level, whichever term is larger
  double classic_s = 0;  // the classic roofline's figure, always computed
  std::string classic_bound;
  bool fitted = false;  // the profile had a fit for this kernel
};

// The machine's read bandwidth at a level for `threads` threads, or nullptr.
const BandwidthEntry* machine_bandwidth(const Profile& p, MemoryLevel level, int threads);
// The machine's roof of a dtype at `threads` threads: the fastest of its peak entries that
// count as a roof (PeakEntry::roof), whichever unit it is (i4: the i8 roof unless calibrated).
// machine_roof returns nullptr, machine_peak throws ProfileError naming what is missing.
const PeakEntry* machine_roof(const Profile& p, DType d, int threads);

// No kernel can outrun the machine's fastest unit for its dtype (design.md): a run row whose
// achieved ops/s beats machine_peak by more than this share is a calibration bug, not a fast
// kernel. The margin absorbs timing noise and a clock that rose between calibration and run.
inline constexpr double kAboveRoofTolerance = 0.10;

double machine_peak(const Profile& p, DType d, int threads);

// The level that holds `working_set` bytes for `threads` threads, by the capacities in the
// profile's read bandwidth entries (cold: always DRAM).
std::string memory_level(const Profile& p, std::int64_t working_set, int threads, bool cold);

// Where a working set is read from: its level, and how the machine's bandwidth at exactly that
// size compares with the level's plateau (the measured read curve, interpolated log-log). A
// cache does not stop delivering at its nominal capacity and not at full speed up to it: a
// shared L3 gives way to DRAM gradually, from well below its size. scale is 1 when cold or
// when the profile has no curve.
struct MemoryPlace {
  std::string level;
  double scale = 1;  // machine bandwidth at the working set / the level's plateau
};
MemoryPlace memory_place(const Profile& p, std::int64_t working_set, int threads, bool cold);

// blend(a, b) of the fitted roofline: max(a, b) when p == 0, else (a^p + b^p)^(1/p).
double blend(double a, double b, double p);

// The compute side of one call, as a fit charges it (predictor/fit.h).
//   blocking (opt: the kernel's Work): ops = 2 * busiest thread's padded MACs * fit threads,
//            the time at the fit's roof is then the busiest thread's; regions from the Work.
//   else:    ops = the op's 2 * MACs, regions 0.
// mnk is the shape as a GEMM (gemm_view), for the half-length stretch.
struct ComputeWork {
  double ops = 0;
  double regions = 0;
  double packed = 0;  // elements the busiest thread packs (blocking fits; Work::packed)
  std::array<double, 3> mnk{};
};
ComputeWork compute_work(const Shape& run, Impl impl, DType d, int threads, bool blocking);

// The GEMM a shape runs as, M x K times K x N: gemm as is (batch in m), mv m x k times k x b,
// conv2d per group (k/g) x (c/g * r * s) times (c/g * r * s) x (n * p * q).
std::array<double, 3> gemm_view(const Shape& s);

// Hockney's half-performance lengths on the three GEMM dimensions: a loop of length D runs at
// D / (D + half) of its asymptotic rate, so the time stretches by prod(1 + half / D).
double stretch(const std::array<double, 3>& mnk, const std::array<double, 3>& half);

// The fitted roofline of one kernel on a batched shape (the shape as run):
// t = overhead + groups(run) * group_overhead + regions * region_overhead + packed / pack_rate
//     + blend(work.ops / compute * stretch(mnk, half),
//             (bytes + added_bytes) / (bandwidth[level] * place.scale)).
// Prediction::overhead holds the first four terms (the packing pass included).
Prediction predict_fitted(const KernelFit& k, const Shape& run, DType d, const MemoryPlace& place);
// The working set whose level predict() looks up: the operands plus the kernel's workspace.
std::int64_t working_set(const Shape& run, Impl impl, DType d, int threads);

// Both rooflines for one row. Throws ProfileError when the profile lacks the machine figures
// (peak of the dtype at these threads, bandwidth of the level), naming what is missing.
Prediction predict(const Profile& p, const Shape& run, Impl impl, DType d, int threads, bool cold);

// Traffic an implementation adds to the compulsory bytes (kernels/core/cost.h): buffers it writes
// and reads back. blas conv2d: the im2col matrix (none for a 1x1, stride-1, unpadded conv);
// blas and opt gemm: both operands packed into panels; opt conv2d: the image packed into
// panels (implicit im2col) and the filters packed, or for depthwise the zero-padded planes and
// the wide output row; the low-precision opt conv2d adds its explicit im2col matrix, and opt
// panels hold the compute type (f32 for bf16/f16, int16 for i8/i4); mv, naive and onednn
// (whose internals are its own): nothing. The fitted memory term charges
// bytes + added_bytes to the kernel's bandwidth; the classic roofline only the compulsory bytes.
std::int64_t added_bytes(const Shape& run, Impl impl, DType d);

// The units of work a kernel repeats a fixed cost for, charged group_overhead_s each: for a
// grouped or depthwise conv2d n * g (blas makes one im2col and one GEMM call per sample and
// group; opt sets up each group's panels or planes); for mv its m * b outputs (each a horizontal
// sum, a store and the row's tail: a tall matrix with short rows, GPT-2's 50257 x 768 head,
// streams at 60% of the bandwidth a square one reaches). 0 for every other shape, whose fits
// have no such term.
std::int64_t groups(const Shape& s);

// Shapes one kernel runs by different algorithms, fitted separately: a conv2d is "depthwise"
// (g = c: one filter per channel, no reduction across channels), "grouped" (1 < g < c: one
// small GEMM per group), "pointwise" (1x1, stride 1, no padding: the image is already the GEMM
// operand, so no im2col and plain panel copies instead of gathers) or "dense"; mv and gemm are
// always "dense". shape_class is its name, as the profile spells it.
ShapeClass classify(const Shape& s);
std::string_view shape_class(const Shape& s);

// The fit for (op, impl, dtype, threads) and the shape's class, or nullptr.
const KernelFit* find_fit(const Profile& p, const Shape& s, Impl impl, DType d, int threads);

}  // namespace roofbench
