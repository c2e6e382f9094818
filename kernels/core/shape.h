// Shape descriptors: the contract of design.md ("Shape descriptors"). One line per shape,
//   mv m=.. k=..   gemm m=.. n=.. k=..   conv2d n= c= h= w= k= r= s= [stride= pad= g=]
// plus the labels name=model:layer and repeat=N. Batch is applied later with batched().
#pragma once

#include <cstdint>
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace roofbench {

enum class Op { mv, gemm, conv2d };
std::string_view name(Op op);

// Y[m,b] = W[m,k] X[k,b]; b (right-hand vectors) is the batch, never a file key.
struct MvShape {
  std::int64_t m = 0, k = 0, b = 1;
  bool operator==(const MvShape&) const = default;
};

// C[m,n] = A[m,k] B[k,n]; A holds activations (rows are tokens or samples), B the weights.
struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
  bool operator==(const GemmShape&) const = default;
};

// NCHW input, KCRS weights (C/g input channels per group), NKPQ output.
struct ConvShape {
  std::int64_t n = 0, c = 0, h = 0, w = 0, k = 0, r = 0, s = 0;
  std::int64_t stride = 1, pad = 0, g = 1;
  std::int64_t p() const { return (h + 2 * pad - r) / stride + 1; }
  std::int64_t q() const { return (w + 2 * pad - s) / stride + 1; }
  bool operator==(const ConvShape&) const = default;
};

struct Shape {
  std::variant<MvShape, GemmShape, ConvShape> dims;
  std::string name;         // optional label, e.g. resnet50:layer1.0.conv2
  std::int64_t repeat = 1;  // how often the layer occurs in its model
  Op op() const { return static_cast<Op>(dims.index()); }
  bool operator==(const Shape&) const = default;
};

// Thrown for every malformed descriptor; what() is a one-line message. Files prefix it with
// "file:line: ".
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Largest value a single key may take: keeps every product of three dimensions in int64 and
// rejects typos like k=40960000000 before any arithmetic.
inline constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;

std::string to_string(const Shape& s);  // canonical form; parse_shape(to_string(s)) == s

// The shape that batch B runs: conv2d n <- B*n, gemm m <- B*m, mv b <- B.
Shape batched(const Shape& s, std::int64_t batch);

}  // namespace roofbench
