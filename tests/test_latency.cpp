// The pointer chase behind calibrate's latency figures: its permutation must be one cycle over
// every slot (a chase stuck in a shorter loop would measure a smaller cache than the one it is
// labelled with), reproducible from its seed, and the chase must time something plausible.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "benchmarks/latency.h"

namespace {

// Steps from slot 0 until back at 0; every slot must be met exactly once on the way.
std::uint64_t cycle_length(const std::vector<std::uint32_t>& next, bool& every_slot_once) {
  std::vector<bool> seen(next.size(), false);
  std::uint64_t steps = 0;
  std::uint32_t i = 0;
  every_slot_once = true;
  do {
    if (i >= next.size() || seen[i]) {
      every_slot_once = false;
      return steps;
    }
    seen[i] = true;
    i = next[i];
    ++steps;
  } while (i != 0 && steps <= next.size());
  return steps;
}

}  // namespace

TEST(Latency, ThePermutationIsOneCycleOverEverySlot) {
  for (std::uint32_t n : {2u, 3u, 7u, 64u, 1000u, 4096u, 1u << 18}) {
    for (std::uint64_t seed : {0ull, 1ull, 0x726f6f6662656e63ull}) {
      const std::vector<std::uint32_t> next = roofbench::cyclic_permutation(n, seed);
      ASSERT_EQ(next.size(), n);
      bool once = false;
      EXPECT_EQ(cycle_length(next, once), n) << "n=" << n << " seed=" << seed;
      EXPECT_TRUE(once) << "n=" << n << " seed=" << seed;
      for (std::uint32_t i = 0; i < n; ++i) ASSERT_NE(next[i], i) << "a slot pointing at itself: n=" << n;
    }
  }
}

TEST(Latency, ThePermutationIsFixedBySeedAndNotSequential) {
  const auto a = roofbench::cyclic_permutation(4096, 42), b = roofbench::cyclic_permutation(4096, 42);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, roofbench::cyclic_permutation(4096, 43));
  // A prefetcher follows constant strides: in a random order almost no step is to the next slot.
  int sequential = 0;
  for (std::uint32_t i = 0; i < a.size(); ++i) sequential += a[i] == (i + 1) % a.size();
  EXPECT_LT(sequential, 10);
}

TEST(Latency, AChaseInL1TakesAFewNanosecondsPerLoad) {
  // Half of a 32 KiB L1d: any core of this century answers in a few ns (a DRAM miss takes 50 or
  // more; 50 leaves room for a sanitizer's checks and a busy machine), and none answers a
  // dependent load in less than a cycle (0.1 ns at 10 GHz): faster means the loads overlapped.
  const double ns = roofbench::chase_ns_per_load(16384, {.min_seconds = 0.002, .repetitions = 5});
  EXPECT_TRUE(std::isfinite(ns));
  EXPECT_GT(ns, 0.1);
  EXPECT_LT(ns, 50.0);
}
