// opt kernels compiled for avx2 (flags set per file in CMakeLists.txt). The registry calls
// them only when cpu() reports the ISA.
#define ROOFBENCH_ISA avx2
#define ROOFBENCH_F32 simd::Avx2F32
#define ROOFBENCH_F64 simd::Avx2F64
#include "kernels/opt.inc"
