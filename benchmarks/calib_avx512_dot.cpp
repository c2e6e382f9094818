// bf16 and int8 dot-product peak loops (AVX512_BF16, AVX512_VNNI; flags per file in
// CMakeLists.txt). calibrate_machine.cpp calls them only when cpu() reports those ISAs.
#define ROOFBENCH_LOWP_AVX512_DOT
#include "benchmarks/calib_lowp.inc"
