#include "kernels/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "kernels/cost.h"

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

}  // namespace

void fill_uniform(DType d, std::span<std::byte> buf, std::uint64_t seed) {
  switch (d) {
    case DType::f64: return fill_float(as<double>(buf), seed);
    case DType::f32: return fill_float(as<float>(buf), seed);
    default: throw std::invalid_argument(fmt::format("fill_uniform: dtype {} not supported yet", name(d)));
  }
}

ProblemBuffers make_buffers(const Shape& s, DType d, const Kernel& k, int threads, std::uint64_t seed) {
  ProblemBuffers b{AlignedBuffer(static_cast<std::size_t>(input_bytes(s, d))),
                   AlignedBuffer(static_cast<std::size_t>(weight_bytes(s, d))),
                   AlignedBuffer(static_cast<std::size_t>(output_bytes(s, d))),
                   AlignedBuffer(k.workspace_bytes(s, threads))};
  fill_uniform(d, b.input.bytes(), seed);
  fill_uniform(d, b.weights.bytes(), seed + 1);
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
    case DType::f32: return agree_float(as<float>(got), as<float>(ref), reduction);
    default: throw std::invalid_argument(fmt::format("agree: dtype {} not supported yet", name(d)));
  }
}

AlignedBuffer naive_output(const Shape& s, DType d, int threads) {
  const Kernel* ref = select(s.op(), Impl::naive, d);
  if (!ref) throw std::logic_error(fmt::format("no naive reference for {} {}", name(s.op()), name(d)));
  ProblemBuffers b = make_buffers(s, d, *ref, threads);
  ref->run(s, b.operands(), threads);
  return std::move(b.output);
}

Agreement check_against(const Kernel& k, const Shape& s, int threads, std::span<const std::byte> expected) {
  ProblemBuffers b = make_buffers(s, k.dtype, k, threads);
  // Poison the output so a kernel that skips elements cannot pass by leaving zeros.
  std::fill(b.output.bytes().begin(), b.output.bytes().end(), std::byte{0x7f});
  k.run(s, b.operands(), threads);
  return agree(k.dtype, b.output.bytes(), expected, reduction_len(s));
}

Agreement check_against_naive(const Kernel& k, const Shape& s, int threads) {
  const AlignedBuffer expected = naive_output(s, k.dtype, threads);
  return check_against(k, s, threads, expected.bytes());
}

}  // namespace roofbench
