// Data types: the names are the registry key, the benchmark name and the CSV value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace roofbench {

enum class DType { f64, f32, bf16, f16, i8, i4 };

inline constexpr std::array kAllDTypes{DType::f64, DType::f32, DType::bf16, DType::f16, DType::i8, DType::i4};

std::string_view name(DType d);
std::optional<DType> parse_dtype(std::string_view s);

// Bit widths of the three operands. Activations (input), weights and outputs differ for the
// low-precision types: bf16/f16 accumulate into f32, i8/i4 into int32, and i4 packs only the
// weights (activations stay int8).
struct DTypeBits {
  int input;
  int weights;
  int output;
};
DTypeBits bits(DType d);

}  // namespace roofbench
