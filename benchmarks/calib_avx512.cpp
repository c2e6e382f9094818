// Calibration loops compiled for avx512 (flags per file in CMakeLists.txt); calibrate_machine.cpp calls
// them only when cpu() reports the ISA.
#define ROOFBENCH_ISA avx512
#define ROOFBENCH_F32 simd::Avx512F32
#define ROOFBENCH_F64 simd::Avx512F64
#include "benchmarks/calib.inc"

#define ROOFBENCH_LOWP_AVX512
#include "benchmarks/calib_lowp.inc"
