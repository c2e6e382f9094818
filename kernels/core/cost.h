// The cost model: the one place where MACs, ops, bytes, parameters and activation sizes are
// defined. Every function takes a shape that already has its batch applied (see batched()).
//
// Byte convention (compulsory traffic, as STREAM counts it): every input element and every
// weight is read once and every output element is written once, at the dtype's bit width for
// that operand (dtype.h). Write-allocate reads, re-reads from blocking, im2col buffers and
// workspaces are not counted: they are what an implementation adds, not what the layer needs.
// Every count throws std::overflow_error when a product leaves int64; parse_shape and
// check_size turn that into a ShapeError, so later callers never see a wrapped value.
#pragma once

#include <cstdint>

#include "kernels/core/dtype.h"
#include "kernels/core/shape.h"

namespace roofbench {

std::int64_t macs(const Shape& s);           // mv m*k*b, gemm m*n*k, conv2d n*k*p*q*(c/g)*r*s
std::int64_t ops(const Shape& s);            // 2 * macs: FLOP for floats, OP for integers
std::int64_t params(const Shape& s);         // weight elements: mv m*k, gemm k*n, conv2d k*(c/g)*r*s
std::int64_t input_elems(const Shape& s);    // activations read: mv k*b, gemm m*k, conv2d n*c*h*w
std::int64_t output_elems(const Shape& s);   // activations written: mv m*b, gemm m*n, conv2d n*k*p*q
std::int64_t reduction_len(const Shape& s);  // terms summed per output: k, k, (c/g)*r*s

std::int64_t input_bytes(const Shape& s, DType d);
std::int64_t weight_bytes(const Shape& s, DType d);  // model size of this layer at d
std::int64_t output_bytes(const Shape& s, DType d);
std::int64_t bytes(const Shape& s, DType d);  // input + weights + output: compulsory traffic

// Bytes the three operand buffers occupy (equal to bytes(), kept separate because a
// workspace-aware estimate may grow here without changing the traffic convention).
std::int64_t footprint_bytes(const Shape& s, DType d);

// ops / bytes
double arithmetic_intensity(const Shape& s, DType d);

}  // namespace roofbench
