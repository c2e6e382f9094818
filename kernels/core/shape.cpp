#include "kernels/core/shape.h"

#include <fmt/format.h>

#include <type_traits>

namespace roofbench {

std::string_view name(Op op) {
  switch (op) {
    case Op::mv: return "mv";
    case Op::gemm: return "gemm";
    case Op::conv2d: return "conv2d";
  }
  return "?";
}

std::string to_string(const Shape& s) {
  std::string out;
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MvShape>) {
          out = fmt::format("mv m={} k={}", d.m, d.k);
        } else if constexpr (std::is_same_v<T, GemmShape>) {
          out = fmt::format("gemm m={} n={} k={}", d.m, d.n, d.k);
        } else {
          out = fmt::format("conv2d n={} c={} h={} w={} k={} r={} s={}", d.n, d.c, d.h, d.w, d.k, d.r, d.s);
          if (d.stride != 1) out += fmt::format(" stride={}", d.stride);
          if (d.pad != 0) out += fmt::format(" pad={}", d.pad);
          if (d.g != 1) out += fmt::format(" g={}", d.g);
        }
      },
      s.dims);
  if (!s.name.empty()) out += fmt::format(" name={}", s.name);
  if (s.repeat != 1) out += fmt::format(" repeat={}", s.repeat);
  return out;
}

Shape batched(const Shape& s, std::int64_t batch) {
  Shape out = s;
  std::visit(
      [&](auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MvShape>)
          d.b = d.b * batch;
        else if constexpr (std::is_same_v<T, GemmShape>)
          d.m = d.m * batch;
        else
          d.n = d.n * batch;
      },
      out.dims);
  return out;
}

}  // namespace roofbench
