// The kernel registry: one table that benchmarks, tests and the predictor iterate.
// A kernel is (op, impl, dtype, variant); several variants of one (op, impl, dtype) differ in
// the ISA they need, and select() picks the first one this CPU can run (the table lists the
// widest ISA first).
//
// Operand layouts (row-major, dense, shapes after batched()):
//   mv     weights W[m][k]            input X[b][k]         output Y[b][m]
//   gemm   weights B[k][n]            input A[m][k]         output C[m][n]
//   conv2d weights [k][c/g][r][s]     input [n][c][h][w]    output [n][k][p][q]
// Kernels overwrite the output (no accumulation into it).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/core/cpu.h"
#include "kernels/core/dtype.h"
#include "kernels/core/shape.h"

namespace roofbench {

enum class Impl { naive, opt, blas, onednn };
inline constexpr Impl kAllImpls[] = {Impl::naive, Impl::opt, Impl::blas, Impl::onednn};
std::string_view name(Impl impl);
std::optional<Impl> parse_impl(std::string_view s);
std::optional<Op> parse_op(std::string_view s);

struct Operands {
  std::span<const std::byte> input;
  std::span<const std::byte> weights;
  std::span<std::byte> output;
  std::span<std::byte> workspace;  // workspace_bytes() of the kernel, allocated by the caller
  const void* plan = nullptr;      // what the kernel's prepare() returned for these operands, if it has one
};

// threads is the caller's choice and the most a kernel uses: OpenMP regions and the BLAS library
// run that many, except that opt (like OpenBLAS) runs problems too small to pay for a fork and
// join on fewer (opt/config.inc, useful_threads).
using KernelFn = void (*)(const Shape& s, const Operands& io, int threads);
using WorkspaceFn = std::size_t (*)(const Shape& s, int threads);
// Library backends (onednn) must create a primitive for the exact shape and reorder the weights
// into the layout it wants before they can run. That one-off cost says nothing about the
// kernel's speed (a framework pays it once per model load), so it is split out of run: callers
// call prepare once per (shape, operands, threads), outside any timed region, and pass what it
// returns as Operands::plan to every run on those operands. The plan may hold a copy of the
// weights (reordered), so it belongs to those operands; set_library_threads(threads) must come
// first, since a library may fix its thread count at creation. prepare throws
// KernelUnavailable (one line) when the library has no fast, exact implementation of this shape
// on this CPU (a skip, like a missing ISA), std::runtime_error for any other failure.
// Kernels without it (prepare == nullptr) take Operands::plan == nullptr.
using PrepareFn = std::shared_ptr<void> (*)(const Shape& s, const Operands& io, int threads);

// What an opt GEMM's prepare returns: its weights (B) packed once into the micro-kernel's
// panels, as oneDNN reorders its weights in prepare and as XNNPACK packs them at operator
// creation (a framework pays it once per model load). A plain struct, read by the ISA code
// without calling any inline function (CMakeLists.txt: no weak symbols in ISA objects).
struct PackedWeights {
  const std::byte* data = nullptr;
};
using PackBytesFn = std::size_t (*)(const Shape& s);
using PackFn = void (*)(const Shape& s, const Operands& io, std::byte* dst);
// Allocates bytes(s) (64-byte aligned), lets pack fill it from io.weights, and returns it as a
// PackedWeights plan (registry.cpp).
std::shared_ptr<void> prepack_weights(const Shape& s, const Operands& io, PackBytesFn bytes, PackFn pack);
template <PackBytesFn bytes, PackFn pack>
std::shared_ptr<void> opt_prepare(const Shape& s, const Operands& io, int) {
  return prepack_weights(s, io, bytes, pack);
}

// A kernel that exists and passes its ISA check but cannot run this particular shape well here:
// a library offering only its reference loops or an inexact implementation, or refusing the
// shape. Callers skip the row with the reason, as they skip a kernel whose ISA is missing; it is
// not a failure of the kernel.
struct KernelUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What one call of a kernel computes, as its own blocking does it (opt): the predictor
// charges compute time to the busiest thread, so a partial register tile costs a whole one and
// three equal tasks on two threads take two waves, not one and a half (predictor/roofline.h).
struct Work {
  double busiest_macs = 0;  // multiply-adds of the busiest thread, tile padding included
  int threads = 1;          // threads the call uses (opt runs tiny problems on fewer)
  double regions = 0;       // parallel regions and barriers it passes (0 on one thread)
  // Elements the busiest thread packs into panels per call (A blocks, and B where it is not
  // prepacked: a conv2d's implicit im2col gather): a pass of its own before the micro-kernel
  // reads them, so its time adds to the compute, not hidden under it.
  double packed = 0;
};
using WorkFn = Work (*)(const Shape& s, int threads);

struct Kernel {
  Op op;
  Impl impl;
  DType dtype;
  std::string_view variant;  // what it computes __ how, e.g. gemm_f32_6x16__avx2_fma
  Isa isa;                   // what the CPU must support
  KernelFn run;
  WorkspaceFn workspace = nullptr;  // nullptr: needs none
  PrepareFn prepare = nullptr;      // nullptr: runs straight from the operands
  WorkFn work = nullptr;            // nullptr: the predictor knows only the op's MACs (libraries)

  std::size_t workspace_bytes(const Shape& s, int threads) const { return workspace ? workspace(s, threads) : 0; }
  // prepare(s, io, threads), or an empty plan for kernels without one.
  std::shared_ptr<void> make_plan(const Shape& s, const Operands& io, int threads) const {
    return prepare ? prepare(s, io, threads) : nullptr;
  }
  bool runnable() const { return cpu().has(isa); }
  std::string skip_reason() const;  // empty when runnable
};

std::span<const Kernel> registry();

// The variant of (op, impl, dtype) this CPU runs, or nullptr when none can run (or none exists).
const Kernel* select(Op op, Impl impl, DType dtype);
// Why select() found nothing: "no such kernel" or the ISA the variants need.
std::string why_not(Op op, Impl impl, DType dtype);

// Must be called before timing a threads count: OpenBLAS keeps its own thread count, so
// OpenMP and OpenBLAS are set together here and nowhere else.
void set_library_threads(int threads);

}  // namespace roofbench
