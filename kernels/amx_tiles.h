// The AMX tile layout, as plain data: the 64-byte tile configuration (every tile 16 rows x 64
// bytes, which both the calibration loop and the opt kernels' micro-kernel, kernels/opt/ukernel_amx.inc,
// load), which tiles each multiply of the calibration loop reads and writes, and the ops one
// multiply performs. calib_amx.cpp runs exactly this schedule; tests/test_units.cpp checks the
// bytes against the architecture's layout and runs the schedule through a plain C++ emulation
// of tdpbf16ps and tdpbusd, counting the multiply-adds, so the ops the calibration reports are
// the ops the tiles did (on every CPU, AMX or not). No intrinsics here: the header compiles
// anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace roofbench::amx {

// Palette 1's largest tile, the one every calibration tile uses: 16 rows of 64 bytes.
inline constexpr int kRows = 16;
inline constexpr int kColsb = 64;
inline constexpr int kTiles = 8;  // tmm0..tmm7, all of palette 1

// The 64 bytes ldtilecfg reads (Intel SDM, LDTILECFG): byte 0 palette, byte 1 start_row,
// bytes 2-15 reserved (zero), bytes 16-47 colsb of tiles 0-15 (uint16, little endian),
// bytes 48-63 rows of tiles 0-15. Tiles 8-15 do not exist in palette 1 and stay zero.
// Aligned to 64 so the whole config sits in one cache line.
struct alignas(64) TileConfig {
  std::uint8_t bytes[64] = {};
  bool operator==(const TileConfig&) const = default;
};
static_assert(sizeof(TileConfig) == 64);

// Returned by value from a function, as the AMX intrinsics' users do: the caller must still
// keep the compiler from dropping the stores (calib_amx.cpp, GCC 12's _tile_loadconfig names
// only 8 of the 64 bytes it reads).
constexpr TileConfig tile_config() {
  TileConfig c;
  c.bytes[0] = 1;  // palette 1: 8 tiles of up to 16 rows x 64 bytes
  c.bytes[1] = 0;  // start_row: no interrupted tile load to resume
  for (int t = 0; t < kTiles; ++t) {
    c.bytes[16 + 2 * t] = static_cast<std::uint8_t>(kColsb & 0xff);
    c.bytes[16 + 2 * t + 1] = static_cast<std::uint8_t>(kColsb >> 8);
    c.bytes[48 + t] = static_cast<std::uint8_t>(kRows);
  }
  return c;
}

// One tile multiply: C tile c += A tile a times B tile b.
struct TileOp {
  int c, a, b;
  bool operator==(const TileOp&) const = default;
};

// Four accumulators (tmm0-3) fed by two A tiles (tmm4, 5) and two B tiles (tmm6, 7): each
// accumulator is its own dependency chain, and four chains of one multiply per ~16 cycles
// cover a multiply's latency (about 52 cycles on Sapphire Rapids), so the loop measures the
// unit's throughput, not a chain's latency. The order alternates A and B so consecutive
// multiplies share no accumulator.
inline constexpr TileOp kSchedule[] = {{0, 4, 6}, {1, 4, 7}, {2, 5, 6}, {3, 5, 7}};
inline constexpr int kSteps = static_cast<int>(std::size(kSchedule));

// Multiply-adds per instruction on full tiles. tdpbf16ps: C is 16 x 16 f32 (64 bytes = 16
// dwords a row), A is 16 rows x 32 bf16, B is 16 rows of 16 bf16 pairs: M x N x K = 16 x 16 x 32.
// tdpbusd: A is 16 rows x 64 u8, B 16 rows of 16 s8 quads: 16 x 16 x 64.
inline constexpr double kBf16MacsPerMultiply = 16.0 * 16 * 32;  // 8192 MACs = 16384 FLOP
inline constexpr double kI8MacsPerMultiply = 16.0 * 16 * 64;    // 16384 MACs = 32768 OP

// Ops (2 per MAC) per iteration of the calibration loop: one pass over kSchedule.
inline constexpr double kBf16OpsPerIter = 2 * kBf16MacsPerMultiply * kSteps;
inline constexpr double kI8OpsPerIter = 2 * kI8MacsPerMultiply * kSteps;

}  // namespace roofbench::amx
