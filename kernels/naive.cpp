// naive: the textbook loops, straight from the definitions. They are the correctness
// reference for every other kernel, so they stay obviously right: no blocking, no tricks.
// The outermost loop is split across threads so naive rows at 2 threads are comparable.
//
// One template per op, over an operand type Io that reads an input or weight element as the
// accumulator type and writes an output element (docs/kernels.md, "Data types"): f64 and f32 compute
// in themselves; bf16 and f16 widen to f32 and accumulate and write f32; i8 and i4 (weights
// two per byte) accumulate and write int32.
#include "kernels/core/buffer.h"
#include "kernels/kernels.h"
#include "kernels/lowp.h"

namespace roofbench {
namespace {

template <class T>
struct Plain {  // f64, f32: every operand of type T
  using Acc = T;
  const T* in;
  const T* w;
  explicit Plain(const Operands& io) : in(as<T>(io.input).data()), w(as<T>(io.weights).data()) {}
  Acc input(std::int64_t i) const { return in[i]; }
  Acc weight(std::int64_t i) const { return w[i]; }
};

template <class T>
struct Half {  // bf16, f16: 16-bit inputs and weights, f32 accumulation and output
  using Acc = float;
  const T* in;
  const T* w;
  explicit Half(const Operands& io) : in(as<T>(io.input).data()), w(as<T>(io.weights).data()) {}
  Acc input(std::int64_t i) const { return to_float(in[i]); }
  Acc weight(std::int64_t i) const { return to_float(w[i]); }
};

struct Int8 {  // i8: int8 inputs and weights, int32 accumulation and output
  using Acc = std::int32_t;
  const std::int8_t* in;
  const std::int8_t* w;
  explicit Int8(const Operands& io) : in(as<std::int8_t>(io.input).data()), w(as<std::int8_t>(io.weights).data()) {}
  Acc input(std::int64_t i) const { return in[i]; }
  Acc weight(std::int64_t i) const { return w[i]; }
};

struct Int4 {  // i4: int8 inputs, weights packed two per byte, int32 accumulation and output
  using Acc = std::int32_t;
  const std::int8_t* in;
  std::span<const std::byte> w;
  explicit Int4(const Operands& io) : in(as<std::int8_t>(io.input).data()), w(io.weights) {}
  Acc input(std::int64_t i) const { return in[i]; }
  Acc weight(std::int64_t i) const { return unpack_i4(w, i); }
};

template <class Io>
void mv(const Shape& s, const Operands& io, int threads) {
  using Acc = typename Io::Acc;
  const auto& d = std::get<MvShape>(s.dims);
  const Io x(io);
  Acc* Y = as<Acc>(io.output).data();
#pragma omp parallel for num_threads(threads) collapse(2)
  for (std::int64_t b = 0; b < d.b; ++b)
    for (std::int64_t i = 0; i < d.m; ++i) {
      Acc acc = 0;
      for (std::int64_t p = 0; p < d.k; ++p) acc += x.weight(i * d.k + p) * x.input(b * d.k + p);
      Y[b * d.m + i] = acc;
    }
}

template <class Io>
void gemm(const Shape& s, const Operands& io, int threads) {
  using Acc = typename Io::Acc;
  const auto& d = std::get<GemmShape>(s.dims);
  const Io x(io);
  Acc* C = as<Acc>(io.output).data();
  // i-p-j order: the textbook loop for row-major B (unit stride in the inner loop), so the
  // reference stays fast enough to check 2048^3 before timing.
#pragma omp parallel for num_threads(threads)
  for (std::int64_t i = 0; i < d.m; ++i) {
    Acc* c = C + i * d.n;
    for (std::int64_t j = 0; j < d.n; ++j) c[j] = Acc(0);
    for (std::int64_t p = 0; p < d.k; ++p) {
      const Acc a = x.input(i * d.k + p);
      for (std::int64_t j = 0; j < d.n; ++j) c[j] += a * x.weight(p * d.n + j);
    }
  }
}

template <class Io>
void conv2d(const Shape& s, const Operands& io, int threads) {
  using Acc = typename Io::Acc;
  const auto& d = std::get<ConvShape>(s.dims);
  const Io x(io);
  Acc* out = as<Acc>(io.output).data();
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
              for (std::int64_t t = 0; t < d.s; ++t) {
                const std::int64_t ih = p * d.stride - d.pad + r, iw = q * d.stride - d.pad + t;
                if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) continue;
                acc += x.input(((n * d.c + group * cg + c) * d.h + ih) * d.w + iw) *
                       x.weight(((k * cg + c) * d.r + r) * d.s + t);
              }
          out[((n * d.k + k) * P + p) * Q + q] = acc;
        }
    }
}

}  // namespace

void mv_naive_f64(const Shape& s, const Operands& io, int t) { mv<Plain<double>>(s, io, t); }
void mv_naive_f32(const Shape& s, const Operands& io, int t) { mv<Plain<float>>(s, io, t); }
void mv_naive_bf16(const Shape& s, const Operands& io, int t) { mv<Half<bf16>>(s, io, t); }
void mv_naive_f16(const Shape& s, const Operands& io, int t) { mv<Half<f16>>(s, io, t); }
void mv_naive_i8(const Shape& s, const Operands& io, int t) { mv<Int8>(s, io, t); }
void mv_naive_i4(const Shape& s, const Operands& io, int t) { mv<Int4>(s, io, t); }
void gemm_naive_f64(const Shape& s, const Operands& io, int t) { gemm<Plain<double>>(s, io, t); }
void gemm_naive_f32(const Shape& s, const Operands& io, int t) { gemm<Plain<float>>(s, io, t); }
void gemm_naive_bf16(const Shape& s, const Operands& io, int t) { gemm<Half<bf16>>(s, io, t); }
void gemm_naive_f16(const Shape& s, const Operands& io, int t) { gemm<Half<f16>>(s, io, t); }
void gemm_naive_i8(const Shape& s, const Operands& io, int t) { gemm<Int8>(s, io, t); }
void gemm_naive_i4(const Shape& s, const Operands& io, int t) { gemm<Int4>(s, io, t); }
void conv2d_naive_f64(const Shape& s, const Operands& io, int t) { conv2d<Plain<double>>(s, io, t); }
void conv2d_naive_f32(const Shape& s, const Operands& io, int t) { conv2d<Plain<float>>(s, io, t); }
void conv2d_naive_bf16(const Shape& s, const Operands& io, int t) { conv2d<Half<bf16>>(s, io, t); }
void conv2d_naive_f16(const Shape& s, const Operands& io, int t) { conv2d<Half<f16>>(s, io, t); }
void conv2d_naive_i8(const Shape& s, const Operands& io, int t) { conv2d<Int8>(s, io, t); }
void conv2d_naive_i4(const Shape& s, const Operands& io, int t) { conv2d<Int4>(s, io, t); }

}  // namespace roofbench
