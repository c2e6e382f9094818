// opt GEMM and conv2d in i8 and i4 over vpdpbusd (AVX512_VNNI: u8 x s8 quads, B offset by 128),
// in a file of its own: its flags (CMakeLists.txt) must not leak into the avx512f kernels,
// which run on CPUs without VNNI. The registry calls these only when cpu() reports avx512_vnni
// (which implies our avx512f).
#define ROOFBENCH_ISA avx512_vnni
#define ROOFBENCH_F32 simd::Avx512F32
#define ROOFBENCH_INT_DOT simd::Avx512VnniU8S8Quads
#include "kernels/opt/opt.inc"
