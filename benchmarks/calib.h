// The calibration loops behind `roofbench calibrate`, compiled per ISA (calib.inc). Each runs on
// one thread; calibrate.cpp spreads them over OpenMP threads and times them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kernels/cpu.h"

namespace roofbench {

// Independent multiply-add chains, enough to cover every pipe's latency: the compute roof of a
// dtype with the instructions a kernel of that dtype uses (FMA for f64/f32; conversion to f32
// plus FMA for bf16/f16 without dot-product instructions; vpmaddubsw+vpmaddwd for int8 on AVX2;
// vdpbf16ps and vpdpbusd where AVX512_BF16 and AVX512_VNNI exist).
struct PeakLoop {
  std::string_view dtype;  // f64, f32, bf16, f16, i8
  std::string_view how;    // the instructions, e.g. avx2+fma, avx512_vnni
  Isa isa;
  double ops_per_iter;              // FLOP per iteration of run()
  double (*run)(std::int64_t iters);  // returns a value derived from every chain (no dead code)
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

std::span<const PeakLoop> peak_loops();            // widest ISA first
std::span<const BandwidthLoops> bandwidth_loops();  // widest ISA first

}  // namespace roofbench
