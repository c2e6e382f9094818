#include "kernels/core/cost.h"

#include <stdexcept>
#include <type_traits>
#include <variant>

namespace roofbench {
namespace {

template <class Mv, class Gemm, class Conv>
std::int64_t by_op(const Shape& s, Mv mv, Gemm gemm, Conv conv) {
  return std::visit(
      [&](const auto& d) -> std::int64_t {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MvShape>)
          return mv(d);
        else if constexpr (std::is_same_v<T, GemmShape>)
          return gemm(d);
        else
          return conv(d);
      },
      s.dims);
}

// Shapes come from users: a product that would overflow int64 is an error, not a wrap.
template <class... Ts>
std::int64_t mul(std::int64_t a, Ts... rest) {
  for (std::int64_t b : {std::int64_t{rest}...})
    if (__builtin_mul_overflow(a, b, &a)) throw std::overflow_error("dimension product overflows 64 bits");
  return a;
}

// Elements at a bit width, rounded up to whole bytes (i4 packs two weights per byte).
std::int64_t to_bytes(std::int64_t elems, int bits) { return (mul(elems, bits) + 7) / 8; }

}  // namespace

std::int64_t macs(const Shape& s) {
  return by_op(
      s, [](const MvShape& d) { return mul(d.m, d.k, d.b); }, [](const GemmShape& d) { return mul(d.m, d.n, d.k); },
      [](const ConvShape& d) { return mul(d.n, d.k, d.p(), d.q(), d.c / d.g, d.r, d.s); });
}

std::int64_t ops(const Shape& s) { return mul(2, macs(s)); }

std::int64_t params(const Shape& s) {
  return by_op(
      s, [](const MvShape& d) { return mul(d.m, d.k); }, [](const GemmShape& d) { return mul(d.k, d.n); },
      [](const ConvShape& d) { return mul(d.k, d.c / d.g, d.r, d.s); });
}

std::int64_t input_elems(const Shape& s) {
  return by_op(
      s, [](const MvShape& d) { return mul(d.k, d.b); }, [](const GemmShape& d) { return mul(d.m, d.k); },
      [](const ConvShape& d) { return mul(d.n, d.c, d.h, d.w); });
}

std::int64_t output_elems(const Shape& s) {
  return by_op(
      s, [](const MvShape& d) { return mul(d.m, d.b); }, [](const GemmShape& d) { return mul(d.m, d.n); },
      [](const ConvShape& d) { return mul(d.n, d.k, d.p(), d.q()); });
}

std::int64_t reduction_len(const Shape& s) {
  return by_op(
      s, [](const MvShape& d) { return d.k; }, [](const GemmShape& d) { return d.k; },
      [](const ConvShape& d) { return mul(d.c / d.g, d.r, d.s); });
}

std::int64_t input_bytes(const Shape& s, DType d) { return to_bytes(input_elems(s), bits(d).input); }
std::int64_t weight_bytes(const Shape& s, DType d) { return to_bytes(params(s), bits(d).weights); }
std::int64_t output_bytes(const Shape& s, DType d) { return to_bytes(output_elems(s), bits(d).output); }
std::int64_t bytes(const Shape& s, DType d) {
  std::int64_t sum = 0;
  for (std::int64_t part : {input_bytes(s, d), weight_bytes(s, d), output_bytes(s, d)})
    if (__builtin_add_overflow(sum, part, &sum)) throw std::overflow_error("byte count overflows 64 bits");
  return sum;
}
std::int64_t footprint_bytes(const Shape& s, DType d) { return bytes(s, d); }

double arithmetic_intensity(const Shape& s, DType d) {
  return static_cast<double>(ops(s)) / static_cast<double>(bytes(s, d));
}

}  // namespace roofbench
