// The hardware profile (design.md, "Hardware profile"): written by `roofbench calibrate`, read
// by everything else. Fixed keys: schema, machine, peaks, bandwidth, latency, kernels, spec;
// roofbench adds "curves" (the measured bandwidth sweeps the levels were detected from) and
// "latency_curve" (the dependent-load latency at a sweep of working sets).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/core/dtype.h"
#include "kernels/core/shape.h"
#include "kernels/registry.h"  // Impl

namespace roofbench {

inline constexpr int kProfileSchema = 1;

// One compute unit's measured rate for one dtype at one thread count. A dtype has an entry per
// unit the CPU has (FMA, a dot-product instruction, AMX tiles, ...); its roof is the fastest
// entry with roof == true (predictor/roofline.h machine_peak).
struct PeakEntry {
  std::string dtype;  // f64, f32, ...
  int threads = 1;
  double ops_per_s = 0;      // best of the repetitions
  std::string isa;           // the unit and its instruction, e.g. "amx_bf16 (tdpbf16ps)"
  double spread = 0;         // (median - best) / best over the repetitions
  double ops_per_cycle = 0;  // per core: ops_per_s / (threads * machine.measured_hz); 0 when unknown (older profiles)
  // Counts toward the dtype's roof. false for a unit that computes something else than the
  // dtype means (vfmadd231ph accumulates in f16; roofbench's f16 accumulates in f32). Older
  // profiles, which have no such units, read as true.
  bool roof = true;
  bool operator==(const PeakEntry&) const = default;
};

// A level of the memory hierarchy. Typed in memory, a name only in the file (to_json,
// profile_from_json) and in printed text (name()).
enum class MemoryLevel { L1, L2, L3, DRAM };
inline constexpr const char* kMemoryLevels[] = {"L1", "L2", "L3", "DRAM"};  // the names, in MemoryLevel order
std::string_view name(MemoryLevel l);
std::optional<MemoryLevel> parse_memory_level(std::string_view s);

struct BandwidthEntry {
  MemoryLevel level = MemoryLevel::L1;
  std::int64_t capacity_bytes = 0;  // of the level, summed over the threads' private caches; 0 for DRAM
  int threads = 1;
  double bytes_per_s = 0;
  std::string kernel = "read";  // read, copy, stream (non-temporal stores)
  bool operator==(const BandwidthEntry&) const = default;
};

// The latency of a dependent load (a random pointer chase, benchmarks/latency.h) with a working
// set sized for one level: half of L1d, L2 and L3, several times the last-level cache for DRAM.
struct LatencyEntry {
  MemoryLevel level = MemoryLevel::L1;
  std::int64_t bytes = 0;  // the chase's working set
  int threads = 1;         // always 1 today: latency is one core's figure
  double ns_per_load = 0;  // best of the repetitions
  bool operator==(const LatencyEntry&) const = default;
};

struct LatencyPoint {
  std::int64_t bytes = 0;  // working set
  double ns_per_load = 0;  // one thread, best of the repetitions
  bool operator==(const LatencyPoint&) const = default;
};

struct CurvePoint {
  std::int64_t bytes = 0;  // working set, all threads together
  double bytes_per_s = 0;  // best of the repetitions
  double spread = 0;       // (median - best) / best
  bool operator==(const CurvePoint&) const = default;
};

struct BandwidthCurve {
  std::string kernel;  // read, copy, stream
  int threads = 1;
  std::vector<CurvePoint> points;  // ascending bytes
  bool operator==(const BandwidthCurve&) const = default;
};

// One kernel's fitted roofline (predictor/fit.h): what (op, impl, dtype) achieves at `threads`
// threads. t = overhead + n*g * group_overhead + blend(ops / compute, bytes / bandwidth[level]).
// The keys of a fit are typed in memory and strings only in the file (to_json,
// profile_from_json), so that a comparison of keys cannot compare a name spelled another way.
// predictor/roofline.h shape_class(): how a shape's work is laid out, which a kernel's fit
// depends on beside (op, impl, dtype, threads). In the order of the names' spelling: fit_training
// sorts its kernels by class, and the profile's kernels keep the order they had when the class
// was a string.
enum class ShapeClass { dense, depthwise, grouped, pointwise };
std::string_view name(ShapeClass c);
std::optional<ShapeClass> parse_shape_class(std::string_view s);

struct KernelFit {
  Op op{};
  Impl impl{};
  DType dtype{};
  int threads = 1;
  ShapeClass shape_class = ShapeClass::dense;
  std::string variant;              // the registry variant that was timed
  double compute_ops_per_s = 0;     // achieved compute roof
  std::vector<double> bytes_per_s;  // achieved bandwidth per level, in kMemoryLevels order
  double overhead_s = 0;            // fixed cost per call: fork/join, dispatch, packing set-up
  double group_overhead_s = 0;      // cost per (sample, group) of a grouped/depthwise conv2d: a library call, a set-up
  double blend = 0;                 // 0: hard max; p > 0: (Tc^p + Tm^p)^(1/p)
  int points = 0;                   // training timings behind the fit
  double train_mape = 0;            // mean |predicted/measured - 1| on those timings
  // The same on points left out: 5-fold cross-validation, each fold's timings predicted by a
  // fit of the others (absent, -1, with fewer than 5 points). The fit's terms are chosen by it.
  double cv_mape = -1;
  // The kernel's own blocking (registry.h, Work) gave the compute term: the busiest thread's
  // padded MACs, and region_overhead_s per parallel region and barrier. Otherwise the compute
  // term is the op's MACs stretched by a half-length per GEMM dimension (Hockney's n1/2: a
  // loop of length D runs at D / (D + half) of its peak), zero when the fit did better without.
  bool blocking = false;
  double region_overhead_s = 0;      // per parallel region and barrier (blocking fits only)
  std::array<double, 3> half_mnk{};  // half-lengths along the GEMM view's M, N, K, in elements
  // Blocking fits: the rate the busiest thread packs panel elements at (Work::packed), a pass
  // of its own beside the micro-kernel; 0 when the fit did better without the term.
  double pack_elems_per_s = 0;
  bool operator==(const KernelFit&) const = default;
};

// The measurement canary's least time at a thread count over a whole calibration
// (benchmarks/canary.h): the machine's own speed, against which run judges its repetitions.
struct CanaryEntry {
  int threads = 1;
  double seconds = 0;
  bool operator==(const CanaryEntry&) const = default;
};

struct Profile {
  int schema = kProfileSchema;
  nlohmann::json machine = nlohmann::json::object();  // cpu, cores, isa, caches, compiler, date, host
  std::vector<PeakEntry> peaks;
  std::vector<BandwidthEntry> bandwidth;
  std::vector<BandwidthCurve> curves;
  std::vector<LatencyEntry> latency;               // optional on read: profiles before it lack it
  std::vector<LatencyPoint> latency_curve;         // ascending bytes; optional on read
  std::vector<KernelFit> kernels;                  // fitted per-kernel roofs (predictor/fit.h)
  nlohmann::json spec = nlohmann::json::object();  // theoretical figures beside the measured ones
  nlohmann::json training =
      nlohmann::json::array();  // the timings the kernel fits came from (op, impl, dtype, threads, shape, seconds, cv)
  nlohmann::json energy = nlohmann::json::object();  // optional overrides of the energy table (predictor/model.h)
  // Kernels whose training timings could not be fitted (predictor/fit.h fit_training): each
  // {op, impl, dtype, threads, class, reason}. They predict with the classic roofline.
  nlohmann::json unfitted = nlohmann::json::array();
  std::vector<CanaryEntry> canary;  // optional on read: profiles before it lack it
  bool operator==(const Profile&) const = default;
};

// Every malformed profile (not JSON, wrong schema, a missing key, a non-positive or non-finite
// figure) is one of these, with a one-line message naming the source and the key.
struct ProfileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A profile copied from another machine is valid, but its figures describe that machine:
// a one-line warning naming both when the profile's CPU model or logical CPU count differs
// from this machine's, nothing otherwise.
std::optional<std::string> other_machine_warning(const Profile& p, std::string_view source);

nlohmann::json to_json(const Profile& p);
nlohmann::json to_json(const KernelFit& k);
// The profile's own rules for one fit (finite figures, positive rates, known names), as
// write_profile applies them to the whole file: ProfileError naming `source` and the key.
// Calibration runs it on each fit as it is made, so a bad figure costs that fit, not the file.
void check_kernel_fit(const KernelFit& k, std::string_view source);
Profile profile_from_json(const nlohmann::json& j, std::string_view source);
void write_profile(const std::string& path, const Profile& p);  // temporary file, then rename
Profile read_profile(const std::string& path);

}  // namespace roofbench
