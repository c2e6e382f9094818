// naive: the textbook loops, straight from the definitions. They are the correctness
// reference for every other kernel, so they stay obviously right: no blocking, no tricks.
// The outermost loop is split across threads so naive rows at 2 threads are comparable.
#include "kernels/buffer.h"
#include "kernels/kernels.h"

namespace roofbench {
namespace {

template <class T, class Acc = T>
void mv(const Shape& s, const Operands& io, int threads) {
  const auto& d = std::get<MvShape>(s.dims);
  const T* W = as<T>(io.weights).data();
  const T* X = as<T>(io.input).data();
  T* Y = as<T>(io.output).data();
#pragma omp parallel for num_threads(threads) collapse(2)
  for (std::int64_t b = 0; b < d.b; ++b)
    for (std::int64_t i = 0; i < d.m; ++i) {
      Acc acc = 0;
      for (std::int64_t p = 0; p < d.k; ++p) acc += Acc(W[i * d.k + p]) * Acc(X[b * d.k + p]);
      Y[b * d.m + i] = T(acc);
    }
}

template <class T>
void gemm(const Shape& s, const Operands& io, int threads) {
  const auto& d = std::get<GemmShape>(s.dims);
  const T* A = as<T>(io.input).data();
  const T* B = as<T>(io.weights).data();
  T* C = as<T>(io.output).data();
  // i-p-j order: the textbook loop for row-major B (unit stride in the inner loop), so the
  // reference stays fast enough to check 2048^3 before timing.
#pragma omp parallel for num_threads(threads)
  for (std::int64_t i = 0; i < d.m; ++i) {
    T* c = C + i * d.n;
    for (std::int64_t j = 0; j < d.n; ++j) c[j] = T(0);
    for (std::int64_t p = 0; p < d.k; ++p) {
      const T a = A[i * d.k + p];
      const T* b = B + p * d.n;
      for (std::int64_t j = 0; j < d.n; ++j) c[j] += a * b[j];
    }
  }
}

template <class T, class Acc = T>
void conv2d(const Shape& s, const Operands& io, int threads) {
  const auto& d = std::get<ConvShape>(s.dims);
  const T* in = as<T>(io.input).data();
  const T* wt = as<T>(io.weights).data();
  T* out = as<T>(io.output).data();
  const std::int64_t P = d.p(), Q = d.q(), cg = d.c / d.g, kg = d.k / d.g;
#pragma omp parallel for num_threads(threads) collapse(2)
  for (std::int64_t n = 0; n < d.n; ++n)
    for (std::int64_t k = 0; k < d.k; ++k) {
      const std::int64_t group = k / kg;
      for (std::int64_t p = 0; p < P; ++p)
        for (std::int64_t q = 0; q < Q; ++q) {
          Acc acc = 0;
          for (std::int64_t c = 0; c < cg; ++c)
            for (std::int64_t r = 0; r < d.r; ++r)
              for (std::int64_t x = 0; x < d.s; ++x) {
                const std::int64_t ih = p * d.stride - d.pad + r, iw = q * d.stride - d.pad + x;
                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
                const T v = in[((n * d.c + group * cg + c) * d.h + ih) * d.w + iw];
                acc += Acc(v) * Acc(wt[((k * cg + c) * d.r + r) * d.s + x]);
              }
          out[((n * d.k + k) * P + p) * Q + q] = T(acc);
        }
    }
}

}  // namespace

void mv_naive_f64(const Shape& s, const Operands& io, int t) { mv<double>(s, io, t); }
void mv_naive_f32(const Shape& s, const Operands& io, int t) { mv<float>(s, io, t); }
void gemm_naive_f64(const Shape& s, const Operands& io, int t) { gemm<double>(s, io, t); }
void gemm_naive_f32(const Shape& s, const Operands& io, int t) { gemm<float>(s, io, t); }
void conv2d_naive_f64(const Shape& s, const Operands& io, int t) { conv2d<double>(s, io, t); }
void conv2d_naive_f32(const Shape& s, const Operands& io, int t) { conv2d<float>(s, io, t); }

}  // namespace roofbench
