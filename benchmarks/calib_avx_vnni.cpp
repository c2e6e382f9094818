// The AVX-VNNI (VEX-encoded, ymm) int8 peak loop; flags per file in CMakeLists.txt.
// calibrate_machine.cpp calls it only when cpu() reports avx_vnni.
#define ROOFBENCH_LOWP_AVX_VNNI
#include "benchmarks/calib_lowp.inc"
