// blas: the OpenBLAS peer. mv is cblas_?gemv at one vector and cblas_?gemm beyond; conv2d is
// im2col into the workspace followed by one ?gemm per sample and group, im2col time included.
#include <cblas.h>

#include "kernels/core/buffer.h"
#include "kernels/im2col.h"
#include "kernels/kernels.h"

namespace roofbench {
namespace {

void gemv(const float* a, const float* x, float* y, std::int64_t m, std::int64_t k) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, a, k, x, 1, 0.0f, y, 1);
}
void gemv(const double* a, const double* x, double* y, std::int64_t m, std::int64_t k) {
  cblas_dgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0, a, k, x, 1, 0.0, y, 1);
}

// Row-major C[m,n] = op(A)[m,k] B[k,n], B optionally transposed.
void gemm(bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
          const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c,
              ldc);
}
void gemm(bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const double* a, std::int64_t lda,
          const double* b, std::int64_t ldb, double* c, std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb, 0.0, c,
              ldc);
}

template <class T>
void mv(const Shape& s, const Operands& io, int) {
  const auto& d = std::get<MvShape>(s.dims);
  const T* W = as<T>(io.weights).data();
  const T* X = as<T>(io.input).data();
  T* Y = as<T>(io.output).data();
  if (d.b == 1) return gemv(W, X, Y, d.m, d.k);
  // Y[b][m] = X[b][k] W^T: the weights are read once for all b vectors.
  gemm(true, d.b, d.m, d.k, X, d.k, W, d.k, Y, d.m);
}

template <class T>
void gemm_op(const Shape& s, const Operands& io, int) {
  const auto& d = std::get<GemmShape>(s.dims);
  gemm(false, d.m, d.n, d.k, as<T>(io.input).data(), d.k, as<T>(io.weights).data(), d.n, as<T>(io.output).data(), d.n);
}

template <class T>
std::size_t conv_workspace(const Shape& s, int) {
  const auto& d = std::get<ConvShape>(s.dims);
  if (im2col_is_identity(d)) return 0;
  return static_cast<std::size_t>((d.c / d.g) * d.r * d.s * d.p() * d.q()) * sizeof(T);
}

template <class T>
void conv2d(const Shape& s, const Operands& io, int threads) {
  const auto& d = std::get<ConvShape>(s.dims);
  const T* in = as<T>(io.input).data();
  const T* wt = as<T>(io.weights).data();
  T* out = as<T>(io.output).data();
  T* col = as<T>(io.workspace).data();
  const std::int64_t cg = d.c / d.g, kg = d.k / d.g, pq = d.p() * d.q(), crs = cg * d.r * d.s;
  for (std::int64_t n = 0; n < d.n; ++n)
    for (std::int64_t g = 0; g < d.g; ++g) {
      const T* sample = in + n * d.c * d.h * d.w;
      const T* b = sample + g * cg * d.h * d.w;
      if (!im2col_is_identity(d)) {
        im2col(d, sample, g * cg, cg, col, threads);
        b = col;
      }
      gemm(false, kg, pq, crs, wt + g * kg * crs, crs, b, pq, out + (n * d.k + g * kg) * pq, pq);
    }
}

}  // namespace

void mv_blas_f64(const Shape& s, const Operands& io, int t) { mv<double>(s, io, t); }
void mv_blas_f32(const Shape& s, const Operands& io, int t) { mv<float>(s, io, t); }
void gemm_blas_f64(const Shape& s, const Operands& io, int t) { gemm_op<double>(s, io, t); }
void gemm_blas_f32(const Shape& s, const Operands& io, int t) { gemm_op<float>(s, io, t); }
void conv2d_blas_f64(const Shape& s, const Operands& io, int t) { conv2d<double>(s, io, t); }
void conv2d_blas_f32(const Shape& s, const Operands& io, int t) { conv2d<float>(s, io, t); }
std::size_t conv2d_blas_workspace_f64(const Shape& s, int t) { return conv_workspace<double>(s, t); }
std::size_t conv2d_blas_workspace_f32(const Shape& s, int t) { return conv_workspace<float>(s, t); }

}  // namespace roofbench
