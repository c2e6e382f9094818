#include "kernels/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "kernels/core/cost.h"
#include "kernels/lowp.h"

namespace roofbench {
namespace {

template <class T>
void fill_float(std::span<T> v, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<T> dist(T(-1), T(1));
  for (T& x : v) x = dist(rng);
}

template <class T>
Agreement agree_float(std::span<const T> got, std::span<const T> ref, std::int64_t reduction) {
  Agreement a;
  double scale = 1;
  for (T r : ref) scale = std::max(scale, double(std::abs(r)));
  // Reordering a sum of k terms changes it by about eps*sqrt(k) times its magnitude; 8 leaves
  // room for blocked and FMA orderings while a single lost term (~0.1) is far outside.
  a.tol = 8.0 * std::numeric_limits<T>::epsilon() * std::sqrt(double(reduction)) * scale;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double e = std::abs(double(got[i]) - double(ref[i]));
    if (!(e <= a.max_err)) {  // also catches NaN
      a.max_err = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
      a.worst = static_cast<std::int64_t>(i);
    }
  }
  a.ok = a.max_err <= a.tol;
  return a;
}

// bf16 and f16: uniform in [-1, 1], rounded to the format (kernels then see exactly these).
template <class H, class Convert>
void fill_half(std::span<H> v, std::uint64_t seed, Convert convert) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (H& x : v) x = convert(dist(rng));
}

// Integers in [-8, 7]: a product is at most 64 in magnitude, so sums of up to 2^25 terms fit
// int32 (reductions here stay far below) and every kernel must agree exactly.
void fill_small_int(std::span<std::int8_t> v, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-8, 7);
  for (std::int8_t& x : v) x = static_cast<std::int8_t>(dist(rng));
}

template <class T>
Agreement agree_exact(std::span<const T> got, std::span<const T> ref) {
  Agreement a;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double e = std::abs(double(got[i]) - double(ref[i]));
    if (e > a.max_err) {
      a.max_err = e;
      a.worst = static_cast<std::int64_t>(i);
    }
  }
  a.ok = a.max_err == 0;
  return a;
}

}  // namespace

void fill_operand(DType d, bool weights, std::span<std::byte> buf, std::uint64_t seed) {
  switch (d) {
    case DType::f64: return fill_float(as<double>(buf), seed);
    case DType::f32: return fill_float(as<float>(buf), seed);
    case DType::bf16: return fill_half(as<bf16>(buf), seed, [](float f) { return to_bf16(f); });
    case DType::f16: return fill_half(as<f16>(buf), seed, [](float f) { return to_f16(f); });
    case DType::i8: return fill_small_int(as<std::int8_t>(buf), seed);
    case DType::i4:
      if (!weights) return fill_small_int(as<std::int8_t>(buf), seed);
      {
        // Any byte is two valid nibbles in -8..7.
        std::mt19937_64 rng(seed);
        std::uniform_int_distribution<int> dist(0, 255);
        for (std::byte& b : buf) b = static_cast<std::byte>(dist(rng));
      }
      return;
  }
}

ProblemBuffers make_buffers(const Shape& s, DType d, const Kernel& k, int threads, std::uint64_t seed) {
  ProblemBuffers b{AlignedBuffer(static_cast<std::size_t>(input_bytes(s, d))),
                   AlignedBuffer(static_cast<std::size_t>(weight_bytes(s, d))),
                   AlignedBuffer(static_cast<std::size_t>(output_bytes(s, d))),
                   AlignedBuffer(k.workspace_bytes(s, threads))};
  fill_operand(d, false, b.input.bytes(), seed);
  fill_operand(d, true, b.weights.bytes(), seed + 1);
  return b;
}

std::string Agreement::message() const {
  return ok ? fmt::format("ok (max error {:.3g}, tolerance {:.3g})", max_err, tol)
            : fmt::format("mismatch at element {}: error {:.3g} > tolerance {:.3g}", worst, max_err, tol);
}

Agreement agree(DType d, std::span<const std::byte> got, std::span<const std::byte> ref, std::int64_t reduction) {
  if (got.size() != ref.size()) throw std::invalid_argument("agree: outputs differ in size");
  switch (d) {
    case DType::f64: return agree_float(as<double>(got), as<double>(ref), reduction);
    case DType::f32:
    case DType::bf16:
    case DType::f16: return agree_float(as<float>(got), as<float>(ref), reduction);  // f32 outputs
    case DType::i8:
    case DType::i4: return agree_exact(as<std::int32_t>(got), as<std::int32_t>(ref));  // int32 outputs
  }
  return {};
}

Shape check_slice(const Shape& s, std::int64_t max_ops) {
  if (ops(s) <= max_ops) return s;
  Shape slice{s.dims, {}, 1};
  std::visit(
      [&](auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MvShape>) {
          d.b = 1;  // Y is vector-major: the first vector's first rows lead the output
          d.m = std::clamp<std::int64_t>(max_ops / (2 * d.k), 1, d.m);
        } else if constexpr (std::is_same_v<T, GemmShape>) {
          d.m = std::clamp<std::int64_t>(max_ops / (2 * d.n * d.k), 1, d.m);
        } else {
          const std::int64_t per_filter = 2 * (d.c / d.g) * d.r * d.s * d.p() * d.q();
          const std::int64_t filters = std::clamp<std::int64_t>(max_ops / per_filter, 1, d.k);
          const std::int64_t per_group = d.k / d.g;
          d.n = 1;
          if (filters < per_group) {  // part of the first group: a plain convolution of its channels
            d.c /= d.g;
            d.k = filters;
            d.g = 1;
          } else {  // whole groups: their input channels and filters lead NCHW and KCRS
            const std::int64_t groups = filters / per_group;
            d.c = d.c / d.g * groups;
            d.k = per_group * groups;
            d.g = groups;
          }
        }
      },
      slice.dims);
  return slice;
}

AlignedBuffer naive_output(const Shape& s, DType d, int threads) {
  const Kernel* ref = select(s.op(), Impl::naive, d);
  if (!ref) throw std::logic_error(fmt::format("no naive reference for {} {}", name(s.op()), name(d)));
  ProblemBuffers b = make_buffers(s, d, *ref, threads);
  b.prepare(*ref, s, threads);
  ref->run(s, b.operands(), threads);
  return std::move(b.output);
}

Agreement check_against(const Kernel& k, const Shape& s, int threads, std::span<const std::byte> expected) {
  ProblemBuffers b = make_buffers(s, k.dtype, k, threads);
  // Poison the output so a kernel that skips elements cannot pass by leaving zeros.
  std::fill(b.output.bytes().begin(), b.output.bytes().end(), std::byte{0x7f});
  b.prepare(k, s, threads);
  k.run(s, b.operands(), threads);
  if (expected.size() > b.output.size()) throw std::invalid_argument("check_against: reference larger than the output");
  return agree(k.dtype, b.output.bytes().first(expected.size()), expected, reduction_len(s));
}

Agreement check_against_naive(const Kernel& k, const Shape& s, int threads) {
  const AlignedBuffer expected = naive_output(check_slice(s), k.dtype, threads);
  return check_against(k, s, threads, expected.bytes());
}

}  // namespace roofbench
