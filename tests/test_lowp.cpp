// The low-precision formats (kernels/lowp.h) and the naive references of bf16, f16, i8 and i4
// against a double-precision computation on the same decoded inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/core/shape_file.h"
#include "kernels/check.h"
#include "kernels/core/cost.h"
#include "kernels/lowp.h"

namespace {

using namespace roofbench;

// Every 16-bit pattern of T that is not a NaN converts to float and back (by to) unchanged.
template <class T, class To>
void expect_every_value_round_trips(To to) {
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const T v{static_cast<std::uint16_t>(b)};
    if (!std::isnan(to_float(v))) {
      EXPECT_EQ(to(to_float(v)).bits, v.bits) << b;
    }
  }
}

TEST(Bf16, ConvertsWithRoundToNearestEven) {
  EXPECT_EQ(to_bf16(1.0f).bits, 0x3f80);
  EXPECT_EQ(to_bf16(-2.0f).bits, 0xc000);
  EXPECT_EQ(to_float(bf16{0x3f80}), 1.0f);
  // 1 + 2^-8 lies half way between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(to_bf16(1.0f + 0x1p-8f).bits, 0x3f80);
  // 1 + 3*2^-8 lies half way between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6.
  EXPECT_EQ(to_bf16(1.0f + 3 * 0x1p-8f).bits, 0x3f82);
  EXPECT_EQ(to_bf16(1.0f + 0x1p-8f + 0x1p-20f).bits, 0x3f81);  // just above half: up
  EXPECT_TRUE(std::isnan(to_float(to_bf16(NAN))));
  expect_every_value_round_trips<bf16>([](float x) { return to_bf16(x); });
}

TEST(F16, ConvertsWithRoundToNearestEvenIncludingSubnormalsAndOverflow) {
  EXPECT_EQ(to_f16(1.0f).bits, 0x3c00);
  EXPECT_EQ(to_f16(-2.5f).bits, 0xc100);
  EXPECT_EQ(to_f16(65504.0f).bits, 0x7bff);            // the largest f16
  EXPECT_EQ(to_f16(65519.0f).bits, 0x7bff);            // below the half way point to 65536
  EXPECT_EQ(to_f16(65520.0f).bits, 0x7c00);            // the tie goes to the even 65536: infinity
  EXPECT_EQ(to_f16(0x1p-24f).bits, 0x0001);            // the smallest subnormal
  EXPECT_EQ(to_f16(0x1p-25f).bits, 0x0000);            // tie between 0 and 2^-24: even is 0
  EXPECT_EQ(to_f16(3 * 0x1p-25f).bits, 0x0002);        // tie between 1 and 2 units: even is 2
  EXPECT_EQ(to_f16(0x1p-14f).bits, 0x0400);            // the smallest normal
  EXPECT_EQ(to_f16(1023.5f * 0x1p-24f).bits, 0x0400);  // rounds up from the subnormals into it
  EXPECT_EQ(to_float(f16{0x0001}), 0x1p-24f);
  EXPECT_TRUE(std::isinf(to_float(f16{0x7c00})));
  EXPECT_TRUE(std::isnan(to_float(to_f16(NAN))));
  expect_every_value_round_trips<f16>([](float x) { return to_f16(x); });
}

TEST(I4, PackAndUnpackRoundTripWithoutTouchingTheNeighbour) {
  std::vector<std::byte> buf(4, std::byte{0xa5});
  for (int v = -8; v <= 7; ++v)
    for (int i = 0; i < 8; ++i) {
      const int neighbour = unpack_i4(buf, i ^ 1);
      pack_i4(buf, i, v);
      EXPECT_EQ(unpack_i4(buf, i), v);
      EXPECT_EQ(unpack_i4(buf, i ^ 1), neighbour);
    }
  std::vector<std::byte> one{std::byte{0x8f}};  // low nibble 0xf = -1 (element 0), high 0x8 = -8
  EXPECT_EQ(unpack_i4(one, 0), -1);
  EXPECT_EQ(unpack_i4(one, 1), -8);
}

// The value the naive kernel reads for element i of an operand, as a double.
double decoded(DType d, bool weights, std::span<const std::byte> buf, std::int64_t i) {
  switch (d) {
    case DType::bf16: return to_float(as<bf16>(buf)[static_cast<std::size_t>(i)]);
    case DType::f16: return to_float(as<f16>(buf)[static_cast<std::size_t>(i)]);
    case DType::i8: return as<std::int8_t>(buf)[static_cast<std::size_t>(i)];
    case DType::i4: return weights ? unpack_i4(buf, i) : as<std::int8_t>(buf)[static_cast<std::size_t>(i)];
    default: return NAN;
  }
}

// A double-precision reference straight from the definitions, on decoded operands.
std::vector<double> reference(const Shape& s, DType d, ProblemBuffers& b) {
  const auto in = [&](std::int64_t i) { return decoded(d, false, b.input.bytes(), i); };
  const auto w = [&](std::int64_t i) { return decoded(d, true, b.weights.bytes(), i); };
  std::vector<double> out(static_cast<std::size_t>(output_elems(s)));
  if (const auto* m = std::get_if<MvShape>(&s.dims)) {
    for (std::int64_t v = 0; v < m->b; ++v)
      for (std::int64_t i = 0; i < m->m; ++i)
        for (std::int64_t p = 0; p < m->k; ++p) out[v * m->m + i] += w(i * m->k + p) * in(v * m->k + p);
  } else if (const auto* g = std::get_if<GemmShape>(&s.dims)) {
    for (std::int64_t i = 0; i < g->m; ++i)
      for (std::int64_t j = 0; j < g->n; ++j)
        for (std::int64_t p = 0; p < g->k; ++p) out[i * g->n + j] += in(i * g->k + p) * w(p * g->n + j);
  } else {
    const auto& c = std::get<ConvShape>(s.dims);
    const std::int64_t P = c.p(), Q = c.q(), cg = c.c / c.g, kg = c.k / c.g;
    for (std::int64_t n = 0; n < c.n; ++n)
      for (std::int64_t k = 0; k < c.k; ++k)
        for (std::int64_t p = 0; p < P; ++p)
          for (std::int64_t q = 0; q < Q; ++q)
            for (std::int64_t ch = 0; ch < cg; ++ch)
              for (std::int64_t r = 0; r < c.r; ++r)
                for (std::int64_t t = 0; t < c.s; ++t) {
                  const std::int64_t y = p * c.stride - c.pad + r, x = q * c.stride - c.pad + t;
                  if (y < 0 || y >= c.h || x < 0 || x >= c.w) continue;
                  out[((n * c.k + k) * P + p) * Q + q] +=
                      in(((n * c.c + k / kg * cg + ch) * c.h + y) * c.w + x) * w(((k * cg + ch) * c.r + r) * c.s + t);
                }
  }
  return out;
}

class NaiveLowPrecision : public ::testing::TestWithParam<DType> {};

TEST_P(NaiveLowPrecision, MatchesADoubleReferenceOnTheSameDecodedInputs) {
  const DType d = GetParam();
  const bool integer = d == DType::i8 || d == DType::i4;
  for (const char* text :
       {"mv m=37 k=129", "mv m=5 k=33", "gemm m=7 n=19 k=65", "gemm m=1 n=3 k=1",
        "conv2d n=2 c=6 h=9 w=7 k=4 r=3 s=3 stride=2 pad=1 g=2", "conv2d n=1 c=8 h=6 w=6 k=8 r=3 s=3 pad=1 g=8"}) {
    Shape s = parse_shape(text);
    if (std::holds_alternative<MvShape>(s.dims)) s = batched(s, 3);  // three right-hand vectors
    const Kernel* k = select(s.op(), Impl::naive, d);
    ASSERT_NE(k, nullptr) << text;
    ProblemBuffers b = make_buffers(s, d, *k, 2);
    k->run(s, b.operands(), 2);
    const std::vector<double> want = reference(s, d, b);
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double got = integer ? as<std::int32_t>(b.output.bytes())[i] : as<float>(b.output.bytes())[i];
      if (integer)
        ASSERT_EQ(got, want[i]) << text << " element " << i;
      else  // f32 accumulation of exactly representable products: eps(f32) * sqrt(k) scale
        ASSERT_NEAR(got, want[i], 8 * 0x1p-23 * std::sqrt(double(reduction_len(s))) * std::max(1.0, std::abs(want[i])))
            << text << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, NaiveLowPrecision, ::testing::Values(DType::bf16, DType::f16, DType::i8, DType::i4),
                         [](const auto& info) { return std::string(name(info.param)); });

TEST(Fills, IntegerOperandsStayWhereNoSumCanOverflow) {
  std::vector<std::byte> buf(4096);
  fill_operand(DType::i8, false, buf, 7);
  for (std::int8_t v : as<std::int8_t>(std::span<std::byte>(buf))) {
    EXPECT_GE(v, -8);
    EXPECT_LE(v, 7);
  }
  fill_operand(DType::i4, true, buf, 7);
  bool negative = false, positive = false;
  for (std::int64_t i = 0; i < 8192; ++i) {
    negative = negative || unpack_i4(buf, i) < 0;
    positive = positive || unpack_i4(buf, i) > 0;
  }
  EXPECT_TRUE(negative && positive);
}

TEST(Agree, IntegersMustMatchExactly) {
  std::vector<std::int32_t> a{1, 2, 3}, b{1, 2, 4};
  const auto bytes = [](std::vector<std::int32_t>& v) { return std::as_bytes(std::span(v)); };
  EXPECT_TRUE(agree(DType::i8, bytes(a), bytes(a), 1000).ok);
  const Agreement off = agree(DType::i8, bytes(a), bytes(b), 1000);
  EXPECT_FALSE(off.ok);
  EXPECT_EQ(off.worst, 2);
}

}  // namespace
