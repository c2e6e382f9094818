#include "benchmarks/latency.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>

namespace roofbench {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Follows `count` links from p and returns where it stopped. Not inlined, and its result is
// used by the caller, so the compiler can neither drop the loads nor fold the count.
[[gnu::noinline]] const void* chase(const void* p, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) p = *static_cast<const void* const*>(p);
  return p;
}

struct Free {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

std::vector<std::uint32_t> cyclic_permutation(std::uint32_t n, std::uint64_t seed) {
  std::vector<std::uint32_t> next(n);
  for (std::uint32_t i = 0; i < n; ++i) next[i] = i;
  // Sattolo: like Fisher-Yates, but j < i strictly, which makes the result a single n-cycle.
  for (std::uint32_t i = n; i-- > 1;) {
    const auto j = static_cast<std::uint32_t>((static_cast<unsigned __int128>(splitmix64(seed)) * i) >> 64);
    std::swap(next[i], next[j]);
  }
  return next;
}

double chase_ns_per_load(std::int64_t bytes, const ChaseSettings& s) {
  using Clock = std::chrono::steady_clock;
  const std::int64_t slots = std::max<std::int64_t>(2, bytes / kChaseSlotBytes);
  if (slots > std::int64_t{0xffffffff})
    throw std::invalid_argument("latency working set too large for 32-bit slot indices");
  // 2 MiB alignment, so whole huge pages can back the buffer.
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  const std::size_t size = (static_cast<std::size_t>(slots * kChaseSlotBytes) + kHuge - 1) / kHuge * kHuge;
  std::unique_ptr<void, Free> buffer(std::aligned_alloc(kHuge, size));
  if (!buffer) throw std::bad_alloc();
  (void)madvise(buffer.get(), size, MADV_HUGEPAGE);  // a request; refused or ignored is fine
  auto* base = static_cast<std::byte*>(buffer.get());
  const std::vector<std::uint32_t> next = cyclic_permutation(static_cast<std::uint32_t>(slots), 0x726f6f6662656e63ULL);
  for (std::int64_t i = 0; i < slots; ++i)
    *reinterpret_cast<const void**>(base + i * kChaseSlotBytes) = base + std::int64_t{next[i]} * kChaseSlotBytes;

  // Each call continues where the last one stopped, so repetitions walk on along the cycle.
  const void* p = base;
  p = chase(p, slots);  // warm-up: one whole cycle brings a cache-sized set into its cache
  const auto timed = [&](std::int64_t count) {
    const auto t0 = Clock::now();
    p = chase(p, count);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  std::int64_t count = 1024;
  while (timed(count) < s.min_seconds && count < (std::int64_t{1} << 40)) count *= 2;
  double best = 1e300;
  for (int r = 0; r < s.repetitions; ++r) {
    if (s.before_repetition) s.before_repetition();
    best = std::min(best, timed(count) / static_cast<double>(count));
  }
  // p is observable: a chase whose end nobody reads could be removed as dead code.
  if (p == nullptr) throw std::logic_error("pointer chase reached a null slot");
  return best * 1e9;
}

}  // namespace roofbench
