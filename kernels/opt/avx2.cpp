// opt kernels compiled for avx2 (flags set per file in CMakeLists.txt). The registry calls
// them only when cpu() reports the ISA.
#define ROOFBENCH_ISA avx2
#define ROOFBENCH_F32 simd::Avx2F32
#define ROOFBENCH_F64 simd::Avx2F64
#define ROOFBENCH_INT simd::Avx2I8Quads  // i8, i4: vpmaddubsw on k quads (simd.h says why)
#define ROOFBENCH_LOWP 1                 // GEMM and conv2d in bf16, f16 (by conversion to f32), i8 and i4 (vpmaddwd)
#include "kernels/opt/opt.inc"
