// The shape-file format of design.md ("Shape descriptors"): parsing one descriptor or a whole
// file, the built-in sets, and the size check every parsed shape passes. Apart from shape.h
// because the size check needs the cost model (cost.h), which itself needs the shape types.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/core/shape.h"

namespace roofbench {

Shape parse_shape(std::string_view line);  // one descriptor, no comment

// Parses a whole file (comments and blank lines skipped); errors name source and line.
std::vector<Shape> parse_shapes(std::istream& in, std::string_view source);
// A set is a path to a file, or the name of a file in benchmarks/shapes/ ("resnet50").
std::vector<Shape> load_shapes(std::string_view file_or_set);
std::vector<std::string> builtin_shape_sets();

// Largest padded input or im2col matrix of a conv2d, in elements (see check_size).
inline constexpr double kMaxDerivedElems = 0x1p50;

// Throws ShapeError when a (batched) shape's counts overflow, its conv2d's padded input or
// im2col matrix exceeds kMaxDerivedElems, or its buffers at the widest
// dtype would not fit in this machine's physical memory. parse_shape calls it at batch 1.
void check_size(const Shape& s);

}  // namespace roofbench
