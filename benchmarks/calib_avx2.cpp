// Calibration loops compiled for avx2 (flags per file in CMakeLists.txt); calibrate_machine.cpp calls
// them only when cpu() reports the ISA.
#define ROOFBENCH_ISA avx2
#define ROOFBENCH_F32 simd::Avx2F32
#define ROOFBENCH_F64 simd::Avx2F64
#include "benchmarks/calib.inc"

#define ROOFBENCH_LOWP_AVX2
#include "benchmarks/calib_lowp.inc"
