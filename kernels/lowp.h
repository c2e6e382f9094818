// Storage of the low-precision dtypes and their scalar conversions. Portable code only: the
// naive reference and the fills use it, so it must not depend on F16C or AVX512_BF16; the opt
// kernels convert with intrinsics in their own ISA files.
//
//   bf16  the upper 16 bits of an IEEE binary32 (float -> bf16 rounds to nearest even)
//   f16   IEEE binary16 (float -> f16 rounds to nearest even; overflow goes to infinity)
//   i4    two weights per byte, element i in byte i/2, the low nibble for even i, two's
//         complement values -8..7
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace roofbench {

struct bf16 {
  std::uint16_t bits;
};
struct f16 {
  std::uint16_t bits;
};

inline float to_float(bf16 v) { return std::bit_cast<float>(static_cast<std::uint32_t>(v.bits) << 16); }

inline bf16 to_bf16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((u >> 16) | 0x40)};  // quiet NaN
  const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);                                   // ties to even
  return {static_cast<std::uint16_t>((u + rounding) >> 16)};
}

inline float to_float(f16 v) {
  const std::uint32_t sign = static_cast<std::uint32_t>(v.bits & 0x8000u) << 16;
  const std::uint32_t exp = (v.bits >> 10) & 0x1fu, mant = v.bits & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float m = static_cast<float>(mant) * 0x1p-24f;
    return sign ? -m : m;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf or NaN
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

inline f16 to_f16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  const std::uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return {static_cast<std::uint16_t>(sign | 0x7e00u)};   // NaN
  if (abs >= 0x477ff000u) return {static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds past 65504: inf
  if (abs < 0x38800000u) {
    // Below the smallest normal (2^-14) an f16 is a multiple of 2^-24: scale to units of 2^-24
    // (exact) and let a float addition round to an integer, ties to even. 1024 units is the
    // smallest normal, whose encoding 0x400 is exactly what the integer reads as.
    const float scaled = std::bit_cast<float>(abs) * 0x1p24f;
    const float rounded = scaled + 0x1p23f - 0x1p23f;
    return {static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(rounded))};
  }
  const std::uint32_t rounding = 0xfffu + ((abs >> 13) & 1u);  // ties to even on the 13 dropped bits
  return {static_cast<std::uint16_t>(sign | ((abs - (112u << 23) + rounding) >> 13))};
}

inline int unpack_i4(std::span<const std::byte> packed, std::int64_t i) {
  const auto byte = static_cast<unsigned>(packed[static_cast<std::size_t>(i / 2)]);
  const unsigned nibble = (i % 2 == 0) ? (byte & 0xfu) : (byte >> 4);
  return static_cast<int>(nibble ^ 8u) - 8;  // sign-extend 4 bits
}

inline void pack_i4(std::span<std::byte> packed, std::int64_t i, int v) {
  auto& byte = packed[static_cast<std::size_t>(i / 2)];
  const auto nibble = static_cast<unsigned>(v) & 0xfu;
  const unsigned kept = static_cast<unsigned>(byte) & (i % 2 == 0 ? 0xf0u : 0x0fu);
  byte = static_cast<std::byte>(kept | (i % 2 == 0 ? nibble : nibble << 4));
}

}  // namespace roofbench
