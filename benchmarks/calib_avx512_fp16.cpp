// The AVX512-FP16 vfmadd231ph peak loop; flags per file in CMakeLists.txt. calibrate_machine.cpp calls
// it only when cpu() reports avx512_fp16.
#define ROOFBENCH_LOWP_AVX512_FP16
#include "benchmarks/calib_lowp.inc"
