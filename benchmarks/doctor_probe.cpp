#include "benchmarks/doctor.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "benchmarks/canary.h"
#include "benchmarks/interrupt.h"
#include "kernels/core/buffer.h"
#include "kernels/core/cpu.h"
#include "kernels/core/text_file.h"

namespace roofbench {

// The engine of `roofbench doctor`: the probes and the loop of rounds (doctor_verdict.cpp
// turns the rounds into numbers and words).
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU time of every thread of this process, and the wall time it was read at.
struct Usage {
  double cpu_s = 0, wall_s = 0;
};
Usage usage_now() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return {static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec),
          std::chrono::duration<double>(Clock::now().time_since_epoch()).count()};
}

// An anonymous mapping, unmapped on destruction. mmap rather than AlignedBuffer because the
// memory probes need page-granular control: huge pages are only used for whole, aligned 2 MiB
// ranges, so the usable span starts on a 2 MiB boundary inside a slightly larger mapping.
class Mapping {
 public:
  static constexpr std::size_t kHuge = 2u << 20;
  explicit Mapping(std::size_t bytes, std::size_t align = 4096) : size_(bytes) {
    mapped_ = bytes + align;
    void* p = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw std::runtime_error(fmt::format("mmap of {} MiB: {}", mapped_ >> 20, std::strerror(errno)));
    base_ = static_cast<std::byte*>(p);
    const auto addr = reinterpret_cast<std::uintptr_t>(base_);
    data_ = base_ + ((addr + align - 1) / align * align - addr);
  }
  ~Mapping() {
    if (base_ != nullptr) ::munmap(base_, mapped_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  // "" or why the advice was refused (e.g. a kernel without transparent huge pages).
  std::string advise(int advice) {
    return ::madvise(data_, size_, advice) == 0 ? std::string{} : std::string(std::strerror(errno));
  }
  std::span<std::byte> bytes() { return {data_, size_}; }

 private:
  std::byte* base_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t mapped_ = 0, size_ = 0;
};

// ---- 1. /proc/stat ------------------------------------------------------------------------
// user nice system idle iowait irq softirq steal, in ticks; guest time is already in user.
using Ticks = std::array<std::uint64_t, 8>;

std::optional<std::map<int, Ticks>> read_proc_stat(std::string& why) {
  std::ifstream in("/proc/stat");
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::map<int, Ticks> out;
  for (std::string line; std::getline(in, line);) {
    if (line.size() < 4 || !line.starts_with("cpu") || !std::isdigit(static_cast<unsigned char>(line[3]))) continue;
    std::istringstream fields(line.substr(3));
    int cpu = -1;
    Ticks t{};
    fields >> cpu;
    for (auto& f : t) fields >> f;  // older kernels stop early: the rest stay 0
    if (cpu >= 0) out[cpu] = t;
  }
  if (out.empty()) {
    why = "no cpuN lines";
    return std::nullopt;
  }
  return out;
}

void fill_ticks(const std::map<int, Ticks>& a, const std::map<int, Ticks>& b, std::span<const int> cpus,
                std::vector<CpuRound>& out) {
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    const auto ia = a.find(cpus[i]), ib = b.find(cpus[i]);
    if (ia == a.end() || ib == b.end()) continue;
    Ticks d{};
    std::uint64_t total = 0;
    for (std::size_t k = 0; k < d.size(); ++k) {
      d[k] = ib->second[k] >= ia->second[k] ? ib->second[k] - ia->second[k] : 0;
      total += d[k];
    }
    if (total == 0) continue;  // a round shorter than a tick
    const double t = static_cast<double>(total);
    out[i].steal_pct = 100.0 * static_cast<double>(d[7]) / t;
    out[i].busy_pct = 100.0 * static_cast<double>(d[0] + d[1] + d[2] + d[5] + d[6]) / t;
  }
}

// ---- 2. the spinner -----------------------------------------------------------------------
// A dependent chain of scalar multiply-adds: every step waits for the last, and the empty asm
// makes v opaque to the compiler (it must be in an xmm register, as if changed), so the loop is
// neither folded nor vectorised. Its time depends on the core's clock and on nothing else.
double chunk(long iterations) {
  double v = 1.0;
  for (long i = 0; i < iterations; ++i) {
    v = v * 0.999999 + 1e-6;
    asm volatile("" : "+x"(v));
  }
  return v;
}

// Iterations for a ~20 us chunk on this machine, from the fastest of a few timed tries (the
// fastest is the one nothing interrupted).
long calibrate_chunk() {
  constexpr long kTry = 20000;
  double best = 1e9;
  for (int i = 0; i < 20; ++i) {
    const auto t = Clock::now();
    chunk(kTry);
    best = std::min(best, seconds_since(t));
  }
  return std::max(1000L, static_cast<long>(20e-6 / best * kTry));
}

struct SpinResult {
  double chunks_per_s = kNoValue, stall_ms = kNoValue;
  bool pinned = false;
};

// One thread per CPU, pinned, all started together, each timing chunks for `seconds`.
std::vector<SpinResult> spin(std::span<const int> cpus, long iterations, double seconds) {
  std::vector<SpinResult> out(cpus.size());
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<double> sink{0};
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < cpus.size(); ++i)
      threads.emplace_back([&, i] {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpus[i], &set);
        out[i].pinned = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0;
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        const auto start = Clock::now();
        auto last = start;
        double longest = 0, v = 0;
        long chunks = 0;
        while (last - start < std::chrono::duration<double>(seconds)) {
          v += chunk(iterations);
          const auto now = Clock::now();
          longest = std::max(longest, std::chrono::duration<double>(now - last).count());
          last = now;
          ++chunks;
        }
        out[i].chunks_per_s = static_cast<double>(chunks) / std::chrono::duration<double>(last - start).count();
        out[i].stall_ms = 1e3 * longest;
        sink.store(v, std::memory_order_relaxed);  // the chains' results are used
      });
    while (ready.load() < static_cast<int>(cpus.size())) std::this_thread::yield();
    go.store(true, std::memory_order_release);
  }  // jthreads join here
  return out;
}

// ---- 3. the clock -------------------------------------------------------------------------
double to_s(const timespec& t) { return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec); }

struct ClockPair {
  double mono = 0, raw = 0;
};

// MONOTONIC between two RAW reads; a pair whose reads were far apart (the vCPU was taken away
// between them) is read again, or a single 10 ms steal would show as 20000 ppm over 0.5 s.
ClockPair read_clocks() {
  ClockPair best;
  double best_gap = 1e9;
  for (int i = 0; i < 5 && best_gap > 2e-6; ++i) {
    timespec r0, m, r1;
    clock_gettime(CLOCK_MONOTONIC_RAW, &r0);
    clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_MONOTONIC_RAW, &r1);
    const double gap = to_s(r1) - to_s(r0);
    if (gap < best_gap) {
      best_gap = gap;
      best = {to_s(m), 0.5 * (to_s(r0) + to_s(r1))};
    }
  }
  return best;
}

// The cost of one steady_clock::now(), the call every timing in roofbench makes: the least of a
// few batches of 1000.
double clock_read_ns() {
  double best = 1e9;
  for (int b = 0; b < 5; ++b) {
    const auto t = Clock::now();
    Clock::time_point last{};
    for (int i = 0; i < 1000; ++i) last = Clock::now();
    best = std::min(best, std::chrono::duration<double>(last - t).count() / 1000);
  }
  return 1e9 * best;
}

// ---- 5. memory ----------------------------------------------------------------------------
inline constexpr std::size_t kProbeBytes = 64u << 20;
inline constexpr std::size_t kPage = 4096;
inline constexpr int kHops = 20000;

// One pass of reads over the whole buffer, four independent sums (so the adds do not limit it).
std::uint64_t read_pass(std::span<const std::uint64_t> v) {
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
  for (std::size_t i = 0; i + 4 <= v.size(); i += 4) {
    a += v[i];
    b += v[i + 1];
    c += v[i + 2];
    d += v[i + 3];
  }
  return a + b + c + d;
}

// The best of three passes, in GB/s: one interrupt should not make a round slow; a slow phase
// slows all three.
double stream_gbps(std::span<const std::uint64_t> v) {
  double best = 1e9;
  std::uint64_t sum = 0;
  for (int i = 0; i < 3; ++i) {
    const auto t = Clock::now();
    sum += read_pass(v);
    asm volatile("" : : "r"(sum) : "memory");
    best = std::min(best, seconds_since(t));
  }
  return static_cast<double>(v.size_bytes()) / best / 1e9;
}

// A random cycle through every 4 KiB page of the buffer, one hop per page, each landing on a
// random cache line of its page (so the lines spread over the cache's sets): the data fits in
// the caches, the translations do not fit in the TLB, and every hop walks the page tables,
// which in a guest means the guest's and the host's (a 2-D walk).
class PageChase {
 public:
  explicit PageChase(std::span<std::byte> buffer) : base_(buffer.data()), pages_(buffer.size() / kPage) {
    const std::size_t pages = pages_;
    std::vector<std::size_t> order(pages);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(12345);
    // Sattolo's shuffle: one cycle through all pages, so the walk never settles in a short loop.
    for (std::size_t i = pages - 1; i > 0; --i)
      std::swap(order[i], order[std::uniform_int_distribution<std::size_t>(0, i - 1)(rng)]);
    std::vector<std::size_t> offset(pages);
    for (std::size_t p = 0; p < pages; ++p)
      offset[p] = p * kPage + 64 * std::uniform_int_distribution<std::size_t>(0, 63)(rng);
    // order is a cyclic permutation: page p's next is order[p].
    for (std::size_t p = 0; p < pages; ++p) std::memcpy(base_ + offset[p], &offset[order[p]], sizeof(std::size_t));
    at_ = offset[0];
  }
  // ns per hop over kHops dependent hops, continuing where the last walk stopped. One untimed
  // lap over every page first brings the hops' lines (1 MiB) back into the caches the stream
  // read flushed, so the timed hops cost translations, not DRAM reads.
  double walk() {
    std::size_t at = at_;
    for (std::size_t i = 0; i < pages_; ++i) {
      std::memcpy(&at, base_ + at, sizeof at);
      asm volatile("" : "+r"(at));
    }
    const auto t = Clock::now();
    for (int i = 0; i < kHops; ++i) {
      std::memcpy(&at, base_ + at, sizeof at);
      asm volatile("" : "+r"(at));
    }
    const double s = seconds_since(t);
    at_ = at;
    return 1e9 * s / kHops;
  }

 private:
  std::byte* base_;
  std::size_t pages_;
  std::size_t at_ = 0;
};

// ---- the churn ----------------------------------------------------------------------------
// Allocate, touch one byte per page (the kernel then backs each), free: GB/s of the touch.
double churn(double gib) {
  const auto bytes = static_cast<std::size_t>(gib * double(1ull << 30)) / kPage * kPage;
  Mapping m(bytes);
  std::span<std::byte> b = m.bytes();
  const auto t = Clock::now();
  for (std::size_t i = 0; i < b.size(); i += kPage) b[i] = std::byte{1};
  asm volatile("" : : "r"(b.data()) : "memory");  // the writes happen before the time is read
  const double s = seconds_since(t);
  return static_cast<double>(bytes) / s / 1e9;
}  // munmap here: the memory goes back to the guest kernel, which may report it to the host

// Sleeps until t, in short steps, so a Ctrl-C is seen within 50 ms.
void sleep_until(Clock::time_point t) {
  while (!interrupted() && Clock::now() < t)
    std::this_thread::sleep_for(std::min<Clock::duration>(t - Clock::now(), std::chrono::milliseconds(50)));
}

}  // namespace

std::vector<int> probe_cpus() {
  std::vector<int> out;
  if (const char* list = std::getenv("ROOFBENCH_AFFINITY")) {
    std::stringstream in(list);
    for (std::string c; std::getline(in, c, ',');)
      if (!c.empty()) out.push_back(std::atoi(c.c_str()));
  }
  if (out.empty())
    for (int c = 0; c < cpu().logical_cpus; ++c) out.push_back(c);
  return out;
}

namespace {

constexpr double kSpinS = 0.1;

// The memory probes' buffers: allocated and touched once, before any round, and kept until the
// end, so no round meets a fresh page; only the churn hands memory back.
struct MemoryProbes {
  Mapping stream_buf{kProbeBytes, Mapping::kHuge}, chase_buf{kProbeBytes, Mapping::kHuge};
  std::span<std::uint64_t> stream_words;
  std::optional<PageChase> chase;

  MemoryProbes() {
    if (std::string why = stream_buf.advise(MADV_HUGEPAGE); !why.empty())
      fmt::print(stderr, "roofbench doctor: madvise(MADV_HUGEPAGE) refused ({}): the stream reads 4 KiB pages\n", why);
    if (std::string why = chase_buf.advise(MADV_NOHUGEPAGE); !why.empty())
      fmt::print(stderr, "roofbench doctor: madvise(MADV_NOHUGEPAGE) refused ({}): the TLB walk may meet huge pages\n",
                 why);
    stream_words = as<std::uint64_t>(stream_buf.bytes());
    std::iota(stream_words.begin(), stream_words.end(), std::uint64_t{0});
    std::ranges::fill(chase_buf.bytes(), std::byte{0});
    chase.emplace(chase_buf.bytes());
  }
};

// /proc/stat and this process's CPU time, read together at each round's end so both cover the
// same interval.
struct TickReader {
  std::string why;
  std::optional<std::map<int, Ticks>> stat = read_proc_stat(why);
  Usage used = usage_now();

  TickReader() {
    if (!stat) fmt::print(stderr, "roofbench doctor: /proc/stat unreadable ({}): no steal or busy figures\n", why);
  }
  void fill(Round& round, std::span<const int> cpu_ids) {
    if (!stat) return;
    std::optional<std::map<int, Ticks>> next = read_proc_stat(why);
    const Usage now = usage_now();
    if (next) fill_ticks(*stat, *next, cpu_ids, round.cpu);
    round.own_busy_pct = 100 * (now.cpu_s - used.cpu_s) / ((now.wall_s - used.wall_s) * double(cpu_ids.size()));
    stat = std::move(next);
    used = now;
    if (!stat) fmt::print(stderr, "roofbench doctor: /proc/stat unreadable ({}): no more steal figures\n", why);
  }
  // Starts the next interval afresh: the next delta would otherwise count the churn's seconds.
  void restart() {
    if (!stat) return;
    stat = read_proc_stat(why);
    used = usage_now();
  }
};

void spin_round(Round& round, std::span<const int> cpu_ids, long iterations, bool& pin_reported) {
  const std::vector<SpinResult> spun = spin(cpu_ids, iterations, kSpinS);
  for (std::size_t i = 0; i < spun.size(); ++i) {
    round.cpu[i].chunks_per_s = spun[i].chunks_per_s;
    round.cpu[i].stall_ms = spun[i].stall_ms;
    if (!spun[i].pinned && !pin_reported) {
      fmt::print(stderr, "roofbench doctor: cannot pin a spinner to CPU {}: spinners run unpinned\n", cpu_ids[i]);
      pin_reported = true;
    }
  }
}

Clock::duration after(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

Rounds probe(const DoctorOptions& options) {
  DoctorOptions o = options;
  if (o.threads == 0) o.threads = cpu().logical_cpus;
  Rounds r;
  r.cpu_ids = probe_cpus();
  r.churn_gib = o.churn_gib;
  MemoryProbes memory;
  Canary canary;
  canary.time(o.threads);  // its blocks are touched here, not in the first round
  const long iterations = calibrate_chunk();
  TickReader ticks;
  bool pin_reported = false;

  const auto t0 = Clock::now();
  const auto deadline = t0 + after(o.seconds);
  const auto churn_at = t0 + after(o.seconds / 2);
  bool churn_pending = o.churn_gib > 0, after_churn = false;
  double next_progress = 10;
  // A round starts while at least half a round is left (and the first one always).
  while (!interrupted() &&
         (r.rounds.empty() || deadline - Clock::now() >= std::chrono::duration<double>(kRoundS / 2))) {
    const auto start = Clock::now();
    Round round;
    round.start_s = std::chrono::duration<double>(start - t0).count();
    round.after_churn = after_churn;
    round.cpu.resize(r.cpu_ids.size());
    const ClockPair c0 = read_clocks();
    spin_round(round, r.cpu_ids, iterations, pin_reported);
    round.canary_ms = 1e3 * canary.time(o.threads);
    round.stream_gbps = stream_gbps(memory.stream_words);
    round.tlb_ns_per_hop = memory.chase->walk();
    round.clock_read_ns = clock_read_ns();
    sleep_until(std::min(start + after(kRoundS), deadline));
    const ClockPair c1 = read_clocks();
    round.drift_ppm = 1e6 * ((c1.mono - c0.mono) / (c1.raw - c0.raw) - 1);
    ticks.fill(round, r.cpu_ids);
    round.end_s = seconds_since(t0);
    const double end_s = round.end_s;
    r.rounds.push_back(std::move(round));

    if (end_s >= next_progress) {
      fmt::print(stderr, "roofbench doctor: {:.0f} of {:g} s, {} rounds\n", end_s, o.seconds, r.rounds.size());
      next_progress += 10;
    }
    if (churn_pending && Clock::now() >= churn_at && !interrupted()) {
      churn_pending = false;
      r.churn_touch_gbps = churn(o.churn_gib);
      r.churn_end_s = seconds_since(t0);
      after_churn = true;
      fmt::print(stderr, "roofbench doctor: churn at {:.1f} s: {:g} GiB touched at {:.2f} GB/s and freed\n",
                 r.churn_end_s, o.churn_gib, r.churn_touch_gbps);
      ticks.restart();
    }
  }
  return r;
}

}  // namespace roofbench
