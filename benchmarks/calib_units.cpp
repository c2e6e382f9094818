// The table of compute units calibrate measures (calib.h peak_loops), apart from calibrate_machine.cpp
// so the tests can link it with the loops and check every unit's accounting.
#include "benchmarks/calib.h"

namespace roofbench {

// The per-ISA loops of calib.inc, calib_lowp.inc and calib_amx.cpp.
double peak_f32_avx2(std::int64_t);
double peak_f64_avx2(std::int64_t);
double peak_f32_avx512(std::int64_t);
double peak_f64_avx512(std::int64_t);
extern const double peak_f32_ops_avx2, peak_f64_ops_avx2, peak_f32_ops_avx512, peak_f64_ops_avx512;
double peak_i8_avx2(std::int64_t);
double peak_bf16_avx2(std::int64_t);
double peak_f16_avx2(std::int64_t);
double peak_bf16_avx512(std::int64_t);
double peak_i8_avx512(std::int64_t);
double peak_i8_avx512_dpwssd(std::int64_t);
double peak_i8_avx512_madd(std::int64_t);
double peak_i8_avx_vnni(std::int64_t);
double peak_f16_avx512_fp16(std::int64_t);
double peak_bf16_amx(std::int64_t);
double peak_i8_amx(std::int64_t);
extern const double peak_i8_ops_avx2, peak_bf16_ops_avx2, peak_f16_ops_avx2, peak_bf16_ops_avx512, peak_i8_ops_avx512,
    peak_i8_ops_avx512_dpwssd, peak_i8_ops_avx512_madd, peak_i8_ops_avx_vnni, peak_f16_ops_avx512_fp16,
    peak_bf16_ops_amx, peak_i8_ops_amx;

// Every unit of every dtype. The spec figures (ops per cycle per core, Intel server core /
// AMD Zen 2-4) follow from each instruction's throughput: an FMA pipe pair issues two vector
// FMAs a cycle (Zen: two 256-bit pipes, so one zmm FMA a cycle); vdpbf16ps issues every 2
// cycles on Intel, every cycle on Zen 4; vpdpbusd and vpdpwssd zmm twice a cycle on Intel;
// vfmadd231ph zmm twice a cycle (32 lanes); an AMX tile multiply about every 16 cycles.
// Conversion paths and vpmaddwd sequences have no single figure (0).
//
// bf16 and f16 "converted to f32 while packing" run the f32 FMA loop again under their own
// dtype: that is the rate a GEMM reaches that widens its operands once, while packing, and
// then multiplies in f32 (opt's bf16/f16 GEMMs do), which outruns any loop that converts in
// its inner loop. It counts toward those dtypes' roofs.
// One unit a row or two, so the units read side by side; a static inside the function because
// the rates it copies are defined in other files (no order of initialisation to rely on).
std::span<const PeakLoop> peak_loops() {
  // clang-format off
  static const PeakLoop kLoops[] = {
    {.dtype = "f64", .how = "avx512f (vfmadd231pd zmm)", .isa = Isa::avx512f, .ops_per_iter = peak_f64_ops_avx512,
     .run = peak_f64_avx512, .spec_intel = 32, .spec_amd = 16},
    {.dtype = "f64", .how = "avx2+fma (vfmadd231pd ymm)", .isa = Isa::avx2_fma, .ops_per_iter = peak_f64_ops_avx2,
     .run = peak_f64_avx2, .spec_intel = 16, .spec_amd = 16},
    {.dtype = "f32", .how = "avx512f (vfmadd231ps zmm)", .isa = Isa::avx512f, .ops_per_iter = peak_f32_ops_avx512,
     .run = peak_f32_avx512, .spec_intel = 64, .spec_amd = 32},
    {.dtype = "f32", .how = "avx2+fma (vfmadd231ps ymm)", .isa = Isa::avx2_fma, .ops_per_iter = peak_f32_ops_avx2,
     .run = peak_f32_avx2, .spec_intel = 32, .spec_amd = 32},
    {.dtype = "bf16", .how = "amx_bf16 (tdpbf16ps)", .isa = Isa::amx_bf16, .ops_per_iter = peak_bf16_ops_amx,
     .run = peak_bf16_amx, .spec_intel = 1024},
    {.dtype = "bf16", .how = "avx512f (converted to f32 while packing, vfmadd231ps zmm)", .isa = Isa::avx512f,
     .ops_per_iter = peak_f32_ops_avx512, .run = peak_f32_avx512, .spec_intel = 64, .spec_amd = 32},
    {.dtype = "bf16", .how = "avx2+fma (converted to f32 while packing, vfmadd231ps ymm)", .isa = Isa::avx2_fma,
     .ops_per_iter = peak_f32_ops_avx2, .run = peak_f32_avx2, .spec_intel = 32, .spec_amd = 32},
    {.dtype = "bf16", .how = "avx512_bf16 (vdpbf16ps)", .isa = Isa::avx512_bf16, .ops_per_iter = peak_bf16_ops_avx512,
     .run = peak_bf16_avx512, .spec_intel = 32, .spec_amd = 64},
    {.dtype = "bf16", .how = "avx2 (widen to f32 + vfmadd231ps in the loop)", .isa = Isa::avx2_fma,
     .ops_per_iter = peak_bf16_ops_avx2, .run = peak_bf16_avx2},
    {.dtype = "f16", .how = "avx512f (converted to f32 while packing, vfmadd231ps zmm)", .isa = Isa::avx512f,
     .ops_per_iter = peak_f32_ops_avx512, .run = peak_f32_avx512, .spec_intel = 64, .spec_amd = 32},
    {.dtype = "f16", .how = "f16c (converted to f32 while packing, vfmadd231ps ymm)", .isa = Isa::f16c,
     .ops_per_iter = peak_f32_ops_avx2, .run = peak_f32_avx2, .spec_intel = 32, .spec_amd = 32},
    {.dtype = "f16", .how = "f16c (vcvtph2ps + vfmadd231ps in the loop)", .isa = Isa::f16c,
     .ops_per_iter = peak_f16_ops_avx2, .run = peak_f16_avx2},
    // f16 products accumulated in f16: faster, but not the f16 roofbench means (f32
    // accumulation), so it never bounds an f16 kernel.
    {.dtype = "f16", .how = "avx512_fp16 (vfmadd231ph, f16 accumulation)", .isa = Isa::avx512_fp16,
     .ops_per_iter = peak_f16_ops_avx512_fp16, .run = peak_f16_avx512_fp16, .roof = false, .spec_intel = 128},
    {.dtype = "i8", .how = "amx_int8 (tdpbusd)", .isa = Isa::amx_int8, .ops_per_iter = peak_i8_ops_amx,
     .run = peak_i8_amx, .spec_intel = 2048},
    {.dtype = "i8", .how = "avx512_vnni (vpdpbusd zmm)", .isa = Isa::avx512_vnni, .ops_per_iter = peak_i8_ops_avx512,
     .run = peak_i8_avx512, .spec_intel = 256},
    {.dtype = "i8", .how = "avx512_vnni (vpdpwssd zmm, int16 pairs)", .isa = Isa::avx512_vnni,
     .ops_per_iter = peak_i8_ops_avx512_dpwssd, .run = peak_i8_avx512_dpwssd, .spec_intel = 128},
    {.dtype = "i8", .how = "avx_vnni (vpdpbusd ymm)", .isa = Isa::avx_vnni, .ops_per_iter = peak_i8_ops_avx_vnni,
     .run = peak_i8_avx_vnni},
    {.dtype = "i8", .how = "avx512f (vpmaddwd + vpaddd zmm, int16)", .isa = Isa::avx512f,
     .ops_per_iter = peak_i8_ops_avx512_madd, .run = peak_i8_avx512_madd},
    {.dtype = "i8", .how = "avx2 (vpmaddubsw + vpmaddwd)", .isa = Isa::avx2_fma, .ops_per_iter = peak_i8_ops_avx2,
     .run = peak_i8_avx2},
  };
  // clang-format on
  return kLoops;
}

}  // namespace roofbench
