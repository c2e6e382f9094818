// opt kernels compiled for avx512 (flags set per file in CMakeLists.txt). The registry calls
// them only when cpu() reports the ISA.
#define ROOFBENCH_ISA avx512
#define ROOFBENCH_F32 simd::Avx512F32
#define ROOFBENCH_F64 simd::Avx512F64
#include "kernels/opt.inc"
