#include "kernels/core/dtype.h"

namespace roofbench {

std::string_view name(DType d) {
  switch (d) {
    case DType::f64: return "f64";
    case DType::f32: return "f32";
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
    case DType::i8: return "i8";
    case DType::i4: return "i4";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view s) {
  for (DType d : kAllDTypes)
    if (name(d) == s) return d;
  return std::nullopt;
}

DTypeBits bits(DType d) {
  switch (d) {
    case DType::f64: return {64, 64, 64};
    case DType::f32: return {32, 32, 32};
    case DType::bf16:
    case DType::f16: return {16, 16, 32};
    case DType::i8: return {8, 8, 32};
    case DType::i4: return {8, 4, 32};
  }
  return {0, 0, 0};
}

}  // namespace roofbench
