// tdpbf16ps and tdpbusd in plain C++ (Intel SDM pseudo-code), on tiles held as 16 rows of 64
// bytes like the hardware's, with the shapes the tile configuration gives them. The tests run
// the calibration's tile schedule through it on every CPU, so the ops the AMX loops report are
// checked by counting the multiply-adds the instructions perform, not by restating a formula.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "kernels/amx_tiles.h"

namespace roofbench::testing {

struct Tile {
  std::uint8_t bytes[amx::kRows][amx::kColsb] = {};
};

struct TileShape {
  int rows = 0, colsb = 0;
};

// Tile t's shape as ldtilecfg would read it from the 64 configuration bytes.
inline TileShape shape_of(const amx::TileConfig& c, int t) {
  return {c.bytes[48 + t], c.bytes[16 + 2 * t] | (c.bytes[16 + 2 * t + 1] << 8)};
}

inline float bf16_to_f32(std::uint16_t h) { return std::bit_cast<float>(std::uint32_t{h} << 16); }
inline std::uint16_t f32_to_bf16(float f) { return static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(f) >> 16); }

template <class T>
T get(const Tile& t, int row, int index) {
  T v;
  std::memcpy(&v, &t.bytes[row][index * sizeof(T)], sizeof(T));
  return v;
}
template <class T>
void put(Tile& t, int row, int index, T v) {
  std::memcpy(&t.bytes[row][index * sizeof(T)], &v, sizeof(T));
}

// The shape rules both instructions share (#UD otherwise): C is M x N dwords, A is M rows of K
// dwords, B is K rows of N dwords.
inline void check_shapes(TileShape c, TileShape a, TileShape b) {
  if (a.rows != c.rows || b.rows != a.colsb / 4 || b.colsb != c.colsb || c.colsb % 4 || a.colsb % 4)
    throw std::invalid_argument("tile shapes do not fit a tile multiply");
}

// C.f32[m][n] += sum over k of A.bf16[m][2k+i] * B.bf16[k][2n+i], i = 0, 1. Returns the MACs.
// (The hardware rounds products and sums its own way; the tests use values exact in f32.)
inline std::int64_t tdpbf16ps(Tile& c, const Tile& a, const Tile& b, TileShape cs, TileShape as, TileShape bs) {
  check_shapes(cs, as, bs);
  std::int64_t macs = 0;
  for (int m = 0; m < cs.rows; ++m)
    for (int k = 0; k < as.colsb / 4; ++k)
      for (int n = 0; n < cs.colsb / 4; ++n) {
        float acc = get<float>(c, m, n);
        for (int i = 0; i < 2; ++i, ++macs)
          acc += bf16_to_f32(get<std::uint16_t>(a, m, 2 * k + i)) * bf16_to_f32(get<std::uint16_t>(b, k, 2 * n + i));
        put<float>(c, m, n, acc);
      }
  return macs;
}

// C.s32[m][n] += sum over k of A[m][4k+i] * s8 B[k][4n+i], i = 0..3 (wrapping), A's bytes of
// type AByte: u8 for tdpbusd (the calibration's), s8 for tdpbssd (the opt kernels'). Returns
// the MACs.
template <class AByte>
std::int64_t tdpb_d(Tile& c, const Tile& a, const Tile& b, TileShape cs, TileShape as, TileShape bs) {
  check_shapes(cs, as, bs);
  std::int64_t macs = 0;
  for (int m = 0; m < cs.rows; ++m)
    for (int k = 0; k < as.colsb / 4; ++k)
      for (int n = 0; n < cs.colsb / 4; ++n) {
        std::uint32_t acc = static_cast<std::uint32_t>(get<std::int32_t>(c, m, n));
        for (int i = 0; i < 4; ++i, ++macs)
          acc += static_cast<std::uint32_t>(std::int32_t{get<AByte>(a, m, 4 * k + i)} *
                                            std::int32_t{get<std::int8_t>(b, k, 4 * n + i)});
        put<std::int32_t>(c, m, n, static_cast<std::int32_t>(acc));
      }
  return macs;
}
inline std::int64_t tdpbusd(Tile& c, const Tile& a, const Tile& b, TileShape cs, TileShape as, TileShape bs) {
  return tdpb_d<std::uint8_t>(c, a, b, cs, as, bs);
}
inline std::int64_t tdpbssd(Tile& c, const Tile& a, const Tile& b, TileShape cs, TileShape as, TileShape bs) {
  return tdpb_d<std::int8_t>(c, a, b, cs, as, bs);
}

// `passes` passes of the calibration loop's schedule over the 8 tiles, shapes from the config.
// Returns the MACs performed.
template <class Multiply>
std::int64_t run_schedule(Tile (&tiles)[amx::kTiles], const amx::TileConfig& config, int passes, Multiply multiply) {
  std::int64_t macs = 0;
  for (int p = 0; p < passes; ++p)
    for (const amx::TileOp& op : amx::kSchedule)
      macs += multiply(tiles[op.c], tiles[op.a], tiles[op.b], shape_of(config, op.c), shape_of(config, op.a),
                       shape_of(config, op.b));
  return macs;
}

}  // namespace roofbench::testing
