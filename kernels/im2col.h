// im2col: lowers one sample and group of a conv2d to the [c*r*s][p*q] matrix a GEMM reads.
#pragma once

#include <cstdint>

#include "kernels/core/shape.h"

namespace roofbench {

// One im2col row segment: dst[j] = in[ih][q0*stride - pad + s + j*stride] for output row p and
// columns q0..q0+len, zero where the tap falls into the padding. in is one input channel.
template <class T>
inline void im2col_segment(const ConvShape& d, const T* in, std::int64_t r, std::int64_t s, std::int64_t p,
                           std::int64_t q0, std::int64_t len, T* dst) {
  const std::int64_t ih = p * d.stride - d.pad + r;
  if (ih < 0 || ih >= d.h) {
    for (std::int64_t j = 0; j < len; ++j) dst[j] = T(0);
    return;
  }
  const T* row = in + ih * d.w;
  const std::int64_t iw0 = q0 * d.stride - d.pad + s;
  if (d.stride == 1 && iw0 >= 0 && iw0 + len <= d.w) {
    for (std::int64_t j = 0; j < len; ++j) dst[j] = row[iw0 + j];
    return;
  }
  for (std::int64_t j = 0; j < len; ++j) {
    const std::int64_t iw = iw0 + j * d.stride;
    dst[j] = (iw >= 0 && iw < d.w) ? row[iw] : T(0);
  }
}

// The full matrix for channels [c0, c0+cg) of one sample: col[(c*r + r)*s + s][p*q].
template <class T>
void im2col(const ConvShape& d, const T* in_sample, std::int64_t c0, std::int64_t cg, T* col, int threads) {
  const std::int64_t P = d.p(), Q = d.q(), rows = cg * d.r * d.s;
#pragma omp parallel for num_threads(threads)
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t c = row / (d.r * d.s), r = row / d.s % d.r, s = row % d.s;
    const T* in = in_sample + (c0 + c) * d.h * d.w;
    for (std::int64_t p = 0; p < P; ++p) im2col_segment(d, in, r, s, p, 0, Q, col + row * P * Q + p * Q);
  }
}

// A 1x1, stride-1, unpadded conv reads its input as the GEMM matrix directly.
inline bool im2col_is_identity(const ConvShape& d) { return d.r == 1 && d.s == 1 && d.stride == 1 && d.pad == 0; }

}  // namespace roofbench
