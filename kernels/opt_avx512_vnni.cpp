// opt GEMM and conv2d in i8 and i4 over vpdpwssd (AVX512_VNNI), in a file of its own: its flags
// (CMakeLists.txt) must not leak into the avx512f kernels, which run on CPUs without VNNI. The
// registry calls these only when cpu() reports avx512_vnni (which implies our avx512f).
#define ROOFBENCH_ISA avx512_vnni
#define ROOFBENCH_F32 simd::Avx512F32
#define ROOFBENCH_INT_DOT simd::Avx512VnniI16Pairs
#include "kernels/opt.inc"
