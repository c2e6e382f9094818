// The calibration loops behind `roofbench calibrate`, compiled per ISA (calib.inc). Each runs on
// one thread; calibrate_machine.cpp spreads them over OpenMP threads and times them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kernels/core/cpu.h"

namespace roofbench {

// One compute unit's peak loop: independent multiply-add chains (or, for AMX, independent
// accumulator tiles), enough to cover the unit's latency, with the instructions a kernel on
// that unit runs. A dtype has one loop per unit (FMA, a dot-product instruction, AMX tiles,
// a conversion path) and calibrate measures every one the CPU has; the dtype's roof is the
// fastest that counts (roof).
struct PeakLoop {
  std::string_view dtype;  // f64, f32, bf16, f16, i8
  std::string_view how;    // the unit and its instruction, e.g. "amx_bf16 (tdpbf16ps)"
  Isa isa;                 // what cpu() must report
  double ops_per_iter;     // FLOP (or OP) per iteration of run(), 2 per MAC
  double (*run)(
      std::int64_t iters);  // returns a value derived from every chain (no dead code); NaN: AMX config mismatch
  // false: measured and kept in the profile, but not the dtype's roof, because the unit
  // computes something else than the dtype means (vfmadd231ph accumulates in f16).
  bool roof = true;
  // Theoretical ops per cycle per core, for the profile's spec section: on Intel's server
  // cores (Sapphire Rapids) and on AMD's Zen 2-4 (two 256-bit FMA pipes; AVX-512 double-pumped).
  // 0 where no figure can be stated (a unit the vendor lacks, or a conversion path bounded by
  // more than one port).
  double spec_intel = 0, spec_amd = 0;
};

// Streaming loops over one thread's slice of floats (n a multiple of 64, p 64-byte aligned):
// read sums it, copy copies it, stream writes it with non-temporal stores.
struct BandwidthLoops {
  std::string_view how;
  Isa isa;
  double (*read)(const float* p, std::int64_t n);
  void (*copy)(const float* src, float* dst, std::int64_t n);
  void (*stream)(float* dst, std::int64_t n, float value);
};

std::span<const PeakLoop> peak_loops();             // per dtype, fastest unit first (where known)
std::span<const BandwidthLoops> bandwidth_loops();  // widest ISA first

namespace amx {
struct TileConfig;
}
// calib_amx.cpp: loads the calibration's tile configuration, reads it back into *read_back and
// says whether the two match (only when cpu().has(Isa::amx_tile)).
bool amx_tile_config_matches(amx::TileConfig* read_back);

}  // namespace roofbench
