#include "predictor/roofline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "kernels/core/cost.h"

namespace roofbench {
namespace {

std::size_t level_index(std::string_view level) {
  const auto* it = std::find(std::begin(kMemoryLevels), std::end(kMemoryLevels), level);
  return static_cast<std::size_t>(it - std::begin(kMemoryLevels));
}

// The profile's read bandwidth at a place's level: the place names its level (a prediction's
// text), the profile types it.
const BandwidthEntry* plateau_of(const Profile& p, const MemoryPlace& place, int threads) {
  const std::optional<MemoryLevel> level = parse_memory_level(place.level);
  return level ? machine_bandwidth(p, *level, threads) : nullptr;
}

}  // namespace

const BandwidthEntry* machine_bandwidth(const Profile& p, MemoryLevel level, int threads) {
  for (const BandwidthEntry& b : p.bandwidth)
    if (b.level == level && b.threads == threads && b.kernel == "read") return &b;
  return nullptr;
}

const PeakEntry* machine_roof(const Profile& p, DType d, int threads) {
  // i4 computes on the i8 units once unpacked: its roof is the i8 one unless calibrated itself.
  for (std::string_view want : {name(d), d == DType::i4 ? name(DType::i8) : name(d)}) {
    // The fastest unit is the roof: a kernel may use any of them (a bf16 GEMM on AMX tiles,
    // or one converting to f32 while packing), so no slower unit's rate may bound it.
    const PeakEntry* best = nullptr;
    for (const PeakEntry& e : p.peaks)
      if (e.dtype == want && e.threads == threads && e.roof && (!best || e.ops_per_s > best->ops_per_s)) best = &e;
    if (best) return best;
  }
  return nullptr;
}

double machine_peak(const Profile& p, DType d, int threads) {
  if (const PeakEntry* e = machine_roof(p, d, threads)) return e->ops_per_s;
  throw ProfileError(
      fmt::format("the profile has no {} peak at {} threads (calibrate with --threads {})", name(d), threads, threads));
}

std::string memory_level(const Profile& p, std::int64_t working_set, int threads, bool cold) {
  if (!cold)
    for (MemoryLevel level : {MemoryLevel::L1, MemoryLevel::L2, MemoryLevel::L3})
      if (const BandwidthEntry* b = machine_bandwidth(p, level, threads); b && working_set <= b->capacity_bytes)
        return std::string(name(level));
  return "DRAM";
}

MemoryPlace memory_place(const Profile& p, std::int64_t working_set, int threads, bool cold) {
  MemoryPlace place{memory_level(p, working_set, threads, cold), 1};
  const BandwidthEntry* plateau = plateau_of(p, place, threads);
  if (cold || !plateau) return place;
  for (const BandwidthCurve& c : p.curves) {
    if (c.kernel != "read" || c.threads != threads || c.points.size() < 2) continue;
    const auto& pts = c.points;
    const double x = std::log(static_cast<double>(std::max<std::int64_t>(working_set, 1)));
    double bw = 0;
    if (working_set <= pts.front().bytes) {
      bw = pts.front().bytes_per_s;
    } else if (working_set >= pts.back().bytes) {
      bw = pts.back().bytes_per_s;
    } else {
      const auto hi = std::find_if(pts.begin(), pts.end(), [&](const CurvePoint& q) { return q.bytes >= working_set; });
      const auto lo = hi - 1;
      const double x0 = std::log(static_cast<double>(lo->bytes)), x1 = std::log(static_cast<double>(hi->bytes));
      const double f = x1 > x0 ? (x - x0) / (x1 - x0) : 0;
      bw = std::exp(std::log(lo->bytes_per_s) + f * (std::log(hi->bytes_per_s) - std::log(lo->bytes_per_s)));
    }
    place.scale = bw / plateau->bytes_per_s;
    break;
  }
  return place;
}

double blend(double a, double b, double p) {
  if (p <= 0) return std::max(a, b);
  const double hi = std::max(a, b);
  if (hi <= 0) return 0;
  // Scaled by the larger term so a^p cannot overflow for large p.
  return hi * std::pow(std::pow(a / hi, p) + std::pow(b / hi, p), 1 / p);
}

std::int64_t added_bytes(const Shape& run, Impl impl, DType d) {
  if (impl == Impl::naive || impl == Impl::onednn || run.op() == Op::mv) return 0;
  const std::int64_t narrow = (bits(d).input + 7) / 8;  // the input's own element size
  // opt packs in its compute type (kernels/opt/pack.inc, lowp_pack.inc): bf16/f16 as f32, i8/i4 as int16 pairs.
  const std::int64_t size = impl != Impl::opt                     ? narrow
                            : d == DType::bf16 || d == DType::f16 ? 4
                            : d == DType::i8 || d == DType::i4    ? 2
                                                                  : narrow;
  if (const auto* g = std::get_if<GemmShape>(&run.dims)) return 2 * size * (g->m * g->k + g->k * g->n);
  const auto& c = std::get<ConvShape>(run.dims);
  const std::int64_t pq = c.p() * c.q(), crs = (c.c / c.g) * c.r * c.s;
  const bool identity = c.r == 1 && c.s == 1 && c.stride == 1 && c.pad == 0;
  if (impl == Impl::blas) return identity ? 0 : 2 * size * c.n * c.g * crs * pq;
  const bool low_precision = narrow < 4;
  if (c.g == c.c)  // depthwise: padded planes in (f32 or int32 for the low-precision types), wide rows out
    return 2 * (low_precision ? 4 : size) * c.n * c.c * ((c.h + 2 * c.pad) * (c.w + 2 * c.pad) + pq * c.stride);
  // The low-precision conv2d also writes and reads an explicit im2col matrix in its own dtype.
  const std::int64_t im2col = low_precision && !identity ? 2 * narrow * c.n * c.g * crs * pq : 0;
  return im2col + 2 * size * (c.n * c.g * crs * pq + c.k * crs);
}

std::int64_t working_set(const Shape& run, Impl impl, DType d, int threads) {
  const Kernel* k = select(run.op(), impl, d);
  return footprint_bytes(run, d) + (k ? static_cast<std::int64_t>(k->workspace_bytes(run, threads)) : 0);
}

std::array<double, 3> gemm_view(const Shape& s) {
  if (const auto* g = std::get_if<GemmShape>(&s.dims))
    return {static_cast<double>(g->m), static_cast<double>(g->n), static_cast<double>(g->k)};
  if (const auto* v = std::get_if<MvShape>(&s.dims))
    return {static_cast<double>(v->m), static_cast<double>(v->b), static_cast<double>(v->k)};
  const auto& c = std::get<ConvShape>(s.dims);
  return {static_cast<double>(c.k / c.g), static_cast<double>(c.n * c.p() * c.q()),
          static_cast<double>((c.c / c.g) * c.r * c.s)};
}

double stretch(const std::array<double, 3>& mnk, const std::array<double, 3>& half) {
  double f = 1;
  for (std::size_t i = 0; i < 3; ++i) f *= 1 + half[i] / std::max(mnk[i], 1.0);
  return f;
}

ComputeWork compute_work(const Shape& run, Impl impl, DType d, int threads, bool blocking) {
  ComputeWork w{static_cast<double>(ops(run)), 0, 0, gemm_view(run)};
  if (!blocking) return w;
  const Kernel* k = select(run.op(), impl, d);
  if (!k || !k->work) return w;
  const Work work = k->work(run, threads);
  w.ops = 2 * work.busiest_macs * threads;
  w.regions = work.regions;
  w.packed = work.packed;
  return w;
}

Prediction predict_fitted(const KernelFit& k, const Shape& run, DType d, const MemoryPlace& place) {
  Prediction out;
  out.level = place.level;
  const Impl impl = k.impl;
  const ComputeWork w = compute_work(run, impl, d, k.threads, k.blocking);
  out.t_compute = w.ops / k.compute_ops_per_s * stretch(w.mnk, k.half_mnk);
  out.t_memory = static_cast<double>(bytes(run, d) + added_bytes(run, impl, d)) /
                 (k.bytes_per_s.at(level_index(place.level)) * place.scale);
  out.overhead = k.overhead_s + static_cast<double>(groups(run)) * k.group_overhead_s +
                 w.regions * k.region_overhead_s + (k.pack_elems_per_s > 0 ? w.packed / k.pack_elems_per_s : 0);
  out.seconds = out.overhead + blend(out.t_compute, out.t_memory, k.blend);
  out.bound = out.t_compute >= out.t_memory ? "compute" : place.level;
  out.fitted = true;
  return out;
}

std::int64_t groups(const Shape& s) {
  if (const auto* v = std::get_if<MvShape>(&s.dims)) return v->m * v->b;
  const auto* c = std::get_if<ConvShape>(&s.dims);
  return c && c->g > 1 ? c->n * c->g : 0;
}

ShapeClass classify(const Shape& s) {
  const auto* c = std::get_if<ConvShape>(&s.dims);
  if (!c) return ShapeClass::dense;
  if (c->g == 1)
    return c->r == 1 && c->s == 1 && c->stride == 1 && c->pad == 0 ? ShapeClass::pointwise : ShapeClass::dense;
  return c->g == c->c ? ShapeClass::depthwise : ShapeClass::grouped;
}

std::string_view shape_class(const Shape& s) { return name(classify(s)); }

const KernelFit* find_fit(const Profile& p, const Shape& s, Impl impl, DType d, int threads) {
  const ShapeClass cls = classify(s);
  for (const KernelFit& k : p.kernels)
    if (k.op == s.op() && k.impl == impl && k.dtype == d && k.threads == threads && k.shape_class == cls) return &k;
  return nullptr;
}

Prediction predict(const Profile& p, const Shape& run, Impl impl, DType d, int threads, bool cold) {
  const MemoryPlace place = memory_place(p, working_set(run, impl, d, threads), threads, cold);
  const std::string& level = place.level;
  const BandwidthEntry* bw = plateau_of(p, place, threads);
  if (!bw)
    throw ProfileError(fmt::format("the profile has no {} read bandwidth at {} threads (calibrate with --threads {})",
                                   level, threads, threads));
  const double classic_compute = static_cast<double>(ops(run)) / machine_peak(p, d, threads);
  const double classic_memory = static_cast<double>(bytes(run, d)) / bw->bytes_per_s;

  Prediction out;
  if (const KernelFit* k = find_fit(p, run, impl, d, threads)) {
    out = predict_fitted(*k, run, d, place);
  } else {
    out.level = level;
    out.t_compute = classic_compute;
    out.t_memory = classic_memory;
    out.seconds = std::max(classic_compute, classic_memory);
    out.bound = classic_compute >= classic_memory ? "compute" : level;
  }
  out.classic_s = std::max(classic_compute, classic_memory);
  out.classic_bound = classic_compute >= classic_memory ? "compute" : level;
  return out;
}

}  // namespace roofbench
