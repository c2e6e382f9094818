// The canary: a short, fixed piece of work timed on every thread around each repetition, so a
// repetition taken while the machine ran slow can be told apart from a slow kernel.
//
// Why it exists (docs/noise.md): on a shared VM the same kernel runs at two or three speeds
// for seconds at a time, with no steal reported and identical buffers; a compute-only spinner
// misses the worst of them. On the Zen 4 guest, conv2d c=128 28x28 (opt f32, 2 threads) ran
// at 0.72-0.83 ms, at 1.04 ms while every core's arithmetic ran ~45% slow, and at 2.0-2.2 ms
// while arithmetic ran at full speed but cache lines passed from one vCPU to the other took
// 3.6x as long (the host had placed the vCPUs apart). So the canary does both, shaped like a
// blocked kernel: each thread chews a block of its own in L2, rewrites part of it, and reads
// the part its neighbour rewrote, with barriers between.
//
// A Canary owns its blocks for its whole life (touched once, never freed while timing goes on),
// so timing it never meets a fresh page.
#pragma once

#include <map>
#include <vector>

#include "kernels/core/buffer.h"

namespace roofbench {

class Canary {
 public:
  // One call: the best (least) of `calls` runs of the canary on `threads` threads, in seconds.
  // Taking the least of a few keeps one interrupt from flagging a repetition; a slow phase
  // lasts seconds and slows all of them.
  double time(int threads, int calls = 3);
  // The least time seen at this thread count, or 0 before the first.
  double best(int threads) const;
  // Takes a least time seen elsewhere (the profile's, from a whole calibration) as a bound on
  // this machine's best, so a process that starts inside a slow phase still knows it.
  void remember(int threads, double seconds);
  const std::map<int, double>& bests() const { return best_; }

 private:
  std::vector<AlignedBuffer> blocks_;  // one per thread, grown on demand
  std::map<int, double> best_;         // per thread count
};

// The canary's bytes per thread: inside every L2 the project has met (512 KiB to 2 MiB), far
// past L1, so each read pass goes to L2 as a blocked kernel's panels do.
inline constexpr std::size_t kCanaryBlockBytes = 192 * 1024;
// The part of it each round rewrites and the neighbouring thread then reads.
inline constexpr std::size_t kCanaryShared = 64 * 1024;

}  // namespace roofbench
