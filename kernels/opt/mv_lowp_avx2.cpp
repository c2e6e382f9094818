// opt MV in the low-precision dtypes for AVX2 (+FMA, +F16C for f16), compiled with those flags
// only (CMakeLists.txt); the registry calls these only when cpu() reports the ISA.
//
// MV streams its weights once, so it is memory-bound and its speed follows the weights' bit
// width: 16-bit weights halve the traffic of f32, int8 quarter it, int4 eighth it. The kernels
// keep the arithmetic cheap enough not to become the limit:
//   bf16, f16  the input vectors are widened to f32 once per call (the workspace), the weights
//              8 at a time in registers (bf16: a 16-bit shift; f16: vcvtph2ps), then FMA;
//   i8         vpmaddubsw needs one unsigned operand: |x| times w carrying x's sign
//              (vpsignb), then vpmaddwd against ones sums pairs into int32. In the symmetric
//              range -127..127 products are at most 127 * 127, so the pairwise int16 sums
//              cannot saturate (a w of -128 could not take x's sign: docs/kernels.md, "Data types");
//   i4         32 bytes of weights hold 64 nibbles: the low nibbles are the even elements, the
//              high ones the odd, so the input vector is split once per call into even and odd
//              halves of every 64-element block (the workspace). A nibble with its top bit
//              flipped is w + 8, an unsigned byte vpmaddubsw takes as is; 8 * sum(x) is
//              subtracted once per vector.
// Rows are split across OpenMP threads, 4 rows at a time so each input load serves 4 rows.
// Everything here lives in an anonymous namespace or is a registry entry point: no inline or
// template symbol may leak from a file compiled with these flags (see CMakeLists.txt).
#include <immintrin.h>
#include <omp.h>

#include <cstdint>
#include <cstring>

#include "kernels/core/buffer.h"
#include "kernels/core/cpu.h"
#include "kernels/kernels.h"

namespace roofbench {
namespace {

// The block sizes and thread thresholds of every opt kernel (this MV's rows per block and
// kMvMacsPerThread among them) are in config.inc.
#include "kernels/opt/arith.inc"
#include "kernels/opt/config.inc"

constexpr i64 kRows = MvBlocks::kRows;

int mv_threads(const MvShape& d, int threads) {
  const i64 t = d.m * d.k * d.b / kMvMacsPerThread;
  return static_cast<int>(t < 1 ? 1 : (t < threads ? t : threads));
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

std::int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

float bf16_scalar(std::uint16_t h) {
  const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// ---- bf16 and f16 -------------------------------------------------------------------------
struct Bf16 {
  static __m256 load8(const std::uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float scalar(std::uint16_t h) { return bf16_scalar(h); }
};

struct F16 {
  static __m256 load8(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float scalar(std::uint16_t h) { return _cvtsh_ss(h); }
};

// R rows of Y from R rows of W (R a compile-time constant, so the accumulators stay in
// registers; a run-time row count made GCC keep them on the stack).
template <class H, int R>
void half_rows(const MvShape& d, const std::uint16_t* W, const float* xf, float* Y, i64 row0) {
  const i64 k8 = d.k / 8 * 8;
  for (i64 b = 0; b < d.b; ++b) {
    const float* x = xf + b * d.k;
    __m256 acc[R], acc2[R];  // 16 elements a step in two chains: more loads in flight per row
    for (int r = 0; r < R; ++r) acc[r] = acc2[r] = _mm256_setzero_ps();
    i64 p = 0;
    for (; p + 16 <= k8; p += 16) {
      const __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
      for (int r = 0; r < R; ++r) {
        const std::uint16_t* w = W + (row0 + r) * d.k + p;
        acc[r] = _mm256_fmadd_ps(H::load8(w), x0, acc[r]);
        acc2[r] = _mm256_fmadd_ps(H::load8(w + 8), x1, acc2[r]);
      }
    }
    for (; p < k8; p += 8) {
      const __m256 xv = _mm256_loadu_ps(x + p);
      for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(H::load8(W + (row0 + r) * d.k + p), xv, acc[r]);
    }
    for (int r = 0; r < R; ++r) {
      float sum = hsum(_mm256_add_ps(acc[r], acc2[r]));
      for (i64 q = k8; q < d.k; ++q) sum += H::scalar(W[(row0 + r) * d.k + q]) * x[q];
      Y[b * d.m + row0 + r] = sum;
    }
  }
}

// Y[b][m] = W[m][k] X[b][k], W and X 16-bit, Y f32; xf is the workspace (b*k floats).
template <class H>
void mv_half(const MvShape& d, const std::uint16_t* W, const std::uint16_t* X, float* Y, float* xf, int threads) {
  threads = mv_threads(d, threads);
  const i64 blocks = d.m / kRows;
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (i64 i = 0; i < d.b * d.k; ++i) xf[i] = H::scalar(X[i]);
#pragma omp for schedule(static)
    for (i64 blk = 0; blk <= blocks; ++blk)
      if (blk < blocks)
        half_rows<H, kRows>(d, W, xf, Y, blk * kRows);
      else
        for (i64 row = blk * kRows; row < d.m; ++row) half_rows<H, 1>(d, W, xf, Y, row);
  }
}

// ---- i8 and i4 ----------------------------------------------------------------------------
// 32 int8 products w*x summed pairwise into 8 int32 lanes; ax = |x|, hoisted out of the row loop.
__m256i dot32(__m256i w, __m256i x, __m256i ax) {
  const __m256i prod16 = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(w, x));
  return _mm256_madd_epi16(prod16, _mm256_set1_epi16(1));
}

template <int R>
void i8_rows(const MvShape& d, const std::int8_t* W, const std::int8_t* X, std::int32_t* Y, i64 row0) {
  const i64 k32 = d.k / 32 * 32;
  for (i64 b = 0; b < d.b; ++b) {
    const std::int8_t* x = X + b * d.k;
    __m256i acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    for (i64 p = 0; p < k32; p += 32) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + p)), ax = _mm256_abs_epi8(xv);
      for (int r = 0; r < R; ++r)
        acc[r] = _mm256_add_epi32(
            acc[r], dot32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(W + (row0 + r) * d.k + p)), xv, ax));
    }
    // The last k % 32 by one more dot against x's tail copied into zeros: the weights' 32 bytes
    // are loaded as they lie (what follows the row's tail meets a zero x and adds nothing), and
    // copied only where those 32 bytes would pass the end of W. A scalar loop here cost a
    // multiply-add per element and row (up to 31), which made an odd-k MV several times slower
    // than its bytes and bent the predictor's fit of every opt i8 MV.
    if (const i64 tail = d.k - k32; tail > 0) {
      alignas(32) std::int8_t xt[32] = {}, wt[32] = {};
      std::memcpy(xt, x + k32, static_cast<std::size_t>(tail));
      const __m256i xv = _mm256_load_si256(reinterpret_cast<const __m256i*>(xt)), ax = _mm256_abs_epi8(xv);
      for (int r = 0; r < R; ++r) {
        const i64 at = (row0 + r) * d.k + k32;
        const std::int8_t* w = W + at;
        if (at + 32 > d.m * d.k)
          w = static_cast<const std::int8_t*>(std::memcpy(wt, w, static_cast<std::size_t>(tail)));
        acc[r] = _mm256_add_epi32(acc[r], dot32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)), xv, ax));
      }
    }
    for (int r = 0; r < R; ++r) Y[b * d.m + row0 + r] = hsum(acc[r]);
  }
}

void mv_i8(const MvShape& d, const std::int8_t* W, const std::int8_t* X, std::int32_t* Y, int threads) {
  threads = mv_threads(d, threads);
  const i64 blocks = d.m / kRows;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (i64 blk = 0; blk <= blocks; ++blk)
    if (blk < blocks)
      i8_rows<kRows>(d, W, X, Y, blk * kRows);
    else
      for (i64 row = blk * kRows; row < d.m; ++row) i8_rows<1>(d, W, X, Y, row);
}

int nibble(const std::uint8_t* packed, i64 e) {
  const unsigned byte = packed[e / 2];
  return static_cast<int>(((e % 2 == 0) ? (byte & 0xfu) : (byte >> 4)) ^ 8u) - 8;
}

// The workspace of i4: per vector, every full 64-element block of X split into its 32 even
// and 32 odd elements, then per vector the bias 8 * sum(x) over those blocks (int32).
i64 i4_split_bytes(const MvShape& d) { return d.b * (d.k / 64) * 64; }
i64 i4_workspace_bytes(const MvShape& d) { return (i4_split_bytes(d) + 3) / 4 * 4 + d.b * 4; }

// R rows of Y (see half_rows); xs_all is the split input, k64 the elements the vector loop covers.
template <int R>
void i4_rows(const MvShape& d, const std::uint8_t* W, const std::int8_t* X, const std::int8_t* xs_all,
             const std::int32_t* bias, i64 k64, std::int32_t* Y, i64 row0) {
  const __m256i low4 = _mm256_set1_epi8(0x0f), eights = _mm256_set1_epi8(static_cast<char>(0x88)),
                ones = _mm256_set1_epi16(1);
  for (i64 b = 0; b < d.b; ++b) {
    const std::int8_t* xs = xs_all + b * (d.k / 64) * 64;
    // A nibble with its top bit flipped is u = w + 8 (0..15, unsigned), exactly what
    // vpmaddubsw takes against the signed x: sum(u * x) = sum(w * x) + 8 * sum(x), and the
    // second term is subtracted once per vector instead of sign-extending every weight.
    __m256i acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    // int16 partial sums of up to four 64-element blocks (each lane at most 4 * 7680 <
    // 2^15), widened to int32 once per group: fewer vpmaddwd on the critical port.
    for (i64 p0 = 0; p0 < k64; p0 += 256) {
      __m256i part[R];
      for (int r = 0; r < R; ++r) part[r] = _mm256_setzero_si256();
      const i64 p1 = p0 + 256 < k64 ? p0 + 256 : k64;
      for (i64 p = p0; p < p1; p += 64) {
        const __m256i xe = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs + p));
        const __m256i xo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs + p + 32));
        for (int r = 0; r < R; ++r) {
          // One xor flips bit 3 of both nibbles of every byte: u = w + 8 for both halves.
          const __m256i wb = _mm256_xor_si256(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(W + ((row0 + r) * d.k + p) / 2)), eights);
          const __m256i lo = _mm256_and_si256(wb, low4), hi = _mm256_and_si256(_mm256_srli_epi16(wb, 4), low4);
          part[r] =
              _mm256_add_epi16(part[r], _mm256_add_epi16(_mm256_maddubs_epi16(lo, xe), _mm256_maddubs_epi16(hi, xo)));
        }
      }
      for (int r = 0; r < R; ++r) acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(part[r], ones));
    }
    for (int r = 0; r < R; ++r) {
      std::int32_t sum = hsum(acc[r]) - (k64 > 0 ? bias[b] : 0);
      for (i64 p = k64; p < d.k; ++p) sum += nibble(W, (row0 + r) * d.k + p) * X[b * d.k + p];
      Y[b * d.m + row0 + r] = sum;
    }
  }
}

void mv_i4(const MvShape& d, const std::uint8_t* W, const std::int8_t* X, std::int32_t* Y, std::int8_t* split,
           int threads) {
  threads = mv_threads(d, threads);
  // Rows start on a byte only when k is even; an odd k leaves every other row mid-byte, and
  // those rows (rare: real layers have even k) take the scalar path.
  const i64 blocks = d.m / kRows, k64 = d.k % 2 == 0 ? d.k / 64 * 64 : 0;
  std::int32_t* bias = reinterpret_cast<std::int32_t*>(split + (i4_split_bytes(d) + 3) / 4 * 4);
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (i64 b = 0; b < d.b; ++b) {
      std::int32_t sum = 0;
      for (i64 p = 0; p < k64; p += 64)
        for (i64 j = 0; j < 32; ++j) {
          split[b * (d.k / 64) * 64 + p + j] = X[b * d.k + p + 2 * j];
          split[b * (d.k / 64) * 64 + p + 32 + j] = X[b * d.k + p + 2 * j + 1];
          sum += X[b * d.k + p + 2 * j] + X[b * d.k + p + 2 * j + 1];
        }
      bias[b] = 8 * sum;
    }
#pragma omp for schedule(static)
    for (i64 blk = 0; blk <= blocks; ++blk)
      if (blk < blocks)
        i4_rows<kRows>(d, W, X, split, bias, k64, Y, blk * kRows);
      else
        for (i64 row = blk * kRows; row < d.m; ++row) i4_rows<1>(d, W, X, split, bias, k64, Y, row);
  }
}

}  // namespace

void mv_opt_bf16__avx2(const Shape& s, const Operands& io, int threads) {
  const auto& d = *std::get_if<MvShape>(&s.dims);
  mv_half<Bf16>(d, as<std::uint16_t>(io.weights).data(), as<std::uint16_t>(io.input).data(),
                as<float>(io.output).data(), as<float>(io.workspace).data(), threads);
}

void mv_opt_f16__avx2(const Shape& s, const Operands& io, int threads) {
  const auto& d = *std::get_if<MvShape>(&s.dims);
  mv_half<F16>(d, as<std::uint16_t>(io.weights).data(), as<std::uint16_t>(io.input).data(), as<float>(io.output).data(),
               as<float>(io.workspace).data(), threads);
}

std::size_t mv_opt_workspace_half__avx2(const Shape& s, int) {
  const auto& d = *std::get_if<MvShape>(&s.dims);
  return static_cast<std::size_t>(d.b * d.k) * sizeof(float);
}

void mv_opt_i8__avx2(const Shape& s, const Operands& io, int threads) {
  const auto& d = *std::get_if<MvShape>(&s.dims);
  mv_i8(d, as<std::int8_t>(io.weights).data(), as<std::int8_t>(io.input).data(), as<std::int32_t>(io.output).data(),
        threads);
}

void mv_opt_i4__avx2(const Shape& s, const Operands& io, int threads) {
  const auto& d = *std::get_if<MvShape>(&s.dims);
  mv_i4(d, as<std::uint8_t>(io.weights).data(), as<std::int8_t>(io.input).data(), as<std::int32_t>(io.output).data(),
        as<std::int8_t>(io.workspace).data(), threads);
}

std::size_t mv_opt_workspace_i4__avx2(const Shape& s, int) {
  return static_cast<std::size_t>(i4_workspace_bytes(*std::get_if<MvShape>(&s.dims)));
}

}  // namespace roofbench
