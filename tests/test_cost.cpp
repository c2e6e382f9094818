// The cost model (kernels/core/cost.h) against values worked out by hand. The arithmetic is in the
// comments so a reader can check each number without running anything.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/core/shape_file.h"
#include "kernels/core/cost.h"
#include "kernels/core/dtype.h"
#include "kernels/core/shape.h"

namespace roofbench {
namespace {

using i64 = std::int64_t;

// Every count the cost model gives for one shape, to compare in one place.
struct Counts {
  i64 macs, params, input, output, reduction;
};

void expect_counts(const Shape& s, const Counts& c) {
  SCOPED_TRACE(to_string(s));
  EXPECT_EQ(macs(s), c.macs);
  EXPECT_EQ(ops(s), 2 * c.macs);  // 1 MAC = 2 FLOP (or 2 OP)
  EXPECT_EQ(params(s), c.params);
  EXPECT_EQ(input_elems(s), c.input);
  EXPECT_EQ(output_elems(s), c.output);
  EXPECT_EQ(reduction_len(s), c.reduction);
}

// A conv2d shape: its output height and width, its counts (as expect_counts) and its f32 bytes.
Shape expect_conv(const std::string& text, i64 p, i64 q, const Counts& c, i64 f32_bytes) {
  const Shape s = parse_shape(text);
  const auto& d = std::get<ConvShape>(s.dims);
  EXPECT_EQ(d.p(), p);
  EXPECT_EQ(d.q(), q);
  expect_counts(s, c);
  EXPECT_EQ(bytes(s, DType::f32), f32_bytes);
  return s;
}

// ---- mv -----------------------------------------------------------------------------------

TEST(Cost, MvLlamaDecode) {
  const Shape s = parse_shape("mv m=4096 k=11008");
  // MACs = m*k = 4096*11008 = 45,088,768 (one vector)
  // params = m*k = 45,088,768; input = k = 11,008; output = m = 4,096; reduction = k = 11,008
  expect_counts(s, {45'088'768, 45'088'768, 11'008, 4'096, 11'008});
  // f32: 4 * (4096*11008 + 11008 + 4096) = 4 * 45,103,872 = 180,415,488
  EXPECT_EQ(bytes(s, DType::f32), 180'415'488);
  EXPECT_EQ(weight_bytes(s, DType::f32), 4 * 45'088'768);
  EXPECT_EQ(input_bytes(s, DType::f32), 4 * 11'008);
  EXPECT_EQ(output_bytes(s, DType::f32), 4 * 4'096);
  // AI = 2*45,088,768 / 180,415,488 = 90,177,536 / 180,415,488 ~ 0.4998 FLOP/byte: memory-bound
  EXPECT_DOUBLE_EQ(arithmetic_intensity(s, DType::f32), 90'177'536.0 / 180'415'488.0);
  EXPECT_NEAR(arithmetic_intensity(s, DType::f32), 0.5, 1e-3);
}

TEST(Cost, MvLlamaDecodeBatch8) {
  const Shape s = batched(parse_shape("mv m=4096 k=11008"), 8);
  // MACs = m*k*b = 45,088,768*8 = 360,710,144; the weights are not multiplied by b
  // input = k*b = 88,064; output = m*b = 32,768
  expect_counts(s, {360'710'144, 45'088'768, 88'064, 32'768, 11'008});
  // f32: 4 * (45,088,768 + 88,064 + 32,768) = 4 * 45,209,600 = 180,838,400
  EXPECT_EQ(bytes(s, DType::f32), 180'838'400);
  // AI = 721,420,288 / 180,838,400 ~ 3.989: batching raises intensity ~8x
  EXPECT_DOUBLE_EQ(arithmetic_intensity(s, DType::f32), 721'420'288.0 / 180'838'400.0);
}

TEST(Cost, MvPerDtype) {
  const Shape s = parse_shape("mv m=4096 k=11008");
  // f64: 8 * 45,103,872 = 360,830,976
  EXPECT_EQ(bytes(s, DType::f64), 360'830'976);
  // bf16/f16: inputs and weights 16-bit, output f32:
  //   2*11,008 + 2*45,088,768 + 4*4,096 = 22,016 + 90,177,536 + 16,384 = 90,215,936
  EXPECT_EQ(bytes(s, DType::bf16), 90'215'936);
  EXPECT_EQ(bytes(s, DType::f16), 90'215'936);
  EXPECT_EQ(output_bytes(s, DType::bf16), 4 * 4'096);
  // i8: 1*11,008 + 1*45,088,768 + 4*4,096 (int32 output) = 45,116,160
  EXPECT_EQ(bytes(s, DType::i8), 45'116'160);
  EXPECT_EQ(output_bytes(s, DType::i8), 16'384);
  // i4: int8 activations 11,008 + weights 45,088,768/2 = 22,544,384 + int32 output 16,384 = 22,571,776
  EXPECT_EQ(weight_bytes(s, DType::i4), 22'544'384);
  EXPECT_EQ(input_bytes(s, DType::i4), 11'008);
  EXPECT_EQ(bytes(s, DType::i4), 22'571'776);
  // ops do not depend on the dtype; model size (weight bytes) halves with each halving of bits
  EXPECT_EQ(weight_bytes(s, DType::f64), 2 * weight_bytes(s, DType::f32));
  EXPECT_EQ(weight_bytes(s, DType::f32), 2 * weight_bytes(s, DType::bf16));
  EXPECT_EQ(weight_bytes(s, DType::bf16), 2 * weight_bytes(s, DType::i8));
  EXPECT_EQ(weight_bytes(s, DType::i8), 2 * weight_bytes(s, DType::i4));
}

TEST(Cost, I4PacksTwoWeightsPerByteRoundedUp) {
  // mv m=3 k=5: 15 weights * 4 bits = 60 bits = 7.5 bytes -> 8
  const Shape mv = parse_shape("mv m=3 k=5");
  EXPECT_EQ(params(mv), 15);
  EXPECT_EQ(weight_bytes(mv, DType::i4), 8);
  // total i4: input 5 (int8) + weights 8 + output 3*4 = 12 (int32) = 25
  EXPECT_EQ(bytes(mv, DType::i4), 25);
  // conv2d k=1 c=3 r=3 s=3: 27 weights * 4 bits = 108 bits = 13.5 bytes -> 14
  const Shape conv = parse_shape("conv2d n=1 c=3 h=8 w=8 k=1 r=3 s=3");
  EXPECT_EQ(params(conv), 27);
  EXPECT_EQ(weight_bytes(conv, DType::i4), 14);
  // a single weight is one (half-used) byte
  EXPECT_EQ(weight_bytes(parse_shape("mv m=1 k=1"), DType::i4), 1);
  // even counts are exact: 16 weights -> 8 bytes
  EXPECT_EQ(weight_bytes(parse_shape("mv m=4 k=4"), DType::i4), 8);
}

// ---- gemm ---------------------------------------------------------------------------------

TEST(Cost, GemmBertFfn) {
  const Shape s = parse_shape("gemm m=197 n=768 k=3072");
  // MACs = 197*768*3072 = 197*2,359,296 = 464,781,312
  // params = k*n = 3072*768 = 2,359,296; input = m*k = 197*3072 = 605,184
  // output = m*n = 197*768 = 151,296; reduction = k = 3072
  expect_counts(s, {464'781'312, 2'359'296, 605'184, 151'296, 3'072});
  // f32: 4 * (605,184 + 2,359,296 + 151,296) = 4 * 3,115,776 = 12,463,104
  EXPECT_EQ(bytes(s, DType::f32), 12'463'104);
  // f64: 8 * 3,115,776 = 24,926,208
  EXPECT_EQ(bytes(s, DType::f64), 24'926'208);
  // bf16/f16: 2*605,184 + 2*2,359,296 + 4*151,296 = 1,210,368 + 4,718,592 + 605,184 = 6,534,144
  EXPECT_EQ(bytes(s, DType::bf16), 6'534'144);
  EXPECT_EQ(bytes(s, DType::f16), 6'534'144);
  // i8: 605,184 + 2,359,296 + 4*151,296 = 3,569,664
  EXPECT_EQ(bytes(s, DType::i8), 3'569'664);
  // i4: 605,184 + 2,359,296/2 + 605,184 = 605,184 + 1,179,648 + 605,184 = 2,390,016
  EXPECT_EQ(bytes(s, DType::i4), 2'390'016);
  // AI f32 = 929,562,624 / 12,463,104 ~ 74.58 FLOP/byte
  EXPECT_DOUBLE_EQ(arithmetic_intensity(s, DType::f32), 929'562'624.0 / 12'463'104.0);
  EXPECT_NEAR(arithmetic_intensity(s, DType::f32), 74.585, 1e-3);
  // AI i8 = 929,562,624 / 3,569,664 ~ 260.4 OP/byte
  EXPECT_DOUBLE_EQ(arithmetic_intensity(s, DType::i8), 929'562'624.0 / 3'569'664.0);
}

TEST(Cost, GemmBatchScalesRowsNotWeights) {
  const Shape s = batched(parse_shape("gemm m=197 n=768 k=3072"), 3);
  // m = 591: MACs = 3*464,781,312 = 1,394,343,936; params unchanged 2,359,296
  // input = 591*3072 = 1,815,552; output = 591*768 = 453,888
  expect_counts(s, {1'394'343'936, 2'359'296, 1'815'552, 453'888, 3'072});
  // f32: 4 * (1,815,552 + 2,359,296 + 453,888) = 4 * 4,628,736 = 18,514,944
  EXPECT_EQ(bytes(s, DType::f32), 18'514'944);
}

// ---- conv2d -------------------------------------------------------------------------------

TEST(Cost, Conv3x3Pad1) {
  // P = (56 + 2*1 - 3)/1 + 1 = 56, Q = 56
  // MACs = n*k*p*q*(c/g)*r*s = 1*64*56*56*64*3*3 = 64*3136*576 = 115,605,504
  // params = k*(c/g)*r*s = 64*64*9 = 36,864; input = 64*56*56 = 200,704
  // output = 64*56*56 = 200,704; reduction = 64*9 = 576
  // f32: 4 * (200,704 + 36,864 + 200,704) = 4 * 438,272 = 1,753,088
  const Shape s = expect_conv("conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3 stride=1 pad=1", 56, 56,
                              {115'605'504, 36'864, 200'704, 200'704, 576}, 1'753'088);
  // AI = 231,211,008 / 1,753,088 ~ 131.9
  EXPECT_DOUBLE_EQ(arithmetic_intensity(s, DType::f32), 231'211'008.0 / 1'753'088.0);
}

TEST(Cost, ConvResNetStemStrided) {
  // P = (224 + 6 - 7)/2 + 1 = 223/2 + 1 = 111 + 1 = 112 (integer division)
  // MACs = 64*112*112*3*7*7 = 64*12,544*147 = 118,013,952
  // params = 64*3*49 = 9,408; input = 3*224*224 = 150,528; output = 64*112*112 = 802,816
  // reduction = 3*49 = 147
  // f32: 4 * (150,528 + 9,408 + 802,816) = 4 * 962,752 = 3,851,008
  const Shape s = expect_conv("conv2d n=1 c=3 h=224 w=224 k=64 r=7 s=7 stride=2 pad=3", 112, 112,
                              {118'013'952, 9'408, 150'528, 802'816, 147}, 3'851'008);
  // i8: 150,528 + 9,408 + 4*802,816 = 150,528 + 9,408 + 3,211,264 = 3,371,200
  EXPECT_EQ(bytes(s, DType::i8), 3'371'200);
}

TEST(Cost, ConvDepthwise) {
  const Shape s = parse_shape("conv2d n=1 c=32 h=112 w=112 k=32 r=3 s=3 stride=1 pad=1 g=32");
  // P = Q = (112 + 2 - 3)/1 + 1 = 112; c/g = 1
  // MACs = 1*32*112*112*1*9 = 32*12,544*9 = 3,612,672
  // params = 32*1*9 = 288; input = output = 32*12,544 = 401,408; reduction = 1*9 = 9
  expect_counts(s, {3'612'672, 288, 401'408, 401'408, 9});
  // f32: 4 * (401,408 + 288 + 401,408) = 4 * 803,104 = 3,212,416
  EXPECT_EQ(bytes(s, DType::f32), 3'212'416);
  // AI = 7,225,344 / 3,212,416 ~ 2.25: depthwise is memory-bound
  EXPECT_DOUBLE_EQ(arithmetic_intensity(s, DType::f32), 7'225'344.0 / 3'212'416.0);
}

TEST(Cost, ConvDepthwiseStride2) {
  const Shape s = parse_shape("conv2d n=1 c=96 h=112 w=112 k=96 r=3 s=3 stride=2 pad=1 g=96");
  // P = (112 + 2 - 3)/2 + 1 = 111/2 + 1 = 56; MACs = 96*56*56*9 = 96*3136*9 = 2,709,504
  // params = 96*9 = 864; input = 96*12,544 = 1,204,224; output = 96*3136 = 301,056
  expect_counts(s, {2'709'504, 864, 1'204'224, 301'056, 9});
}

TEST(Cost, ConvGroupedAndChannelMultiplier) {
  // g=2, c=8, k=16: c/g = 4; P = Q = (10 + 2 - 3) + 1 = 10
  // MACs = 16*10*10*4*9 = 57,600; params = 16*4*9 = 576; input = 8*100 = 800
  // output = 16*100 = 1,600; reduction = 4*9 = 36
  expect_counts(parse_shape("conv2d n=1 c=8 h=10 w=10 k=16 r=3 s=3 pad=1 g=2"), {57'600, 576, 800, 1'600, 36});
  // depthwise with multiplier 2: c=16, k=32, g=16 -> c/g = 1; P = Q = 10
  // MACs = 32*100*1*9 = 28,800; params = 32*9 = 288; input = 1,600; output = 3,200; reduction 9
  expect_counts(parse_shape("conv2d n=1 c=16 h=10 w=10 k=32 r=3 s=3 pad=1 g=16"), {28'800, 288, 1'600, 3'200, 9});
}

TEST(Cost, ConvNonSquareFilterAndBatch) {
  // r=5, s=3, pad=2: P = (9 + 4 - 5) + 1 = 9, Q = (7 + 4 - 3) + 1 = 9
  // n=2 batched by 3 -> n=6: MACs = 6*4*9*9*2*5*3 = 6*4*81*30 = 58,320
  // params = 4*2*15 = 120; input = 6*2*9*7 = 756; output = 6*4*81 = 1,944; reduction = 2*15 = 30
  const Shape s = batched(parse_shape("conv2d n=2 c=2 h=9 w=7 k=4 r=5 s=3 pad=2"), 3);
  expect_counts(s, {58'320, 120, 756, 1'944, 30});
  // f64: 8 * (756 + 120 + 1,944) = 8 * 2,820 = 22,560
  EXPECT_EQ(bytes(s, DType::f64), 22'560);
}

// ---- invariants over every built-in shape -------------------------------------------------

TEST(Cost, InvariantsOverBuiltinSets) {
  for (const std::string& set : builtin_shape_sets())
    for (const Shape& s : load_shapes(set))
      for (DType d : kAllDTypes) {
        SCOPED_TRACE(set + ": " + to_string(s));
        EXPECT_EQ(ops(s), 2 * macs(s));
        EXPECT_EQ(bytes(s, d), input_bytes(s, d) + weight_bytes(s, d) + output_bytes(s, d));
        EXPECT_EQ(footprint_bytes(s, d), bytes(s, d));
        EXPECT_DOUBLE_EQ(arithmetic_intensity(s, d), double(ops(s)) / double(bytes(s, d)));
        // MACs = outputs * terms per output, for every op
        EXPECT_EQ(macs(s), output_elems(s) * reduction_len(s));
        EXPECT_GT(bytes(s, d), 0);
      }
}

TEST(Cost, OverflowIsAnErrorNotAWrap) {
  constexpr i64 big = i64{1} << 31;
  const Shape gemm{GemmShape{big, big, big}, "", 1};  // 2^93 MACs
  EXPECT_THROW(macs(gemm), std::overflow_error);
  EXPECT_THROW(ops(gemm), std::overflow_error);
  const Shape conv{ConvShape{big, big, big, big, big, 1, 1}, "", 1};
  EXPECT_THROW(input_elems(conv), std::overflow_error);
  EXPECT_THROW(bytes(conv, DType::f32), std::overflow_error);
  // 2^62 elements fit, their bits at 64 per element do not
  const Shape mv{MvShape{1, i64{1} << 31, i64{1} << 31}, "", 1};
  EXPECT_EQ(input_elems(mv), i64{1} << 62);
  EXPECT_THROW(input_bytes(mv, DType::f64), std::overflow_error);
}

// ---- whole models -------------------------------------------------------------------------

double model_macs(const std::string& set) {
  double total = 0;
  for (const Shape& s : load_shapes(set)) total += double(macs(s)) * double(s.repeat);
  return total;
}

TEST(Cost, ResNet50IsAbout4GMacs) {
  const double total = model_macs("resnet50");  // published: ~4.1 GMACs at 224x224
  EXPECT_GE(total, 4.0e9);
  EXPECT_LE(total, 4.2e9);
}

TEST(Cost, MobileNetV2IsAbout300MMacs) {
  const double total = model_macs("mobilenetv2");  // published: ~300 MMACs at 224x224
  EXPECT_GE(total, 2.9e8);
  EXPECT_LE(total, 3.1e8);
}

}  // namespace
}  // namespace roofbench
