// measure_jobs' handling of operands across rounds (benchmarks/measure.cpp, Buffers), with a
// kernel that only records which operands it was handed.
#include <gtest/gtest.h>

#include <set>

#include "kernels/core/shape_file.h"
#include "benchmarks/measure.h"
#include "kernels/registry.h"
#include "kernels/core/shape.h"

namespace roofbench {
namespace {

std::set<const std::byte*>& weights_seen() {
  static std::set<const std::byte*> seen;
  return seen;
}

void record_weights(const Shape&, const Operands& io, int) { weights_seen().insert(io.weights.data()); }

// Some rows' speed follows where their operands landed in physical memory, and one process
// stays in one placement (docs/noise.md): every round of a row therefore gets operands of its
// own, allocated while the previous round's are still held, so two rounds cannot share pages.
TEST(Measure, EachRoundTimesARowOnOperandsOfItsOwn) {
  weights_seen().clear();
  const Kernel recorder{Op::gemm, Impl::naive, DType::f32, "recorder", Isa::none, record_weights};
  Job job{.kernel = &recorder, .run = parse_shape("gemm m=8 n=8 k=8"), .threads = 1, .name = "recorder"};
  Job* jobs[] = {&job};
  // Ten kept repetitions before a row may stop (protocol.h), so two rounds at least; a round
  // adds five repetitions or more (more when some were rejected), so at most seconds / 5 rounds.
  measure_jobs(jobs, {.repetitions = 5, .max_repetitions = 15, .min_time = 0.002, .console = false});
  const std::size_t most_rounds = job.seconds.size() / 5;
  ASSERT_GE(most_rounds, 2u);
  EXPECT_GE(weights_seen().size(), 2u);
  EXPECT_LE(weights_seen().size(), most_rounds);
}

}  // namespace
}  // namespace roofbench
