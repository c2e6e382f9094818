// Operands for one (shape, dtype, kernel): allocation, deterministic fills and the agreement
// check against the naive reference (ruy's Agree: exact for integers, eps*sqrt(k)*c for floats).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kernels/core/buffer.h"
#include "kernels/registry.h"

namespace roofbench {

struct ProblemBuffers {
  AlignedBuffer input, weights, output, workspace;
  std::shared_ptr<void> plan{};  // the kernel's prepare() result for these buffers (registry.h)
  Operands operands() { return {input.bytes(), weights.bytes(), output.bytes(), workspace.bytes(), plan.get()}; }
  // Runs k's prepare on these buffers (their weights already filled); call it after
  // set_library_threads(threads) and before k.run, outside any timing.
  void prepare(const Kernel& k, const Shape& s, int threads) { plan = k.make_plan(s, operands(), threads); }
};

// Allocates the operands of s at d (plus k's workspace) and fills input and weights with
// deterministic values seeded by seed (fill_operand).
ProblemBuffers make_buffers(const Shape& s, DType d, const Kernel& k, int threads, std::uint64_t seed = 42);

// Floats (f64, f32, and bf16/f16 rounded from f32) uniform in [-1, 1]; i8, and i4's int8
// activations, integers in [-8, 7] so that no int32 sum overflows; i4 weights random nibbles.
void fill_operand(DType d, bool weights, std::span<std::byte> buf, std::uint64_t seed);

struct Agreement {
  bool ok = true;
  double max_err = 0, tol = 0;
  std::int64_t worst = -1;  // index of the worst element
  std::string message() const;
};

// Compares outputs elementwise; reduction is the number of terms summed per output.
Agreement agree(DType d, std::span<const std::byte> got, std::span<const std::byte> ref, std::int64_t reduction);

// Above this many ops, the check compares a leading slice of the output (check_slice): naive
// on a whole 20000^3 GEMM would run for hours before a single timing.
inline constexpr std::int64_t kCheckMaxOps = 20'000'000'000;

// The problem whose naive output the check compares: s itself up to max_ops; beyond, a leading
// slice of at most about max_ops (at least one row or filter) whose operands are prefixes of
// s's (fill_operand draws each buffer as one stream, so the first elements do not depend on
// its length) and whose output is a prefix of s's: the first rows of an mv's first vector or
// of a gemm, the first filters (within whole groups past one group) of a conv2d's first image.
// The kernel under test still runs on all of s.
Shape check_slice(const Shape& s, std::int64_t max_ops = kCheckMaxOps);

// The naive reference's output for s at d on make_buffers' deterministic inputs.
AlignedBuffer naive_output(const Shape& s, DType d, int threads);
// Runs k on those same inputs (after its prepare, if any) and compares with expected (from
// naive_output of s or of check_slice(s): the leading elements of the output are compared).
// Throws what prepare throws when the kernel cannot be built.
Agreement check_against(const Kernel& k, const Shape& s, int threads, std::span<const std::byte> expected);
// Both in one, on check_slice(s): for a single check.
Agreement check_against_naive(const Kernel& k, const Shape& s, int threads);

}  // namespace roofbench
