// AMX peak loops: tdpbf16ps (AMX-BF16) and tdpbusd (AMX-INT8) on the tile schedule of
// amx_tiles.h (flags per file in CMakeLists.txt: -mamx-tile -mamx-bf16 -mamx-int8). calibrate_machine.cpp
// calls them only when cpu() reports the unit, which includes Linux's permission for the tile
// data (kernels/core/cpu.cpp request_amx_permission): without it the first tile instruction raises
// SIGILL.
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/amx_tiles.h"

namespace roofbench {
namespace {

// GCC 12's tile intrinsics are asm statements that tell the compiler little about memory:
// _tile_loadconfig names 8 of the 64 bytes it reads, _tile_storeconfig 8 of the 64 it writes,
// tileloadd and tilestored none. An empty asm that may read and write all memory, given the
// buffer's address, makes the compiler finish every store before it and reload after it.
inline void memory_barrier(const void* p) { __asm__ volatile("" : : "r"(p) : "memory"); }

// Loads the tile configuration and reads it back. A mismatch means the config the CPU holds is
// not the one the loop's ops were counted for (a dropped store, a palette it does not support):
// the caller reports that instead of a wrong figure.
bool load_tile_config(amx::TileConfig* loaded = nullptr) {
  const amx::TileConfig want = amx::tile_config();
  memory_barrier(&want);
  _tile_loadconfig(&want);
  amx::TileConfig back;
  memory_barrier(&back);
  _tile_storeconfig(&back);
  memory_barrier(&back);
  if (loaded) *loaded = back;
  return std::memcmp(&want, &back, sizeof want) == 0;
}

constexpr double kBadConfig = std::numeric_limits<double>::quiet_NaN();

// The schedule the loops below spell out: the tile intrinsics take their tile numbers as
// literals (they are pasted into the instruction text), so they cannot read kSchedule.
static_assert(amx::kSchedule[0] == amx::TileOp{0, 4, 6} && amx::kSchedule[1] == amx::TileOp{1, 4, 7} &&
              amx::kSchedule[2] == amx::TileOp{2, 5, 6} && amx::kSchedule[3] == amx::TileOp{3, 5, 7} &&
              amx::kSteps == 4);

// A into tiles 4 and 5, B into 6 and 7, accumulators 0-3 zeroed: kSchedule's operands.
void load_operands(const void* a, const void* b) {
  memory_barrier(a);
  memory_barrier(b);
  _tile_loadd(4, a, amx::kColsb);
  _tile_loadd(5, a, amx::kColsb);
  _tile_loadd(6, b, amx::kColsb);
  _tile_loadd(7, b, amx::kColsb);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

// Reads every accumulator back so the multiplies' results stay observable.
template <class T>
double store_accumulators() {
  alignas(64) T c[4][amx::kRows * amx::kColsb / sizeof(T)];
  memory_barrier(c);
  _tile_stored(0, c[0], amx::kColsb);
  _tile_stored(1, c[1], amx::kColsb);
  _tile_stored(2, c[2], amx::kColsb);
  _tile_stored(3, c[3], amx::kColsb);
  memory_barrier(c);
  return double(c[0][0]) + double(c[1][0]) + double(c[2][0]) + double(c[3][0]);
}

}  // namespace

// Loads the configuration once and reads it back (calibrate_machine.cpp formats the message: no
// std::string in this file, whose inline functions would be compiled with AMX flags).
bool amx_tile_config_matches(amx::TileConfig* read_back) {
  const bool ok = load_tile_config(read_back);
  _tile_release();
  return ok;
}

// bf16 on AMX: 4 tdpbf16ps per iteration, 16 x 16 x 32 MACs each. A holds 1.0, B 2^-10: the
// f32 sums grow slowly and never reach infinity.
double peak_bf16_amx(std::int64_t iters) {
  if (!load_tile_config()) return kBadConfig;
  alignas(64) std::uint16_t a[amx::kRows * amx::kColsb / 2], b[amx::kRows * amx::kColsb / 2];
  for (auto& x : a) x = 0x3f80;  // 1.0
  for (auto& x : b) x = 0x3a80;  // 2^-10
  load_operands(a, b);
  for (std::int64_t i = 0; i < iters; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  const double out = store_accumulators<float>();
  _tile_release();  // the tile state is large: leave none behind for the OS to save
  return out;
}
extern const double peak_bf16_ops_amx = amx::kBf16OpsPerIter;

// int8 on AMX: 4 tdpbusd per iteration, 16 x 16 x 64 MACs each. A holds 1 (u8), B alternates
// +1 and -1 (s8): every quad sums to 0, so the int32 accumulators never wrap.
double peak_i8_amx(std::int64_t iters) {
  if (!load_tile_config()) return kBadConfig;
  alignas(64) std::uint8_t a[amx::kRows * amx::kColsb];
  alignas(64) std::int8_t b[amx::kRows * amx::kColsb];
  for (auto& x : a) x = 1;
  for (int i = 0; i < amx::kRows * amx::kColsb; ++i) b[i] = static_cast<std::int8_t>(i % 2 ? -1 : 1);
  load_operands(a, b);
  for (std::int64_t i = 0; i < iters; ++i) {
    _tile_dpbusd(0, 4, 6);
    _tile_dpbusd(1, 4, 7);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
  }
  const double out = store_accumulators<std::int32_t>();
  _tile_release();
  return out;
}
extern const double peak_i8_ops_amx = amx::kI8OpsPerIter;

}  // namespace roofbench
