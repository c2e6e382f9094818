#include "benchmarks/canary.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <span>
#include <utility>

namespace roofbench {
namespace {

// Eight independent multiply-add chains over the block, four passes: loads and arithmetic in
// the proportion of a blocked kernel's inner loop, in portable code (the canary must mean the
// same on every CPU, not run as fast as each can).
float chew(std::span<const float> block) {
  float acc[8] = {};
  for (int pass = 0; pass < 4; ++pass)
    for (std::size_t i = 0; i + 8 <= block.size(); i += 8)
      for (int l = 0; l < 8; ++l) acc[l] = acc[l] * 0.999f + block[i + l];
  float sum = 0;
  for (float a : acc) sum += a;
  return sum;
}

}  // namespace

double Canary::time(int threads, int calls) {
  threads = std::max(1, threads);
  while (std::ssize(blocks_) < threads) {
    AlignedBuffer b(kCanaryBlockBytes);
    std::span<float> f = as<float>(b.bytes());
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = 1e-3f * static_cast<float>(i % 7);
    blocks_.push_back(std::move(b));
  }
  std::vector<float> sink(static_cast<std::size_t>(threads));
  double least = std::numeric_limits<double>::infinity();
  for (int c = 0; c < std::max(1, calls); ++c) {
    const auto start = std::chrono::steady_clock::now();
    // Eight rounds. In each, every thread reads its block with multiply-adds and rewrites the
    // first part of it; after a barrier it reads the part its neighbour just wrote, so those
    // cache lines move from core to core as a kernel's shared packed panels do; then a barrier
    // again. A thread that runs slow holds up the others, as inside an OpenMP kernel.
#pragma omp parallel num_threads(threads)
    {
      const auto me = static_cast<std::size_t>(omp_get_thread_num());
      const std::span<float> mine = as<float>(blocks_[me].bytes());
      const std::span<const float> theirs =
          as<float>(std::as_const(blocks_[(me + 1) % static_cast<std::size_t>(threads)]).bytes());
      float s = 0;
      for (int round = 0; round < 8; ++round) {
        s += chew(mine);
        for (std::size_t i = 0; i < kCanaryShared / sizeof(float); ++i) mine[i] = mine[i] * 0.5f + 1.0f;
#pragma omp barrier
        for (std::size_t i = 0; i < kCanaryShared / sizeof(float); i += 16) s += theirs[i];
#pragma omp barrier
      }
      sink[me] = s;
    }
    least = std::min(least, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  // The sums are used, so the compiler keeps the work.
  if (std::all_of(sink.begin(), sink.end(), [](float s) { return s == -1.0f; })) least += 1e-12;
  double& b = best_[threads];
  if (b == 0 || least < b) b = least;
  return least;
}

void Canary::remember(int threads, double seconds) {
  if (!(seconds > 0)) return;
  double& b = best_[std::max(1, threads)];
  if (b == 0 || seconds < b) b = seconds;
}

double Canary::best(int threads) const {
  const auto it = best_.find(std::max(1, threads));
  return it == best_.end() ? 0 : it->second;
}

}  // namespace roofbench
