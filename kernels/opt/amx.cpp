// opt GEMM and conv2d in bf16 (tdpbf16ps), i8 and i4 (tdpbssd) on the AMX tiles, in a file of
// its own: its flags (CMakeLists.txt) reach no code that CPUs without AMX run. The registry
// calls these only when cpu() reports amx_bf16 / amx_int8, which it does only where Linux
// granted the tile data permission and avx512f is present (the packing and the depthwise path
// are AVX-512 code; every AMX CPU has it).
#define ROOFBENCH_ISA amx
#define ROOFBENCH_F32 simd::Avx512F32
#define ROOFBENCH_AMX 1
#define ROOFBENCH_AMX_BF16 simd::AmxBf16Tiles
#define ROOFBENCH_AMX_INT8 simd::AmxI8Tiles
#include "kernels/opt/opt.inc"
