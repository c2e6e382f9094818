// opt GEMM and conv2d in bf16 over vdpbf16ps (AVX512_BF16), in a file of its own: its flags
// (CMakeLists.txt) must not leak into the avx512f kernels, which run on CPUs without BF16. The
// registry calls these only when cpu() reports avx512_bf16 (which implies our avx512f).
#define ROOFBENCH_ISA avx512_bf16
#define ROOFBENCH_F32 simd::Avx512F32
#define ROOFBENCH_BF16_DOT simd::Avx512Bf16Pairs
#include "kernels/opt/opt.inc"
